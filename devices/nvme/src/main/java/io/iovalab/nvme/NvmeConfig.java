package io.iovalab.nvme;

import java.nio.file.Path;

/** What {@code --device nvme:...} configured. */
record NvmeConfig(long nsSize, int namespaces, int lbaFormat, String backend, Path file, int maxQueues, int mqes,
                  int mdts, boolean sgl, boolean dbbuf, String serial, String model, int vectors,
                  Doorbells.Mode doorbells, DoorbellPolling polling) {
}
