package io.iovalab.nvme;

/** Get/Set Features values (the subset Linux and nvme-cli use), reset with the controller. */
final class Features {
    static final int ARBITRATION = 0x01;
    static final int POWER_MANAGEMENT = 0x02;
    static final int TEMPERATURE_THRESHOLD = 0x04;
    static final int VOLATILE_WRITE_CACHE = 0x06;
    static final int NUMBER_OF_QUEUES = 0x07;
    static final int INTERRUPT_COALESCING = 0x08;
    static final int INTERRUPT_VECTOR_CONFIGURATION = 0x09;
    static final int WRITE_ATOMICITY = 0x0a;
    static final int ASYNC_EVENT_CONFIGURATION = 0x0b;
    static final int TIMESTAMP = 0x0e;
    static final int KEEP_ALIVE_TIMER = 0x0f;

    private final NvmeConfig config;
    int arbitration;
    int powerState;
    int overTemp;
    int underTemp;
    boolean volatileWriteCache;
    int numberOfQueues;
    int asyncEventConfig;
    long timestampMillis;
    long timestampSetAt;
    int writeAtomicity;

    Features(NvmeConfig config) {
        this.config = config;
        reset();
    }

    void reset() {
        arbitration = 0;
        powerState = 0;
        overTemp = 0x157; // 343 K
        underTemp = 0;
        volatileWriteCache = true;
        int n = config.maxQueues() - 1;
        numberOfQueues = n | n << 16;
        asyncEventConfig = 0;
        timestampMillis = 0;
        timestampSetAt = 0;
        writeAtomicity = 0;
    }
}
