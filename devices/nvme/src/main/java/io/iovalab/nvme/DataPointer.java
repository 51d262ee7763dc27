package io.iovalab.nvme;

import io.iovalab.iommu.DmaCommand;
import io.iovalab.iommu.DmaFault;

/**
 * Turns a command's Data Pointer (PRP1/PRP2 and PRP lists, or an SGL) into a {@link DataList},
 * reading lists through the IOMMU model. Every rule of the spec that Linux relies on is checked;
 * a list that loops or never ends is cut off by a descriptor budget.
 */
final class DataPointer {
    static final int PAGE = 4096;
    private static final int MAX_SGL_DESCRIPTORS = 4096;
    private static final int SGL_DATA_BLOCK = 0;
    private static final int SGL_BIT_BUCKET = 1;
    private static final int SGL_SEGMENT = 2;
    private static final int SGL_LAST_SEGMENT = 3;

    private static final java.lang.foreign.ValueLayout.OfLong LE_LONG =
            java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    private DataPointer() {
    }

    static void prp(DmaCommand dma, long prp1, long prp2, long len, DataList out) throws NvmeError, DmaFault {
        out.clear();
        if ((prp1 & 3) != 0) {
            throw new NvmeError(Status.INVALID_PRP_OFFSET, "PRP1 not dword aligned");
        }
        long first = Math.min(len, PAGE - (prp1 & (PAGE - 1)));
        out.add(prp1, first, false);
        long left = len - first;
        if (left == 0) {
            return;
        }
        if (left <= PAGE) {
            if ((prp2 & (PAGE - 1)) != 0) {
                throw new NvmeError(Status.INVALID_PRP_OFFSET, "PRP2 entry not page aligned");
            }
            out.add(prp2, left, false);
            return;
        }
        // PRP2 points to a list; its last entry chains to the next list page when more follow
        if ((prp2 & 7) != 0) {
            throw new NvmeError(Status.INVALID_PRP_OFFSET, "PRP list pointer not qword aligned");
        }
        long list = prp2;
        int budget = (int) (len / PAGE) + 2 + (int) (len / (PAGE * 511L)) + 2;
        while (left > 0) {
            int entriesInPage = (int) ((PAGE - (list & (PAGE - 1))) / 8);
            // the entries this list page holds for us (the last may chain), fetched in one access:
            // one translation instead of one per entry
            int count = (int) Math.min(entriesInPage, (left + PAGE - 1) / PAGE);
            dma.readDescriptors(list, out.listPage, 0, 8L * count);
            for (int i = 0; i < entriesInPage && left > 0; i++) {
                if (--budget < 0) {
                    throw new NvmeError(Status.INVALID_PRP_OFFSET, "PRP list longer than the transfer");
                }
                long entry = out.listPage.get(LE_LONG, 8L * i);
                if (i == entriesInPage - 1 && left > PAGE) {
                    if ((entry & 7) != 0) {
                        throw new NvmeError(Status.INVALID_PRP_OFFSET, "chained PRP list pointer not qword aligned");
                    }
                    list = entry;
                    break;
                }
                if ((entry & (PAGE - 1)) != 0) {
                    throw new NvmeError(Status.INVALID_PRP_OFFSET, "PRP entry 0x" + Long.toHexString(entry) + " not page aligned");
                }
                long n = Math.min(left, PAGE);
                out.add(entry, n, false);
                left -= n;
                if (i == entriesInPage - 1) {
                    list = -1; // a full page without a chain pointer while data remains: invalid
                }
            }
            if (left > 0 && list == -1) {
                throw new NvmeError(Status.INVALID_PRP_OFFSET, "PRP list ended before the data");
            }
        }
    }

    /** SGL1 = the 16-byte descriptor at CDW6..9. */
    static void sgl(DmaCommand dma, long addr, int length, int typeByte, long len, boolean read, DataList out)
            throws NvmeError, DmaFault {
        out.clear();
        int budget = MAX_SGL_DESCRIPTORS;
        int type = (typeByte >>> 4) & 0xf;
        if ((typeByte & 0xf) != 0) {
            throw new NvmeError(Status.SGL_DESCRIPTOR_TYPE_INVALID, "SGL subtype " + (typeByte & 0xf) + " (address only)");
        }
        long segAddr = addr;
        long segLen = Integer.toUnsignedLong(length);
        boolean last;
        switch (type) {
            case SGL_DATA_BLOCK, SGL_BIT_BUCKET -> {
                descriptor(type, addr, segLen, read, out);
                finish(out, len);
                return;
            }
            case SGL_SEGMENT -> last = false;
            case SGL_LAST_SEGMENT -> last = true;
            default -> throw new NvmeError(Status.SGL_DESCRIPTOR_TYPE_INVALID, "SGL descriptor type " + type);
        }
        while (true) {
            if (segLen == 0 || segLen % 16 != 0) {
                throw new NvmeError(Status.INVALID_SGL_SEGMENT_DESCRIPTOR, "SGL segment length " + segLen);
            }
            int n = (int) (segLen / 16);
            long next = 0;
            long nextLen = 0;
            boolean nextLast = false;
            boolean chained = false;
            for (int i = 0; i < n; i++) {
                if (--budget < 0) {
                    throw new NvmeError(Status.INVALID_NUMBER_OF_SGL_DESCRIPTORS, "more than " + MAX_SGL_DESCRIPTORS + " SGL descriptors");
                }
                long d = segAddr + 16L * i;
                long a = dma.readLong(d);
                long l = Integer.toUnsignedLong(dma.readInt(d + 8));
                int tb = dma.readByte(d + 15) & 0xff;
                int t = tb >>> 4;
                if ((tb & 0xf) != 0) {
                    throw new NvmeError(Status.SGL_DESCRIPTOR_TYPE_INVALID, "SGL subtype " + (tb & 0xf));
                }
                if (t == SGL_SEGMENT || t == SGL_LAST_SEGMENT) {
                    if (i != n - 1 || last) {
                        throw new NvmeError(Status.INVALID_SGL_SEGMENT_DESCRIPTOR, "segment descriptor not last in its segment");
                    }
                    next = a;
                    nextLen = l;
                    nextLast = t == SGL_LAST_SEGMENT;
                    chained = true;
                } else {
                    descriptor(t, a, l, read, out);
                }
                if (out.total > len) {
                    throw new NvmeError(Status.DATA_SGL_LENGTH_INVALID, "SGL describes more than the transfer");
                }
            }
            if (!chained) {
                if (!last) {
                    throw new NvmeError(Status.INVALID_SGL_SEGMENT_DESCRIPTOR, "segment without a following segment");
                }
                break;
            }
            segAddr = next;
            segLen = nextLen;
            last = nextLast;
        }
        finish(out, len);
    }

    private static void descriptor(int type, long addr, long n, boolean read, DataList out) throws NvmeError {
        switch (type) {
            case SGL_DATA_BLOCK -> out.add(addr, n, false);
            case SGL_BIT_BUCKET -> {
                if (!read) {
                    throw new NvmeError(Status.SGL_DESCRIPTOR_TYPE_INVALID, "bit bucket in a write");
                }
                out.add(0, n, true);
            }
            default -> throw new NvmeError(Status.SGL_DESCRIPTOR_TYPE_INVALID, "SGL descriptor type " + type);
        }
    }

    private static void finish(DataList out, long len) throws NvmeError {
        if (out.total < len) {
            throw new NvmeError(Status.DATA_SGL_LENGTH_INVALID, "SGL describes " + out.total + " of " + len + " bytes");
        }
        if (out.total > len) {
            // a longer buffer than the transfer is allowed: trim the tail
            long excess = out.total - len;
            while (excess > 0 && out.size > 0) {
                int i = out.size - 1;
                long cut = Math.min(excess, out.length[i]);
                out.length[i] -= cut;
                out.total -= cut;
                excess -= cut;
                if (out.length[i] == 0) {
                    out.size--;
                }
            }
        }
    }
}
