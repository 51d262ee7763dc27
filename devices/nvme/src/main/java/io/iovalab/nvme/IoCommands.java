package io.iovalab.nvme;

import io.iovalab.iommu.DmaFault;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/** The NVM command set: Read, Write, Flush, Write Zeroes, Dataset Management, Compare. */
final class IoCommands {
    private static final int FUA = 1 << 30;
    private final NvmeController c;
    private final DataList list = new DataList();
    private final MemorySegment ranges;
    private long rangeOffset;
    private long rangeLength;

    IoCommands(NvmeController c) {
        this.c = c;
        this.ranges = c.scratch(256 * 16);
    }

    long execute(Sqe e) throws NvmeError, DmaFault, IOException {
        Namespace ns = namespace(e.nsid());
        return switch (e.opcode()) {
            case Opcodes.READ -> {
                transfer(e, ns, true);
                yield 0;
            }
            case Opcodes.WRITE -> {
                transfer(e, ns, false);
                if ((e.dw(12) & FUA) != 0) {
                    c.stats.fuaWrites++;
                    ns.backend.flush();
                }
                yield 0;
            }
            case Opcodes.FLUSH -> {
                c.stats.flushes++;
                for (Namespace n : c.namespaces) {
                    if (e.nsid() == -1 || n == ns) {
                        n.backend.flush();
                    }
                }
                yield 0;
            }
            case Opcodes.WRITE_ZEROES -> {
                range(e, ns);
                ns.backend.zero(rangeOffset, rangeLength);
                if ((e.dw(12) & FUA) != 0) {
                    c.stats.fuaWrites++;
                    ns.backend.flush();
                }
                yield 0;
            }
            case Opcodes.DATASET_MANAGEMENT -> dsm(e, ns);
            case Opcodes.COMPARE -> compare(e, ns);
            default -> throw new NvmeError(Status.INVALID_OPCODE | Status.DNR, "I/O opcode 0x" + Integer.toHexString(e.opcode()));
        };
    }

    private Namespace namespace(int nsid) throws NvmeError {
        if (nsid == -1) {
            return c.namespaces.getFirst(); // only Flush may use the broadcast id; others fail on the range check
        }
        // indexed: an iterator per command is garbage on the hot path
        for (int i = 0; i < c.namespaces.size(); i++) {
            Namespace ns = c.namespaces.get(i);
            if (ns.nsid == nsid) {
                return ns;
            }
        }
        throw new NvmeError(Status.INVALID_NAMESPACE | Status.DNR, "namespace " + nsid);
    }

    /**
     * Checks the command's LBA range against the namespace and leaves its byte offset and length
     * in {@link #rangeOffset} / {@link #rangeLength} (fields, not an array: no garbage per command).
     */
    private void range(Sqe e, Namespace ns) throws NvmeError {
        long slba = e.slba();
        long nlb = (e.dw(12) & 0xffff) + 1L;
        // written so that an SLBA near 2^64 cannot overflow past the check
        if (slba < 0 || slba > ns.blocks() - nlb) {
            throw new NvmeError(Status.LBA_OUT_OF_RANGE | Status.DNR, "LBA " + slba + "+" + nlb + " beyond " + ns.blocks());
        }
        rangeOffset = slba << ns.lbaShift();
        rangeLength = nlb << ns.lbaShift();
    }

    private void dataList(Sqe e, long len, boolean read) throws NvmeError, DmaFault {
        if (e.psdt() == 0) {
            c.stats.prpCommands++;
            DataPointer.prp(c.data, e.prp1(), e.prp2(), len, list);
        } else {
            if (!c.config.sgl()) {
                throw new NvmeError(Status.INVALID_FIELD | Status.DNR, "SGLs are not supported (sgl=off)");
            }
            c.stats.sglCommands++;
            DataPointer.sgl(c.data, e.sglAddress(), e.sglLength(), e.sglType(), len, read, list);
        }
    }

    /** An injected media error on the command's LBAs: the error a bad block gives, before any data moves. */
    private void media(Sqe e, Namespace ns, boolean write) throws NvmeError {
        long nlb = (e.dw(12) & 0xffff) + 1L;
        NvmeFaults.Rule fault = c.faults.onMedia(ns.nsid, e.slba(), nlb, write);
        if (fault != null) {
            int status = write ? Status.WRITE_FAULT : Status.UNRECOVERED_READ_ERROR;
            c.injected(fault, c.data.queue(), e.cid(), Status.name(status) + " for LBA " + e.slba() + "+" + nlb);
            throw new NvmeError(status, "injected media error");
        }
    }

    private void transfer(Sqe e, Namespace ns, boolean read) throws NvmeError, DmaFault, IOException {
        range(e, ns);
        media(e, ns, !read);
        long maxBytes = 4096L << c.config.mdts();
        if (rangeLength > maxBytes) {
            throw new NvmeError(Status.INVALID_FIELD | Status.DNR, "transfer of " + rangeLength + " bytes above MDTS");
        }
        dataList(e, rangeLength, read);
        long off = rangeOffset;
        for (int i = 0; i < list.size; i++) {
            long n = list.length[i];
            if (!list.bucket[i]) {
                if (read) {
                    ns.backend.toGuest(c.data, off, list.iova[i], n);
                } else {
                    ns.backend.fromGuest(c.data, list.iova[i], off, n);
                }
            }
            off += n;
        }
        if (read) {
            c.stats.reads++;
            c.stats.bytesRead += rangeLength;
        } else {
            c.stats.writes++;
            c.stats.bytesWritten += rangeLength;
        }
    }

    private long dsm(Sqe e, Namespace ns) throws NvmeError, DmaFault, IOException {
        int nr = (e.dw(10) & 0xff) + 1;
        boolean deallocate = (e.dw(11) & 4) != 0;
        long len = 16L * nr;
        dataList(e, len, false);
        long off = 0;
        for (int i = 0; i < list.size; i++) {
            c.data.readDescriptors(list.iova[i], ranges, off, list.length[i]);
            off += list.length[i];
        }
        if (deallocate) {
            for (int i = 0; i < nr; i++) {
                long nlb = Integer.toUnsignedLong(ranges.get(JAVA_INT_UNALIGNED, 16L * i + 4));
                long slba = ranges.get(JAVA_LONG_UNALIGNED, 16L * i + 8);
                if (slba < 0 || slba > ns.blocks() - nlb) {
                    throw new NvmeError(Status.LBA_OUT_OF_RANGE | Status.DNR, "DSM range " + slba + "+" + nlb);
                }
                // deallocated blocks read as zeros (DLFEAT)
                ns.backend.zero(slba << ns.lbaShift(), nlb << ns.lbaShift());
            }
        }
        return 0;
    }

    private long compare(Sqe e, Namespace ns) throws NvmeError, DmaFault, IOException {
        range(e, ns);
        media(e, ns, false);
        if (rangeLength > (4096L << c.config.mdts())) {
            throw new NvmeError(Status.INVALID_FIELD | Status.DNR, "transfer above MDTS");
        }
        dataList(e, rangeLength, false);
        byte[] host = new byte[(int) rangeLength];
        int off = 0;
        for (int i = 0; i < list.size; i++) {
            c.data.read(list.iova[i], host, off, (int) list.length[i]);
            off += (int) list.length[i];
        }
        byte[] media = new byte[host.length];
        ns.backend.read(rangeOffset, media, media.length);
        if (!Arrays.equals(host, media)) {
            throw new NvmeError(Status.COMPARE_FAILURE, "data differs");
        }
        return 0;
    }

}
