package io.iovalab.os;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** AF_UNIX stream sockets with SCM_RIGHTS descriptor passing. Every socket is close-on-exec. */
public final class UnixSocket {
    /** sun_path is 108 bytes including the terminating NUL. */
    public static final int MAX_PATH_BYTES = 107;
    private static final int SUN_PATH_OFFSET = 2;
    private static final int SIZEOF_SOCKADDR_UN = 110;

    /**
     * What one recvmsg returned: the byte count (0 = end of stream), the descriptors that came
     * with those bytes (now owned by the caller), and whether the kernel had to drop
     * descriptors that did not fit the control buffer (MSG_CTRUNC; it closes those itself).
     */
    public record Received(long bytes, Fd[] fds, boolean fdsTruncated) {
    }

    /** SO_PEERCRED of a connected socket: who was on the other end when it connected. */
    public record PeerCredentials(int pid, int uid, int gid) {
    }

    private UnixSocket() {
    }

    /** socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC). */
    public static Fd socket() throws OsException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.errnoBuffer(a);
            int fd = (int) Libc.SOCKET.invokeExact(err, Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0);
            if (fd < 0) {
                throw Libc.fail("socket(AF_UNIX)", err);
            }
            return new Fd(fd);
        } catch (OsException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** Rejects a path that does not fit sun_path, naming the limit (bind would say only EINVAL). */
    static byte[] checkPathLength(Path path) throws OsException {
        byte[] p = path.toString().getBytes(StandardCharsets.UTF_8);
        if (p.length > MAX_PATH_BYTES) {
            throw new OsException("socket path is " + p.length + " bytes, sun_path holds at most " + MAX_PATH_BYTES
                    + ": " + path, Errno.ENAMETOOLONG);
        }
        return p;
    }

    private static MemorySegment sockaddr(Arena a, Path path) throws OsException {
        byte[] p = checkPathLength(path);
        MemorySegment sa = a.allocate(SIZEOF_SOCKADDR_UN, 2);
        sa.set(ValueLayout.JAVA_SHORT, 0, (short) Libc.AF_UNIX);
        MemorySegment.copy(p, 0, sa, ValueLayout.JAVA_BYTE, SUN_PATH_OFFSET, p.length);
        return sa;
    }

    /** bind(2) to {@code path}; the file gets the process umask's mode (see {@link #listen(Path, int)}). */
    public static void bind(Fd sock, Path path) throws OsException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.errnoBuffer(a);
            int r = (int) Libc.BIND.invokeExact(err, sock.value(), sockaddr(a, path), SIZEOF_SOCKADDR_UN);
            if (r < 0) {
                throw Libc.fail("bind(" + path + ")", err);
            }
        } catch (OsException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    public static void listen(Fd sock, int backlog) throws OsException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.errnoBuffer(a);
            int r = (int) Libc.LISTEN.invokeExact(err, sock.value(), backlog);
            if (r < 0) {
                throw Libc.fail("listen", err);
            }
        } catch (OsException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /**
     * A listening socket whose file at {@code path} has mode 0600 from the moment it exists.
     * Never replaces anything: if {@code path} exists this throws
     * {@link java.nio.file.FileAlreadyExistsException} and leaves it alone (deciding whether an
     * old socket is stale is the caller's policy).
     */
    public static Fd listen(Path path, int backlog) throws IOException {
        return PrivateSocketFile.listen(path, backlog);
    }

    /**
     * accept4(SOCK_CLOEXEC). Blocks on a blocking listener; on a non-blocking one returns null
     * when no connection is pending. The new socket is blocking.
     */
    public static Fd accept(Fd listener) throws OsException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.errnoBuffer(a);
            while (true) {
                int fd = (int) Libc.ACCEPT4.invokeExact(err, listener.value(), MemorySegment.NULL, MemorySegment.NULL,
                        Libc.SOCK_CLOEXEC);
                if (fd >= 0) {
                    return new Fd(fd);
                }
                int e = Libc.errno(err);
                if (e == Errno.EAGAIN) {
                    return null;
                }
                // ECONNABORTED: the client gave up while queued; the next one may be fine
                if (e != Errno.EINTR && e != Errno.ECONNABORTED) {
                    throw new OsException("accept4", e);
                }
            }
        } catch (OsException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** A blocking socket connected to {@code path}. */
    public static Fd connect(Path path) throws OsException {
        return connect(path, false);
    }

    /**
     * Connects to {@code path}. A non-blocking connect never waits: a listener whose backlog
     * is full gives EAGAIN instead of blocking the caller. The returned socket is blocking.
     */
    public static Fd connect(Path path, boolean nonBlocking) throws OsException {
        Fd fd = socket();
        try (Arena a = Arena.ofConfined()) {
            if (nonBlocking) {
                fd.setNonBlocking(true);
            }
            MemorySegment err = Libc.errnoBuffer(a);
            while (true) {
                int r = (int) Libc.CONNECT.invokeExact(err, fd.value(), sockaddr(a, path), SIZEOF_SOCKADDR_UN);
                if (r == 0) {
                    break;
                }
                // AF_UNIX connect is not left in progress by a signal: retrying is safe
                if (Libc.errno(err) != Errno.EINTR) {
                    throw Libc.fail("connect(" + path + ")", err);
                }
            }
            if (nonBlocking) {
                fd.setNonBlocking(false);
            }
            return fd;
        } catch (OsException e) {
            fd.close();
            throw e;
        } catch (Throwable t) {
            fd.close();
            throw Libc.rethrow(t);
        }
    }

    /** socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC): two connected ends. */
    public static Fd[] pair() throws OsException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.errnoBuffer(a);
            MemorySegment sv = a.allocate(8, 4);
            int r = (int) Libc.SOCKETPAIR.invokeExact(err, Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0, sv);
            if (r < 0) {
                throw Libc.fail("socketpair", err);
            }
            return new Fd[] {new Fd(sv.get(ValueLayout.JAVA_INT, 0)), new Fd(sv.get(ValueLayout.JAVA_INT, 4))};
        } catch (OsException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /**
     * shutdown(SHUT_RDWR): a thread blocked in recvmsg on this socket returns 0 (end of
     * stream), one blocked in sendmsg fails with EPIPE, and the peer sees end of stream.
     * Errors (ENOTCONN: the peer already went) are ignored.
     */
    public static void shutdown(Fd fd) {
        try (Arena a = Arena.ofConfined()) {
            int ignored = (int) Libc.SHUTDOWN.invokeExact(Libc.errnoBuffer(a), fd.value(), Libc.SHUT_RDWR);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** getsockopt(SO_PEERCRED). */
    public static PeerCredentials peer(Fd fd) throws OsException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.errnoBuffer(a);
            MemorySegment cred = a.allocate(12, 4); // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
            MemorySegment len = a.allocate(ValueLayout.JAVA_INT);
            len.set(ValueLayout.JAVA_INT, 0, 12);
            int r = (int) Libc.GETSOCKOPT.invokeExact(err, fd.value(), Libc.SOL_SOCKET, Libc.SO_PEERCRED, cred, len);
            if (r < 0) {
                throw Libc.fail("getsockopt(SO_PEERCRED)", err);
            }
            return new PeerCredentials(cred.get(ValueLayout.JAVA_INT, 0), cred.get(ValueLayout.JAVA_INT, 4),
                    cred.get(ValueLayout.JAVA_INT, 8));
        } catch (OsException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** setsockopt(SO_SNDBUF): small buffers split large messages into many partial transfers (tests). */
    public static void setSendBufferSize(Fd fd, int bytes) throws OsException {
        setIntOption(fd, Libc.SO_SNDBUF, bytes, "setsockopt(SO_SNDBUF)");
    }

    /** setsockopt(SO_RCVBUF). */
    public static void setReceiveBufferSize(Fd fd, int bytes) throws OsException {
        setIntOption(fd, Libc.SO_RCVBUF, bytes, "setsockopt(SO_RCVBUF)");
    }

    private static void setIntOption(Fd fd, int option, int value, String call) throws OsException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.errnoBuffer(a);
            MemorySegment v = a.allocateFrom(ValueLayout.JAVA_INT, value);
            int r = (int) Libc.SETSOCKOPT.invokeExact(err, fd.value(), Libc.SOL_SOCKET, option, v, 4);
            if (r < 0) {
                throw Libc.fail(call, err);
            }
        } catch (OsException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@link #send(Fd, MemorySegment[], int[])} with owned descriptors; they stay owned by the caller. */
    public static void send(Fd sock, MemorySegment[] parts, Fd... fds) throws OsException {
        int[] raw = new int[fds == null ? 0 : fds.length];
        for (int i = 0; i < raw.length; i++) {
            if (fds[i].isClosed()) {
                // its number may already belong to another file: sending it would leak that file
                throw new IllegalArgumentException("cannot send " + fds[i]);
            }
            raw[i] = fds[i].value();
        }
        send(sock, parts, raw);
    }

    /**
     * Sends {@code parts} (native segments) as one message with sendmsg(MSG_NOSIGNAL);
     * {@code fds} (null or empty for none) travel as one SCM_RIGHTS message with the first
     * byte. Partial sends continue from the first unsent byte without the descriptors, so the
     * receiver gets them exactly once, with the message's first bytes. The kernel duplicates
     * the descriptors: the caller still owns (and eventually closes) its own.
     */
    public static void send(Fd sock, MemorySegment[] parts, int[] fds) throws OsException {
        long total = 0;
        for (MemorySegment p : parts) {
            total += p.byteSize();
        }
        int fdCount = fds == null ? 0 : fds.length;
        if (fdCount > 0 && total == 0) {
            throw new IllegalArgumentException("descriptors need at least one byte to travel with");
        }
        if (parts.length > Libc.IOV_MAX) {
            throw new IllegalArgumentException(parts.length + " parts; sendmsg takes at most " + Libc.IOV_MAX);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.errnoBuffer(a);
            MemorySegment iov = a.allocate(MsgHdr.IOVEC, Math.max(1, parts.length));
            MemorySegment msg = a.allocate(MsgHdr.MSGHDR);
            MemorySegment ctl = fdCount > 0 ? MsgHdr.rightsMessage(a, fds) : MemorySegment.NULL;
            long sent = 0;
            boolean fdsSent = fdCount == 0;
            while (sent < total) {
                int n = 0;
                long skip = sent;
                for (MemorySegment p : parts) {
                    if (skip >= p.byteSize()) {
                        skip -= p.byteSize();
                        continue;
                    }
                    MsgHdr.setIovec(iov, n++, p.asSlice(skip), p.byteSize() - skip);
                    skip = 0;
                }
                MsgHdr.set(msg, iov, n, fdsSent ? MemorySegment.NULL : ctl, fdsSent ? 0 : ctl.byteSize());
                long r = (long) Libc.SENDMSG.invokeExact(err, sock.value(), msg, Libc.MSG_NOSIGNAL);
                if (r < 0) {
                    if (Libc.errno(err) == Errno.EINTR) {
                        continue;
                    }
                    throw Libc.fail("sendmsg", err);
                }
                fdsSent = true;
                sent += r;
            }
        } catch (OsException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /**
     * One recvmsg(MSG_CMSG_CLOEXEC) of at most {@code len} bytes into the native segment
     * {@code buf}, accepting at most {@code maxFds} descriptors (0: none). Descriptors beyond
     * that are closed (by the kernel, MSG_CTRUNC, or here) and reported as
     * {@link Received#fdsTruncated()}; the first {@code maxFds} are returned and owned by the
     * caller in every case.
     */
    public static Received receive(Fd sock, MemorySegment buf, long len, int maxFds) throws OsException {
        Io.checkLength(buf, len);
        if (maxFds < 0) {
            throw new IllegalArgumentException("maxFds " + maxFds);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.errnoBuffer(a);
            MemorySegment iov = a.allocate(MsgHdr.IOVEC);
            MsgHdr.setIovec(iov, 0, buf, len);
            long space = MsgHdr.controlSpace(maxFds);
            MemorySegment ctl = space > 0 ? a.allocate(space, 8) : MemorySegment.NULL;
            MemorySegment msg = a.allocate(MsgHdr.MSGHDR);
            while (true) {
                MsgHdr.set(msg, iov, 1, ctl, space);
                long r = (long) Libc.RECVMSG.invokeExact(err, sock.value(), msg, Libc.MSG_CMSG_CLOEXEC);
                if (r < 0) {
                    if (Libc.errno(err) == Errno.EINTR) {
                        continue;
                    }
                    throw Libc.fail("recvmsg", err);
                }
                Fd[] fds = space > 0 ? MsgHdr.receivedFds(msg, ctl) : new Fd[0];
                boolean truncated = (MsgHdr.flags(msg) & Libc.MSG_CTRUNC) != 0;
                if (fds.length > maxFds) {
                    // CMSG_SPACE rounds up to 8 bytes, so an odd maxFds leaves room for one more
                    for (int i = maxFds; i < fds.length; i++) {
                        fds[i].close();
                    }
                    fds = java.util.Arrays.copyOf(fds, maxFds);
                    truncated = true;
                }
                return new Received(r, fds, truncated);
            }
        } catch (OsException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }
}
