package io.iovalab.pci;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** Config-space access the way the server does it: byte arrays, little-endian. */
final class Cfg {
    private Cfg() {
    }

    static PciFunction.Builder base() {
        return PciFunction.builder().vendorId(0x1b36).deviceId(0x11fe);
    }

    static int read(PciFunction f, int offset, int width) {
        byte[] b = new byte[width];
        f.configRead(offset, b, 0, width);
        int v = 0;
        for (int i = 0; i < width; i++) {
            v |= (b[i] & 0xff) << (8 * i);
        }
        return v;
    }

    static int read8(PciFunction f, int offset) {
        return read(f, offset, 1);
    }

    static int read16(PciFunction f, int offset) {
        return read(f, offset, 2);
    }

    static int read32(PciFunction f, int offset) {
        return read(f, offset, 4);
    }

    static void write(PciFunction f, int offset, int width, int value) {
        byte[] b = new byte[width];
        for (int i = 0; i < width; i++) {
            b[i] = (byte) (value >>> (8 * i));
        }
        f.configWrite(offset, b, 0, width);
    }

    static void write16(PciFunction f, int offset, int value) {
        write(f, offset, 2, value);
    }

    static void write32(PciFunction f, int offset, int value) {
        write(f, offset, 4, value);
    }

    static int cap(PciFunction f, int id) {
        for (Capability c : f.capabilities()) {
            if (!c.extended() && c.id() == id) {
                return c.offset();
            }
        }
        throw new AssertionError("no capability 0x" + Integer.toHexString(id));
    }

    /** A sink that counts and can refuse signals once it is "closed". */
    static final class CountingSink implements EventSink {
        final AtomicInteger count = new AtomicInteger();
        volatile boolean closed;
        volatile boolean signalledAfterClose;

        @Override
        public void signal() {
            if (closed) {
                signalledAfterClose = true;
            }
            count.incrementAndGet();
        }

        int count() {
            return count.get();
        }
    }

    /** Records listener calls in order. */
    static final class RecordingListener implements PciListener {
        final List<String> calls = new ArrayList<>();

        @Override
        public synchronized void busMasterChanged(boolean enabled) {
            calls.add("bme=" + enabled);
        }

        @Override
        public synchronized void functionLevelReset() {
            calls.add("flr");
        }

        @Override
        public synchronized void msixEnableChanged(boolean enabled, boolean functionMasked) {
            calls.add("msix=" + enabled + "/" + functionMasked);
        }
    }

    /** A handler that records accesses and answers reads with a pattern derived from the offset. */
    static final class RecordingHandler implements RegionHandler {
        final List<String> accesses = new ArrayList<>();
        final byte[] mem;

        RecordingHandler(int size) {
            mem = new byte[size];
        }

        @Override
        public long read(long offset, int width) {
            accesses.add("r" + width + "@" + offset);
            long v = 0;
            for (int i = 0; i < width; i++) {
                v |= (mem[(int) offset + i] & 0xffL) << (8 * i);
            }
            return v;
        }

        @Override
        public void write(long offset, int width, long value) {
            accesses.add("w" + width + "@" + offset);
            for (int i = 0; i < width; i++) {
                mem[(int) offset + i] = (byte) (value >>> (8 * i));
            }
        }

        @Override
        public void mmapAreaWritten(long offset, int width, long value) {
            accesses.add("m" + width + "@" + offset + "=" + Long.toHexString(value));
        }
    }
}
