package io.iovalab.nvme;

/** Counters the worker keeps (read racily for inspection; exact after the worker is idle). */
final class NvmeStats {
    long commands;
    long reads;
    long writes;
    long flushes;
    /** Writes and Write Zeroes with FUA: each one forced to stable storage before it completed. */
    long fuaWrites;
    long bytesRead;
    long bytesWritten;
    long prpCommands;
    long sglCommands;
    long errors;
    /** The latest command that completed with an error status: what a person looks for first. */
    volatile String lastError = "";
    long faults;
    long interrupts;
    long cqFull;
    long invalidDoorbells;
    long injections;
    long aborts;
    /** CC.EN 0 to 1: the driver's probe and every controller reset after it. */
    long enables;
}
