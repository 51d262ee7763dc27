package io.iovalab.pci;

import java.util.Arrays;

/**
 * The function's copy of the MSI-X table and its Pending Bit Array.
 *
 * <p>QEMU emulates the table itself and never forwards table accesses, so the Mask bits here stay
 * at their power-on value (masked) and must not gate delivery then. A client that does write the
 * table takes it over: from its first table write until reset, the Vector Control Mask bits here
 * count. Guarded by the function's lock.
 */
final class MsixTable {
    /** Per vector, four dwords: Message Address, Message Upper Address, Message Data, Vector Control. */
    private final int[] entries;
    private final long[] pending;
    private boolean clientOwned;

    MsixTable(int vectors) {
        entries = new int[4 * vectors];
        pending = new long[(vectors + 63) / 64];
        reset();
    }

    int vectors() {
        return entries.length / 4;
    }

    /** Bytes of the PBA: one bit per vector, in whole qwords. */
    long pbaSize() {
        return 8L * pending.length;
    }

    long tableSize() {
        return 4L * entries.length;
    }

    void reset() {
        Arrays.fill(entries, 0);
        for (int v = 0; v < vectors(); v++) {
            entries[4 * v + 3] = PciRegs.PCI_MSIX_ENTRY_CTRL_MASKBIT;
        }
        Arrays.fill(pending, 0);
        clientOwned = false;
    }

    boolean vectorMasked(int v) {
        return clientOwned && (entries[4 * v + 3] & PciRegs.PCI_MSIX_ENTRY_CTRL_MASKBIT) != 0;
    }

    boolean pending(int v) {
        return (pending[v >>> 6] & 1L << v) != 0;
    }

    void setPending(int v, boolean on) {
        if (on) {
            pending[v >>> 6] |= 1L << v;
        } else {
            pending[v >>> 6] &= ~(1L << v);
        }
    }

    boolean anyPending() {
        for (long p : pending) {
            if (p != 0) {
                return true;
            }
        }
        return false;
    }

    long readTable(long offset, int width) {
        long v = 0;
        for (int i = 0; i < width; i++) {
            long at = offset + i;
            v |= (long) ((entries[(int) (at >>> 2)] >>> (8 * (at & 3))) & 0xff) << (8 * i);
        }
        return v;
    }

    /** Writes the address, data and Mask bit; every other bit is reserved and reads 0. */
    void writeTable(long offset, int width, long value) {
        clientOwned = true;
        for (int i = 0; i < width; i++) {
            long at = offset + i;
            int dword = (int) (at >>> 2);
            int shift = (int) (at & 3) * 8;
            int writable = switch (dword & 3) {
                case 0 -> 0xfffffffc;           // Message Address is dword aligned
                case 1, 2 -> 0xffffffff;
                default -> PciRegs.PCI_MSIX_ENTRY_CTRL_MASKBIT;
            };
            int m = (0xff << shift) & writable;
            int b = (int) ((value >>> (8 * i)) & 0xff) << shift;
            entries[dword] = (entries[dword] & ~m) | (b & m);
        }
    }

    long readPba(long offset, int width) {
        long v = 0;
        for (int i = 0; i < width; i++) {
            long at = offset + i;
            v |= ((pending[(int) (at >>> 3)] >>> (8 * (at & 7))) & 0xff) << (8 * i);
        }
        return v;
    }
}
