package io.iovalab.nvme;

/** Completion status values: (Status Code Type << 8) | Status Code. */
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
    static final int LBA_OUT_OF_RANGE = 0x080;
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
    static final int UNRECOVERED_READ_ERROR = 0x281;
    static final int COMPARE_FAILURE = 0x285;

    /** Do Not Retry: the same command would fail again. */
    static final int DNR = 0x4000;

    private Status() {
    }
}
