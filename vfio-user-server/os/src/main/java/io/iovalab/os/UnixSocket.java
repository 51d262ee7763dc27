package io.iovalab.os;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/** AF_UNIX stream sockets with SCM_RIGHTS descriptor passing. */
public final class UnixSocket {
    private static final int SUN_PATH_MAX = 108;
    private static final int SIZEOF_SOCKADDR_UN = 110;
    // struct msghdr on x86-64
    private static final int MSGHDR_SIZE = 56;
    private static final int MSG_IOV = 16;
    private static final int MSG_IOVLEN = 24;
    private static final int MSG_CONTROL = 32;
    private static final int MSG_CONTROLLEN = 40;
    private static final int MSG_FLAGS = 48;
    private static final int CMSG_HDR = 16;

    /** What one recvmsg returned: the bytes, the descriptors and whether some were dropped. */
    public record Received(long bytes, Fd[] fds, boolean fdsTruncated) {
    }

    /** SO_PEERCRED of a connected socket. */
    public record PeerCredentials(int pid, int uid, int gid) {
    }

    private UnixSocket() {
    }

    private static Fd socket() throws OsException {
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

    private static MemorySegment sockaddr(Arena a, Path path) throws OsException {
        byte[] p = path.toString().getBytes(StandardCharsets.UTF_8);
        if (p.length >= SUN_PATH_MAX) {
            throw new OsException("socket path longer than " + (SUN_PATH_MAX - 1) + " bytes: " + path, Errno.EINVAL);
        }
        MemorySegment sa = a.allocate(SIZEOF_SOCKADDR_UN, 2);
        sa.set(ValueLayout.JAVA_SHORT, 0, (short) Libc.AF_UNIX);
        MemorySegment.copy(p, 0, sa, ValueLayout.JAVA_BYTE, 2, p.length);
        return sa;
    }

    /**
     * A listening socket at {@code path} whose file has mode 0600 from the moment it is visible:
     * bound inside a fresh 0700 directory, chmod-ed, then renamed into place (no umask games,
     * which would be process-wide).
     */
    public static Fd listen(Path path, int backlog) throws IOException {
        Path dir = Files.createTempDirectory(path.toAbsolutePath().getParent(), ".iovalab-bind-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path tmp = dir.resolve("s");
        Fd fd = socket();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.errnoBuffer(a);
            int r = (int) Libc.BIND.invokeExact(err, fd.value(), sockaddr(a, tmp), SIZEOF_SOCKADDR_UN);
            if (r < 0) {
                throw Libc.fail("bind(" + path + ")", err);
            }
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            r = (int) Libc.LISTEN.invokeExact(err, fd.value(), backlog);
            if (r < 0) {
                throw Libc.fail("listen(" + path + ")", err);
            }
            Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return fd;
        } catch (IOException e) {
            fd.close();
            throw e;
        } catch (Throwable t) {
            fd.close();
            throw Libc.rethrow(t);
        } finally {
            Files.deleteIfExists(tmp);
            Files.deleteIfExists(dir);
        }
    }

    public static Fd accept(Fd listener) throws OsException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.errnoBuffer(a);
            while (true) {
                int fd = (int) Libc.ACCEPT4.invokeExact(err, listener.value(), MemorySegment.NULL, MemorySegment.NULL,
                        Libc.SOCK_CLOEXEC);
                if (fd >= 0) {
                    return new Fd(fd);
                }
                if (Libc.errno(err) != Libc.EINTR) {
                    throw Libc.fail("accept4", err);
                }
            }
        } catch (OsException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    public static Fd connect(Path path) throws OsException {
        Fd fd = socket();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.errnoBuffer(a);
            int r = (int) Libc.CONNECT.invokeExact(err, fd.value(), sockaddr(a, path), SIZEOF_SOCKADDR_UN);
            if (r < 0) {
                throw Libc.fail("connect(" + path + ")", err);
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

    /** socketpair(AF_UNIX, SOCK_STREAM): two connected ends. */
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

    /** shutdown(SHUT_RDWR): wakes a thread blocked in recvmsg on the same socket. */
    public static void shutdown(Fd fd) {
        try (Arena a = Arena.ofConfined()) {
            int ignored = (int) Libc.SHUTDOWN.invokeExact(Libc.errnoBuffer(a), fd.value(), Libc.SHUT_RDWR);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    public static PeerCredentials peer(Fd fd) throws OsException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.errnoBuffer(a);
            MemorySegment cred = a.allocate(12, 4);
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

    /**
     * Sends {@code parts} as one message; {@code fds} travel as SCM_RIGHTS with the first byte.
     * Loops over partial sends (the rest goes without descriptors).
     */
    public static void send(Fd sock, MemorySegment[] parts, int[] fds) throws OsException {
        long total = 0;
        for (MemorySegment p : parts) {
            total += p.byteSize();
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.errnoBuffer(a);
            MemorySegment iov = a.allocate(16L * parts.length, 8);
            MemorySegment msg = a.allocate(MSGHDR_SIZE, 8);
            long sent = 0;
            boolean fdsSent = fds == null || fds.length == 0;
            while (sent < total) {
                // rebuild the iovec from the first unsent byte
                int n = 0;
                long skip = sent;
                for (MemorySegment p : parts) {
                    if (skip >= p.byteSize()) {
                        skip -= p.byteSize();
                        continue;
                    }
                    iov.set(ValueLayout.ADDRESS, 16L * n, p.asSlice(skip));
                    iov.set(ValueLayout.JAVA_LONG, 16L * n + 8, p.byteSize() - skip);
                    skip = 0;
                    n++;
                }
                msg.fill((byte) 0);
                msg.set(ValueLayout.ADDRESS, MSG_IOV, iov);
                msg.set(ValueLayout.JAVA_LONG, MSG_IOVLEN, n);
                if (!fdsSent) {
                    long space = CMSG_HDR + align8(4L * fds.length);
                    MemorySegment ctl = a.allocate(space, 8);
                    ctl.set(ValueLayout.JAVA_LONG, 0, CMSG_HDR + 4L * fds.length);
                    ctl.set(ValueLayout.JAVA_INT, 8, Libc.SOL_SOCKET);
                    ctl.set(ValueLayout.JAVA_INT, 12, Libc.SCM_RIGHTS);
                    for (int i = 0; i < fds.length; i++) {
                        ctl.set(ValueLayout.JAVA_INT, CMSG_HDR + 4L * i, fds[i]);
                    }
                    msg.set(ValueLayout.ADDRESS, MSG_CONTROL, ctl);
                    msg.set(ValueLayout.JAVA_LONG, MSG_CONTROLLEN, space);
                }
                long r = (long) Libc.SENDMSG.invokeExact(err, sock.value(), msg, Libc.MSG_NOSIGNAL);
                if (r < 0) {
                    if (Libc.errno(err) == Libc.EINTR) {
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
     * One recvmsg of at most {@code len} bytes into {@code buf}, with room for {@code maxFds}
     * descriptors. Descriptors beyond that are dropped by the kernel (MSG_CTRUNC); the ones that
     * did arrive are returned and owned by the caller.
     */
    public static Received receive(Fd sock, MemorySegment buf, long len, int maxFds) throws OsException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.errnoBuffer(a);
            MemorySegment iov = a.allocate(16, 8);
            iov.set(ValueLayout.ADDRESS, 0, buf);
            iov.set(ValueLayout.JAVA_LONG, 8, len);
            long space = maxFds > 0 ? CMSG_HDR + align8(4L * maxFds) : 0;
            MemorySegment ctl = space > 0 ? a.allocate(space, 8) : MemorySegment.NULL;
            MemorySegment msg = a.allocate(MSGHDR_SIZE, 8);
            while (true) {
                msg.fill((byte) 0);
                msg.set(ValueLayout.ADDRESS, MSG_IOV, iov);
                msg.set(ValueLayout.JAVA_LONG, MSG_IOVLEN, 1);
                msg.set(ValueLayout.ADDRESS, MSG_CONTROL, ctl);
                msg.set(ValueLayout.JAVA_LONG, MSG_CONTROLLEN, space);
                long r = (long) Libc.RECVMSG.invokeExact(err, sock.value(), msg, Libc.MSG_CMSG_CLOEXEC);
                if (r < 0) {
                    if (Libc.errno(err) == Libc.EINTR) {
                        continue;
                    }
                    throw Libc.fail("recvmsg", err);
                }
                int flags = msg.get(ValueLayout.JAVA_INT, MSG_FLAGS);
                long ctlLen = msg.get(ValueLayout.JAVA_LONG, MSG_CONTROLLEN);
                return new Received(r, collectFds(ctl, ctlLen), (flags & Libc.MSG_CTRUNC) != 0);
            }
        } catch (OsException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    private static Fd[] collectFds(MemorySegment ctl, long ctlLen) {
        java.util.ArrayList<Fd> out = new java.util.ArrayList<>();
        long off = 0;
        while (off + CMSG_HDR <= ctlLen) {
            long cmsgLen = ctl.get(ValueLayout.JAVA_LONG, off);
            int level = ctl.get(ValueLayout.JAVA_INT, off + 8);
            int type = ctl.get(ValueLayout.JAVA_INT, off + 12);
            if (cmsgLen < CMSG_HDR || off + cmsgLen > ctlLen) {
                break;
            }
            if (level == Libc.SOL_SOCKET && type == Libc.SCM_RIGHTS) {
                for (long p = off + CMSG_HDR; p + 4 <= off + cmsgLen; p += 4) {
                    out.add(new Fd(ctl.get(ValueLayout.JAVA_INT, p)));
                }
            }
            off += align8(cmsgLen);
        }
        return out.toArray(Fd[]::new);
    }

    private static long align8(long n) {
        return (n + 7) & ~7L;
    }
}
