package io.iovalab.spi;

/** A device configuration that cannot be used; the message names the key and the reason. */
public class DeviceConfigException extends Exception {
    public DeviceConfigException(String message) {
        super(message);
    }

    public DeviceConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
