package io.iovalab.cli;

/**
 * One phase of the standard workload: fio O_DIRECT random reads of one block size over the
 * device, after the probes are armed.
 */
record Workload(String name, String blockSize, String rw, int iodepth, int seconds) {
    static final Workload[] STANDARD = {
            new Workload("4k-randread", "4k", "randread", 32, 8),
            new Workload("64k-randread", "64k", "randread", 16, 8),
    };

    String fio(String device) {
        return "fio --name=" + name + " --filename=" + device + " --direct=1 --ioengine=libaio --rw=" + rw
                + " --bs=" + blockSize + " --iodepth=" + iodepth + " --runtime=" + seconds + " --time_based"
                + " --size=128M --output-format=json";
    }
}
