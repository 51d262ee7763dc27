package io.iovalab.recording;

import java.io.IOException;

/** A recording file that cannot be read: not one, a newer version, cut short, or damaged. */
public final class RecordingException extends IOException {
    public RecordingException(String message) {
        super(message);
    }
}
