package io.iovalab.nvme;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Completion status values: (Status Code Type << 8) | Status Code, and their names as the NVMe
 * base specification spells them (for traces and for {@code fail-command:status=NAME}).
 */
final class Status {
    static final int SUCCESS = 0x000;
    static final int INVALID_OPCODE = 0x001;
    static final int INVALID_FIELD = 0x002;
    static final int DATA_TRANSFER_ERROR = 0x004;
    static final int INTERNAL_ERROR = 0x006;
    static final int ABORT_REQUESTED = 0x007;
    static final int INVALID_NAMESPACE = 0x00b;
    static final int INVALID_SGL_SEGMENT_DESCRIPTOR = 0x00d;
    static final int INVALID_NUMBER_OF_SGL_DESCRIPTORS = 0x00e;
    static final int DATA_SGL_LENGTH_INVALID = 0x00f;
    static final int SGL_DESCRIPTOR_TYPE_INVALID = 0x011;
    static final int INVALID_PRP_OFFSET = 0x013;
    static final int COMMAND_ABORTED_SQ_DELETION = 0x008;
    static final int LBA_OUT_OF_RANGE = 0x080;
    static final int CAPACITY_EXCEEDED = 0x081;
    static final int NAMESPACE_NOT_READY = 0x082;
    // command specific (SCT 1)
    static final int COMPLETION_QUEUE_INVALID = 0x100;
    static final int INVALID_QUEUE_IDENTIFIER = 0x101;
    static final int INVALID_QUEUE_SIZE = 0x102;
    static final int ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED = 0x105;
    static final int INVALID_INTERRUPT_VECTOR = 0x108;
    static final int INVALID_LOG_PAGE = 0x109;
    static final int INVALID_FORMAT = 0x10a;
    static final int INVALID_QUEUE_DELETION = 0x10c;
    static final int FEATURE_NOT_SAVEABLE = 0x10d;
    // media and data integrity (SCT 2)
    static final int WRITE_FAULT = 0x280;
    static final int UNRECOVERED_READ_ERROR = 0x281;
    static final int COMPARE_FAILURE = 0x285;
    static final int ACCESS_DENIED = 0x286;

    /** Do Not Retry: the same command would fail again. */
    static final int DNR = 0x4000;

    private static final Map<Integer, String> NAMES = new LinkedHashMap<>();

    static {
        NAMES.put(SUCCESS, "Successful Completion");
        NAMES.put(INVALID_OPCODE, "Invalid Command Opcode");
        NAMES.put(INVALID_FIELD, "Invalid Field in Command");
        NAMES.put(DATA_TRANSFER_ERROR, "Data Transfer Error");
        NAMES.put(INTERNAL_ERROR, "Internal Error");
        NAMES.put(ABORT_REQUESTED, "Command Abort Requested");
        NAMES.put(COMMAND_ABORTED_SQ_DELETION, "Command Aborted due to SQ Deletion");
        NAMES.put(INVALID_NAMESPACE, "Invalid Namespace or Format");
        NAMES.put(INVALID_SGL_SEGMENT_DESCRIPTOR, "Invalid SGL Segment Descriptor");
        NAMES.put(INVALID_NUMBER_OF_SGL_DESCRIPTORS, "Invalid Number of SGL Descriptors");
        NAMES.put(DATA_SGL_LENGTH_INVALID, "Data SGL Length Invalid");
        NAMES.put(SGL_DESCRIPTOR_TYPE_INVALID, "SGL Descriptor Type Invalid");
        NAMES.put(INVALID_PRP_OFFSET, "PRP Offset Invalid");
        NAMES.put(LBA_OUT_OF_RANGE, "LBA Out of Range");
        NAMES.put(CAPACITY_EXCEEDED, "Capacity Exceeded");
        NAMES.put(NAMESPACE_NOT_READY, "Namespace Not Ready");
        NAMES.put(COMPLETION_QUEUE_INVALID, "Completion Queue Invalid");
        NAMES.put(INVALID_QUEUE_IDENTIFIER, "Invalid Queue Identifier");
        NAMES.put(INVALID_QUEUE_SIZE, "Invalid Queue Size");
        NAMES.put(ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED, "Asynchronous Event Request Limit Exceeded");
        NAMES.put(INVALID_INTERRUPT_VECTOR, "Invalid Interrupt Vector");
        NAMES.put(INVALID_LOG_PAGE, "Invalid Log Page");
        NAMES.put(INVALID_FORMAT, "Invalid Format");
        NAMES.put(INVALID_QUEUE_DELETION, "Invalid Queue Deletion");
        NAMES.put(FEATURE_NOT_SAVEABLE, "Feature Identifier Not Saveable");
        NAMES.put(WRITE_FAULT, "Write Fault");
        NAMES.put(UNRECOVERED_READ_ERROR, "Unrecovered Read Error");
        NAMES.put(COMPARE_FAILURE, "Compare Failure");
        NAMES.put(ACCESS_DENIED, "Access Denied");
    }

    private Status() {
    }

    /** The spec's name of a status (DNR and More ignored), or its hex value if we have no name for it. */
    static String name(int status) {
        String n = NAMES.get(status & 0x7ff);
        return n != null ? n : String.format("SCT %d SC 0x%02x", (status >>> 8) & 7, status & 0xff);
    }

    /**
     * A status from its spec name in any spelling ({@code Unrecovered Read Error},
     * {@code unrecovered-read-error}) or as {@code 0x281} (SCT << 8 | SC); -1 if unknown.
     */
    static int parse(String text) {
        String t = text.trim();
        if (t.startsWith("0x") || t.startsWith("0X")) {
            try {
                int v = Integer.parseInt(t.substring(2), 16);
                return v > 0 && v <= 0x7ff ? v : -1;
            } catch (NumberFormatException e) {
                return -1;
            }
        }
        String key = squash(t);
        for (Map.Entry<Integer, String> e : NAMES.entrySet()) {
            if (squash(e.getValue()).equals(key)) {
                return e.getKey();
            }
        }
        return -1;
    }

    /** Every named status, for error messages. */
    static String names() {
        return String.join(", ", NAMES.values().stream().skip(1).map(n -> n.toLowerCase(Locale.ROOT).replace(' ', '-')).toList());
    }

    private static String squash(String s) {
        return s.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "");
    }
}
