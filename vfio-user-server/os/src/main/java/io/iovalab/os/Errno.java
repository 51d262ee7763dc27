package io.iovalab.os;

import java.lang.foreign.MemorySegment;

/** Linux errno values used by iovalab, with their names for messages and error replies. */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int E2BIG = 7;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int ENODEV = 19;
    public static final int ENOTDIR = 20;
    public static final int EINVAL = 22;
    public static final int EMFILE = 24;
    public static final int ENOTTY = 25;
    public static final int ENOSPC = 28;
    public static final int EPIPE = 32;
    public static final int ERANGE = 34;
    public static final int ENAMETOOLONG = 36;
    public static final int ENOSYS = 38;
    public static final int ENOTSOCK = 88;
    public static final int EOPNOTSUPP = 95;
    /** Same value as EOPNOTSUPP on Linux. */
    public static final int ENOTSUP = 95;
    public static final int EADDRINUSE = 98;
    public static final int ECONNABORTED = 103;
    public static final int ECONNRESET = 104;
    public static final int ENOTCONN = 107;
    public static final int ETIMEDOUT = 110;
    public static final int ECONNREFUSED = 111;

    private Errno() {
    }

    /** The symbolic name ("EAGAIN"); "E?" for a number libc does not know. */
    public static String name(int errno) {
        String known = builtInName(errno);
        if (known != null) {
            return known;
        }
        if (Libc.STRERRORNAME_NP.isPresent()) {
            try {
                MemorySegment s = (MemorySegment) Libc.STRERRORNAME_NP.get().invokeExact(errno);
                if (!s.equals(MemorySegment.NULL)) {
                    return s.reinterpret(64).getString(0);
                }
            } catch (Throwable t) {
                throw Libc.rethrow(t);
            }
        }
        return "E?";
    }

    private static String builtInName(int errno) {
        return switch (errno) {
            case EPERM -> "EPERM";
            case ENOENT -> "ENOENT";
            case EINTR -> "EINTR";
            case EIO -> "EIO";
            case E2BIG -> "E2BIG";
            case EBADF -> "EBADF";
            case EAGAIN -> "EAGAIN";
            case ENOMEM -> "ENOMEM";
            case EACCES -> "EACCES";
            case EFAULT -> "EFAULT";
            case EBUSY -> "EBUSY";
            case EEXIST -> "EEXIST";
            case ENODEV -> "ENODEV";
            case ENOTDIR -> "ENOTDIR";
            case EINVAL -> "EINVAL";
            case EMFILE -> "EMFILE";
            case ENOTTY -> "ENOTTY";
            case ENOSPC -> "ENOSPC";
            case EPIPE -> "EPIPE";
            case ERANGE -> "ERANGE";
            case ENAMETOOLONG -> "ENAMETOOLONG";
            case ENOSYS -> "ENOSYS";
            case ENOTSOCK -> "ENOTSOCK";
            case EOPNOTSUPP -> "EOPNOTSUPP";
            case EADDRINUSE -> "EADDRINUSE";
            case ECONNABORTED -> "ECONNABORTED";
            case ECONNRESET -> "ECONNRESET";
            case ENOTCONN -> "ENOTCONN";
            case ETIMEDOUT -> "ETIMEDOUT";
            case ECONNREFUSED -> "ECONNREFUSED";
            default -> null;
        };
    }

    /** A short English description (not locale-dependent, so logs read the same everywhere). */
    public static String describe(int errno) {
        return switch (errno) {
            case EPERM -> "operation not permitted";
            case ENOENT -> "no such file or directory";
            case EINTR -> "interrupted system call";
            case EIO -> "input/output error";
            case EBADF -> "bad file descriptor";
            case EAGAIN -> "resource temporarily unavailable";
            case ENOMEM -> "out of memory";
            case EACCES -> "permission denied";
            case EFAULT -> "bad address";
            case EEXIST -> "file exists";
            case ENOTDIR -> "not a directory";
            case EINVAL -> "invalid argument";
            case EMFILE -> "too many open files";
            case ENOSPC -> "no space left on device";
            case EPIPE -> "broken pipe";
            case ENAMETOOLONG -> "file name too long";
            case ENOTSOCK -> "not a socket";
            case EOPNOTSUPP -> "operation not supported";
            case EADDRINUSE -> "address in use";
            case ECONNRESET -> "connection reset by peer";
            case ENOTCONN -> "not connected";
            case ECONNREFUSED -> "connection refused";
            default -> "";
        };
    }
}
