package io.iovalab.qemu;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Writes the "newc" cpio format the kernel's initramfs unpacker reads. */
final class NewcArchive {
    private NewcArchive() {
    }

    static byte[] singleFile(String name, int mode, byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        entry(out, 1, name, mode, data);
        entry(out, 2, "TRAILER!!!", 0, new byte[0]);
        return out.toByteArray();
    }

    private static void entry(ByteArrayOutputStream out, int ino, String name, int mode, byte[] data) {
        byte[] n = (name + "\0").getBytes(StandardCharsets.US_ASCII);
        String h = String.format("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
                ino, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, n.length, 0);
        out.writeBytes(h.getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(n);
        pad(out);
        out.writeBytes(data);
        pad(out);
    }

    private static void pad(ByteArrayOutputStream out) {
        while (out.size() % 4 != 0) {
            out.write(0);
        }
    }
}
