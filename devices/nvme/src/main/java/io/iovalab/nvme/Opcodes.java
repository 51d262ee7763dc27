package io.iovalab.nvme;

/** Admin and NVM command set opcodes. */
final class Opcodes {
    // admin
    static final int DELETE_IO_SQ = 0x00;
    static final int CREATE_IO_SQ = 0x01;
    static final int GET_LOG_PAGE = 0x02;
    static final int DELETE_IO_CQ = 0x04;
    static final int CREATE_IO_CQ = 0x05;
    static final int IDENTIFY = 0x06;
    static final int ABORT = 0x08;
    static final int SET_FEATURES = 0x09;
    static final int GET_FEATURES = 0x0a;
    static final int ASYNC_EVENT_REQUEST = 0x0c;
    static final int KEEP_ALIVE = 0x18;
    static final int DOORBELL_BUFFER_CONFIG = 0x7c;
    static final int FORMAT_NVM = 0x80;
    // NVM command set
    static final int FLUSH = 0x00;
    static final int WRITE = 0x01;
    static final int READ = 0x02;
    static final int COMPARE = 0x05;
    static final int WRITE_ZEROES = 0x08;
    static final int DATASET_MANAGEMENT = 0x09;

    private Opcodes() {
    }
}
