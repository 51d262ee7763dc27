package io.iovalab.nvme;

import io.iovalab.iommu.DmaFault;

import java.io.IOException;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/** The admin command set, run by the controller's worker. */
final class AdminCommands {
    /** Returned for a command that completes later (Asynchronous Event Request). */
    static final long DEFERRED = Long.MIN_VALUE;
    private static final int LOG_ERROR = 0x01;
    private static final int LOG_SMART = 0x02;
    private static final int LOG_FIRMWARE_SLOT = 0x03;
    private static final int LOG_CHANGED_NAMESPACES = 0x04;
    private static final int LOG_COMMANDS_SUPPORTED = 0x05;

    private final NvmeController c;
    private final MemorySegment page;
    private final DataList list = new DataList();

    AdminCommands(NvmeController c) {
        this.c = c;
        this.page = c.scratch(4096);
    }

    long execute(Sqe e, SubmissionQueue sq) throws NvmeError, DmaFault, IOException {
        if (e.psdt() != 0) {
            throw new NvmeError(Status.INVALID_FIELD | Status.DNR, "SGLs are not used on the admin queue");
        }
        return switch (e.opcode()) {
            case Opcodes.IDENTIFY -> identify(e);
            case Opcodes.GET_FEATURES -> getFeatures(e);
            case Opcodes.SET_FEATURES -> setFeatures(e);
            case Opcodes.CREATE_IO_CQ -> createCq(e);
            case Opcodes.CREATE_IO_SQ -> createSq(e);
            case Opcodes.DELETE_IO_SQ -> deleteSq(e);
            case Opcodes.DELETE_IO_CQ -> deleteCq(e);
            case Opcodes.GET_LOG_PAGE -> logPage(e);
            case Opcodes.ASYNC_EVENT_REQUEST -> {
                if (c.pendingAers.size() >= 4) {
                    throw new NvmeError(Status.ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED, "AERL exceeded");
                }
                c.pendingAers.add(e.cid());
                yield DEFERRED;
            }
            case Opcodes.ABORT -> abort(e);
            case Opcodes.KEEP_ALIVE -> 0;
            case Opcodes.DOORBELL_BUFFER_CONFIG -> doorbellBuffer(e);
            case Opcodes.FORMAT_NVM -> format(e);
            default -> throw new NvmeError(Status.INVALID_OPCODE | Status.DNR, "admin opcode 0x" + Integer.toHexString(e.opcode()));
        };
    }

    /**
     * Abort (CDW10: SQID, CID). Commands run to completion in order, so the only ones still
     * outstanding are those whose completion an injected fault holds back: such a command is
     * completed now with Command Abort Requested and DW0 bit 0 clear ("aborted"). Any other
     * command has completed already, which DW0 bit 0 set ("not aborted") tells the host.
     */
    private long abort(Sqe e) {
        int sqid = e.dw(10) & 0xffff;
        int cid = e.dw(10) >>> 16;
        HeldCompletions.Held h = c.held.take(sqid, cid);
        if (h == null || c.sqs[sqid] != h.sq()) {
            return 1;
        }
        c.stats.aborts++;
        c.post(h.sq().cq, h.sq(), cid, Status.ABORT_REQUESTED, 0);
        return 0;
    }

    private void toHost(Sqe e, int len) throws NvmeError, DmaFault {
        DataPointer.prp(c.data, e.prp1(), e.prp2(), len, list);
        long off = 0;
        for (int i = 0; i < list.size; i++) {
            c.data.write(list.iova[i], page, off, list.length[i]);
            off += list.length[i];
        }
    }

    private void fromHost(Sqe e, int len) throws NvmeError, DmaFault {
        DataPointer.prp(c.data, e.prp1(), e.prp2(), len, list);
        long off = 0;
        for (int i = 0; i < list.size; i++) {
            c.data.read(list.iova[i], page, off, list.length[i]);
            off += list.length[i];
        }
    }

    private Namespace namespace(int nsid) throws NvmeError {
        for (Namespace ns : c.namespaces) {
            if (ns.nsid == nsid) {
                return ns;
            }
        }
        throw new NvmeError(Status.INVALID_NAMESPACE | Status.DNR, "namespace " + nsid);
    }

    private long identify(Sqe e) throws NvmeError, DmaFault {
        int cns = e.dw(10) & 0xff;
        page.fill((byte) 0);
        switch (cns) {
            case Identify.CNS_NAMESPACE -> {
                if (e.nsid() == -1) {
                    Identify.namespace(c.namespaces.getFirst(), page); // common capabilities
                    page.asSlice(0, 24).fill((byte) 0);
                } else {
                    Identify.namespace(namespace(e.nsid()), page);
                }
            }
            case Identify.CNS_CONTROLLER -> Identify.controller(c, page);
            case Identify.CNS_ACTIVE_NAMESPACES -> Identify.activeNamespaces(c, e.nsid(), page);
            case Identify.CNS_NS_DESCRIPTORS -> Identify.descriptors(namespace(e.nsid()), page);
            case Identify.CNS_CS_NAMESPACE -> {
                int csi = e.dw(11) >>> 24;
                if (csi != 0) {
                    throw new NvmeError(Status.INVALID_FIELD | Status.DNR, "command set " + csi);
                }
                namespace(e.nsid());
                // NVM command set namespace data (Linux 7.3 asks at every probe): no protection
                // information, no extended LBA formats, so all zero
            }
            case Identify.CNS_CS_CONTROLLER -> {
                int csi = e.dw(11) >>> 24;
                if (csi != 0) {
                    throw new NvmeError(Status.INVALID_FIELD | Status.DNR, "command set " + csi);
                }
                // NVM command set controller data: no extra limits (all zero)
            }
            default -> throw new NvmeError(Status.INVALID_FIELD | Status.DNR, "Identify CNS 0x" + Integer.toHexString(cns));
        }
        toHost(e, 4096);
        return 0;
    }

    private long getFeatures(Sqe e) throws NvmeError, DmaFault {
        Features f = c.features;
        int fid = e.dw(10) & 0xff;
        return switch (fid) {
            case Features.ARBITRATION -> f.arbitration;
            case Features.POWER_MANAGEMENT -> f.powerState;
            case Features.TEMPERATURE_THRESHOLD -> ((e.dw(11) >>> 20) & 3) == 1 ? f.underTemp : f.overTemp;
            case Features.VOLATILE_WRITE_CACHE -> f.volatileWriteCache ? 1 : 0;
            case Features.NUMBER_OF_QUEUES -> f.numberOfQueues;
            case Features.INTERRUPT_COALESCING -> c.coalescing.setting();
            case Features.INTERRUPT_VECTOR_CONFIGURATION -> {
                int iv = e.dw(11) & 0xffff;
                if (iv >= c.config.vectors()) {
                    throw new NvmeError(Status.INVALID_FIELD | Status.DNR, "interrupt vector " + iv);
                }
                yield iv | (c.coalescing.vectorDisabled(iv) ? 1 << 16 : 0);
            }
            case Features.WRITE_ATOMICITY -> f.writeAtomicity;
            case Features.ASYNC_EVENT_CONFIGURATION -> f.asyncEventConfig;
            case Features.TIMESTAMP -> {
                page.fill((byte) 0);
                long now = f.timestampSetAt == 0 ? System.currentTimeMillis()
                        : f.timestampMillis + (System.currentTimeMillis() - f.timestampSetAt);
                page.set(JAVA_LONG_UNALIGNED, 0, now & 0xffff_ffff_ffffL | (f.timestampSetAt == 0 ? 0L : 1L << 49));
                toHost(e, 8);
                yield 0;
            }
            default -> throw new NvmeError(Status.INVALID_FIELD | Status.DNR, "feature 0x" + Integer.toHexString(fid));
        };
    }

    private long setFeatures(Sqe e) throws NvmeError, DmaFault {
        Features f = c.features;
        int fid = e.dw(10) & 0xff;
        if ((e.dw(10) & 1 << 31) != 0) {
            throw new NvmeError(Status.FEATURE_NOT_SAVEABLE | Status.DNR, "features cannot be saved");
        }
        int v = e.dw(11);
        switch (fid) {
            case Features.ARBITRATION -> f.arbitration = v;
            case Features.POWER_MANAGEMENT -> {
                if ((v & 0x1f) != 0) {
                    throw new NvmeError(Status.INVALID_FIELD | Status.DNR, "power state " + (v & 0x1f) + " (only 0)");
                }
                f.powerState = v;
            }
            case Features.TEMPERATURE_THRESHOLD -> {
                if (((v >>> 20) & 3) == 1) {
                    f.underTemp = v & 0xffff;
                } else {
                    f.overTemp = v & 0xffff;
                }
            }
            case Features.VOLATILE_WRITE_CACHE -> f.volatileWriteCache = (v & 1) != 0;
            case Features.NUMBER_OF_QUEUES -> {
                if ((v & 0xffff) == 0xffff || (v >>> 16) == 0xffff) {
                    throw new NvmeError(Status.INVALID_FIELD | Status.DNR, "65536 queues");
                }
                // allocated: what was asked for, capped at what we have (0-based counts)
                int n = c.allocatedIoQueues - 1;
                f.numberOfQueues = Math.min(v & 0xffff, n) | Math.min(v >>> 16, n) << 16;
                return f.numberOfQueues;
            }
            case Features.INTERRUPT_COALESCING -> c.coalescing.set(v);
            case Features.INTERRUPT_VECTOR_CONFIGURATION -> {
                if ((v & 0xffff) == 0 && (v & 1 << 16) != 0) {
                    // the admin CQ's vector is never coalesced, so CD is not settable there
                    throw new NvmeError(Status.INVALID_FIELD | Status.DNR, "CD on interrupt vector 0");
                }
                if (!c.coalescing.setVectorDisabled(v & 0xffff, (v & 1 << 16) != 0)) {
                    throw new NvmeError(Status.INVALID_FIELD | Status.DNR, "interrupt vector " + (v & 0xffff));
                }
            }
            case Features.WRITE_ATOMICITY -> f.writeAtomicity = v & 1;
            case Features.ASYNC_EVENT_CONFIGURATION -> f.asyncEventConfig = v;
            case Features.TIMESTAMP -> {
                fromHost(e, 8);
                f.timestampMillis = page.get(JAVA_LONG_UNALIGNED, 0) & 0xffff_ffff_ffffL;
                f.timestampSetAt = System.currentTimeMillis();
            }
            default -> throw new NvmeError(Status.INVALID_FIELD | Status.DNR, "feature 0x" + Integer.toHexString(fid));
        }
        return 0;
    }

    private long createCq(Sqe e) throws NvmeError {
        int qid = e.dw(10) & 0xffff;
        int size = (e.dw(10) >>> 16) + 1;
        int flags = e.dw(11);
        int iv = flags >>> 16;
        if (qid == 0 || qid >= c.cqs.length || c.cqs[qid] != null) {
            throw new NvmeError(Status.INVALID_QUEUE_IDENTIFIER | Status.DNR, "CQ id " + qid);
        }
        if (size < 2 || size > c.config.mqes()) {
            throw new NvmeError(Status.INVALID_QUEUE_SIZE | Status.DNR, "CQ size " + size);
        }
        if ((flags & 1) == 0) {
            throw new NvmeError(Status.INVALID_FIELD | Status.DNR, "CQ must be physically contiguous (CAP.CQR)");
        }
        if (iv >= c.config.vectors()) {
            throw new NvmeError(Status.INVALID_INTERRUPT_VECTOR | Status.DNR, "vector " + iv);
        }
        if ((e.prp1() & 0xfff) != 0) {
            throw new NvmeError(Status.INVALID_PRP_OFFSET | Status.DNR, "CQ base not page aligned");
        }
        c.coalescing.forget(qid);
        c.clearDoorbell(qid, false);
        c.cqs[qid] = new CompletionQueue(qid, e.prp1(), size, (flags & 2) != 0, iv);
        return 0;
    }

    private long createSq(Sqe e) throws NvmeError {
        int qid = e.dw(10) & 0xffff;
        int size = (e.dw(10) >>> 16) + 1;
        int cqid = e.dw(11) >>> 16;
        if (qid == 0 || qid >= c.sqs.length || c.sqs[qid] != null) {
            throw new NvmeError(Status.INVALID_QUEUE_IDENTIFIER | Status.DNR, "SQ id " + qid);
        }
        if (cqid == 0 || cqid >= c.cqs.length || c.cqs[cqid] == null) {
            throw new NvmeError(Status.COMPLETION_QUEUE_INVALID | Status.DNR, "CQ id " + cqid);
        }
        if (size < 2 || size > c.config.mqes()) {
            throw new NvmeError(Status.INVALID_QUEUE_SIZE | Status.DNR, "SQ size " + size);
        }
        if ((e.dw(11) & 1) == 0) {
            throw new NvmeError(Status.INVALID_FIELD | Status.DNR, "SQ must be physically contiguous (CAP.CQR)");
        }
        if ((e.prp1() & 0xfff) != 0) {
            throw new NvmeError(Status.INVALID_PRP_OFFSET | Status.DNR, "SQ base not page aligned");
        }
        c.clearDoorbell(qid, true);
        c.sqs[qid] = new SubmissionQueue(qid, e.prp1(), size, c.cqs[cqid]);
        c.cqs[cqid].sqCount++;
        return 0;
    }

    private long deleteSq(Sqe e) throws NvmeError {
        int qid = e.dw(10) & 0xffff;
        if (qid == 0 || qid >= c.sqs.length || c.sqs[qid] == null) {
            throw new NvmeError(Status.INVALID_QUEUE_IDENTIFIER | Status.DNR, "SQ id " + qid);
        }
        c.sqs[qid].cq.sqCount--;
        c.sqs[qid] = null;
        return 0;
    }

    private long deleteCq(Sqe e) throws NvmeError {
        int qid = e.dw(10) & 0xffff;
        if (qid == 0 || qid >= c.cqs.length || c.cqs[qid] == null) {
            throw new NvmeError(Status.INVALID_QUEUE_IDENTIFIER | Status.DNR, "CQ id " + qid);
        }
        if (c.cqs[qid].sqCount > 0) {
            throw new NvmeError(Status.INVALID_QUEUE_DELETION | Status.DNR, "CQ " + qid + " still has SQs");
        }
        c.cqs[qid] = null;
        return 0;
    }

    private long logPage(Sqe e) throws NvmeError, DmaFault {
        int lid = e.dw(10) & 0xff;
        long numd = ((e.dw(10) >>> 16) | (long) (e.dw(11) & 0xffff) << 16) + 1;
        long offset = Integer.toUnsignedLong(e.dw(12)) | (long) e.dw(13) << 32;
        int len = (int) Math.min(numd * 4, 4096);
        page.fill((byte) 0);
        int size;
        switch (lid) {
            case LOG_ERROR -> size = 64 * 64;
            case LOG_SMART -> {
                size = 512;
                NvmeStats s = c.stats;
                page.set(JAVA_BYTE, 1, (byte) 0x27);  // composite temperature 311 K (low byte of 0x137)
                page.set(JAVA_BYTE, 2, (byte) 0x01);
                page.set(JAVA_BYTE, 3, (byte) 100);   // available spare
                page.set(JAVA_BYTE, 4, (byte) 10);    // spare threshold
                page.set(JAVA_LONG_UNALIGNED, 32, (s.bytesRead + 511999) / 512000);    // data units read
                page.set(JAVA_LONG_UNALIGNED, 48, (s.bytesWritten + 511999) / 512000); // data units written
                page.set(JAVA_LONG_UNALIGNED, 64, s.reads);
                page.set(JAVA_LONG_UNALIGNED, 80, s.writes);
                page.set(JAVA_LONG_UNALIGNED, 112, 1);  // power cycles
            }
            case LOG_FIRMWARE_SLOT -> {
                size = 512;
                page.set(JAVA_BYTE, 0, (byte) 1);
                NvmeController.putString(page, 8, 8, "iovalab1");
            }
            case LOG_CHANGED_NAMESPACES -> size = 4096;
            case LOG_COMMANDS_SUPPORTED -> {
                size = 4096;
                for (int op : new int[] {0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x08, 0x09, 0x0a, 0x0c, 0x7c, 0x80}) {
                    page.set(JAVA_INT_UNALIGNED, 4L * op, 1);
                }
                page.set(JAVA_INT_UNALIGNED, 4L * 0x80, 1 | 1 << 1 | 1 << 2); // Format NVM changes content and capability
                for (int op : new int[] {Opcodes.FLUSH, Opcodes.READ, Opcodes.COMPARE}) {
                    page.set(JAVA_INT_UNALIGNED, 1024 + 4L * op, 1);
                }
                for (int op : new int[] {Opcodes.WRITE, Opcodes.WRITE_ZEROES, Opcodes.DATASET_MANAGEMENT}) {
                    page.set(JAVA_INT_UNALIGNED, 1024 + 4L * op, 1 | 1 << 1); // supported, changes content
                }
            }
            default -> throw new NvmeError(Status.INVALID_LOG_PAGE | Status.DNR, "log page 0x" + Integer.toHexString(lid));
        }
        if (offset >= size) {
            throw new NvmeError(Status.INVALID_FIELD | Status.DNR, "log page offset " + offset);
        }
        if (offset > 0) {
            MemorySegment.copy(page, offset, page, 0, size - offset);
        }
        toHost(e, len);
        return 0;
    }

    private long doorbellBuffer(Sqe e) throws NvmeError {
        if (!c.config.dbbuf()) {
            throw new NvmeError(Status.INVALID_OPCODE | Status.DNR, "shadow doorbells are off");
        }
        if ((e.prp1() & 0xfff) != 0 || (e.prp2() & 0xfff) != 0 || e.prp1() == 0 || e.prp2() == 0) {
            throw new NvmeError(Status.INVALID_FIELD | Status.DNR, "shadow doorbell/EventIdx buffers must be page aligned");
        }
        c.dbbufShadow = e.prp1();
        c.dbbufEventIdx = e.prp2();
        return 0;
    }

    private long format(Sqe e) throws NvmeError, IOException {
        int lbaf = e.dw(10) & 0xf;
        if (lbaf > 1) {
            throw new NvmeError(Status.INVALID_FORMAT | Status.DNR, "LBA format " + lbaf + " (0 = 512 B, 1 = 4 KiB)");
        }
        if (((e.dw(10) >>> 5) & 7) != 0) {
            throw new NvmeError(Status.INVALID_FORMAT | Status.DNR, "protection information is not supported");
        }
        for (Namespace ns : c.namespaces) {
            if (e.nsid() == -1 || ns.nsid == e.nsid()) {
                ns.backend.zero(0, ns.backend.size());
                ns.lbaFormat = lbaf;
            }
        }
        return 0;
    }
}
