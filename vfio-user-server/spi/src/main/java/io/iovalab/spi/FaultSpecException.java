package io.iovalab.spi;

/** A fault spec the device cannot arm; the message names the kind, the key and the reason. */
public class FaultSpecException extends Exception {
    public FaultSpecException(String message) {
        super(message);
    }
}
