package io.iovalab.recording;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A whole recording as read back: its header and its records in file order. The format is
 * described in RECORDING.md next to this file.
 */
public record Recording(RecordingHeader header, List<Entry> entries) {
    static final byte[] MAGIC = "IOVAREC\n".getBytes(StandardCharsets.US_ASCII);
    public static final int VERSION = 1;

    static final int CLIENT_FRAME = 1;
    static final int SERVER_FRAME = 2;
    static final int GUEST_READ = 3;
    static final int TRACE = 4;
    static final int END = 5;
}
