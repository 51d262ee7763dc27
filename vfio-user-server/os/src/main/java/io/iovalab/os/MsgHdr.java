package io.iovalab.os;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** struct msghdr, struct iovec and SCM_RIGHTS control messages (x86-64 layouts, sys/socket.h). */
final class MsgHdr {
    static final StructLayout IOVEC = MemoryLayout.structLayout(
            ADDRESS.withName("iov_base"),
            JAVA_LONG.withName("iov_len"));
    static final StructLayout MSGHDR = MemoryLayout.structLayout(
            ADDRESS.withName("msg_name"),
            JAVA_INT.withName("msg_namelen"),
            MemoryLayout.paddingLayout(4),
            ADDRESS.withName("msg_iov"),
            JAVA_LONG.withName("msg_iovlen"),
            ADDRESS.withName("msg_control"),
            JAVA_LONG.withName("msg_controllen"),
            JAVA_INT.withName("msg_flags"),
            MemoryLayout.paddingLayout(4));
    static final StructLayout CMSGHDR = MemoryLayout.structLayout(
            JAVA_LONG.withName("cmsg_len"),
            JAVA_INT.withName("cmsg_level"),
            JAVA_INT.withName("cmsg_type"));

    private static final long IOV_BASE = offset(IOVEC, "iov_base");
    private static final long IOV_LEN = offset(IOVEC, "iov_len");
    private static final long MSG_IOV = offset(MSGHDR, "msg_iov");
    private static final long MSG_IOVLEN = offset(MSGHDR, "msg_iovlen");
    private static final long MSG_CONTROL = offset(MSGHDR, "msg_control");
    private static final long MSG_CONTROLLEN = offset(MSGHDR, "msg_controllen");
    private static final long MSG_FLAGS = offset(MSGHDR, "msg_flags");
    private static final long CMSG_LEN = offset(CMSGHDR, "cmsg_len");
    private static final long CMSG_LEVEL = offset(CMSGHDR, "cmsg_level");
    private static final long CMSG_TYPE = offset(CMSGHDR, "cmsg_type");
    private static final long CMSG_DATA = CMSGHDR.byteSize();

    private MsgHdr() {
    }

    private static long offset(StructLayout l, String field) {
        return l.byteOffset(MemoryLayout.PathElement.groupElement(field));
    }

    /** CMSG_SPACE(4 * fds): room for one SCM_RIGHTS message carrying {@code fds} descriptors. */
    static long controlSpace(int fds) {
        return fds == 0 ? 0 : CMSG_DATA + align8(4L * fds);
    }

    /** One SCM_RIGHTS control message carrying {@code fds}. */
    static MemorySegment rightsMessage(Arena a, int[] fds) {
        MemorySegment ctl = a.allocate(controlSpace(fds.length), 8);
        ctl.set(JAVA_LONG, CMSG_LEN, CMSG_DATA + 4L * fds.length);
        ctl.set(JAVA_INT, CMSG_LEVEL, Libc.SOL_SOCKET);
        ctl.set(JAVA_INT, CMSG_TYPE, Libc.SCM_RIGHTS);
        for (int i = 0; i < fds.length; i++) {
            ctl.set(JAVA_INT, CMSG_DATA + 4L * i, fds[i]);
        }
        return ctl;
    }

    static void set(MemorySegment msg, MemorySegment iov, long iovCount, MemorySegment ctl, long ctlLen) {
        msg.fill((byte) 0);
        msg.set(ADDRESS, MSG_IOV, iov);
        msg.set(JAVA_LONG, MSG_IOVLEN, iovCount);
        msg.set(ADDRESS, MSG_CONTROL, ctl);
        msg.set(JAVA_LONG, MSG_CONTROLLEN, ctlLen);
    }

    static void setIovec(MemorySegment iov, long index, MemorySegment base, long len) {
        iov.set(ADDRESS, index * IOVEC.byteSize() + IOV_BASE, base);
        iov.set(JAVA_LONG, index * IOVEC.byteSize() + IOV_LEN, len);
    }

    static int flags(MemorySegment msg) {
        return msg.get(JAVA_INT, MSG_FLAGS);
    }

    /**
     * The descriptors of every SCM_RIGHTS message in the control data the kernel returned
     * (msg_controllen after recvmsg). They are open in this process and now owned by the caller.
     */
    static Fd[] receivedFds(MemorySegment msg, MemorySegment ctl) {
        long ctlLen = msg.get(JAVA_LONG, MSG_CONTROLLEN);
        List<Fd> out = new ArrayList<>();
        long off = 0;
        while (off + CMSG_DATA <= ctlLen) {
            long len = ctl.get(JAVA_LONG, off + CMSG_LEN);
            if (len < CMSG_DATA || off + len > ctlLen) {
                break;
            }
            if (ctl.get(JAVA_INT, off + CMSG_LEVEL) == Libc.SOL_SOCKET && ctl.get(JAVA_INT, off + CMSG_TYPE) == Libc.SCM_RIGHTS) {
                for (long p = off + CMSG_DATA; p + 4 <= off + len; p += 4) {
                    out.add(new Fd(ctl.get(JAVA_INT, p)));
                }
            }
            off += align8(len);
        }
        return out.toArray(Fd[]::new);
    }

    private static long align8(long n) {
        return (n + 7) & ~7L;
    }
}
