package io.iovalab.nvme;

import io.iovalab.iommu.DmaCommand;
import io.iovalab.iommu.DmaFault;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Blocks in a file. Flush and FUA call {@code force(true)}, so what the guest was told is durable
 * survives a crash of the server or the machine. Data passes through a bounce buffer per call.
 */
final class FileBackend implements Backend {
    private static final int CHUNK = 1 << 20;
    private final FileChannel channel;
    private final long size;
    private final ThreadLocal<MemorySegment> bounce = ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CHUNK, 4096));

    FileBackend(Path file, long size) throws IOException {
        this.channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        this.size = size;
        if (channel.size() < size) {
            channel.truncate(size); // no-op when larger; sparse extension below
            channel.write(ByteBuffer.wrap(new byte[1]), size - 1);
        }
    }

    @Override
    public void toGuest(DmaCommand dma, long offset, long iova, long n) throws DmaFault, IOException {
        MemorySegment b = bounce.get();
        for (long done = 0; done < n; ) {
            int c = (int) Math.min(n - done, CHUNK);
            ByteBuffer bb = b.asSlice(0, c).asByteBuffer();
            while (bb.hasRemaining()) {
                if (channel.read(bb, offset + done + bb.position()) < 0) {
                    break;
                }
            }
            dma.write(iova + done, b, 0, c);
            done += c;
        }
    }

    @Override
    public void fromGuest(DmaCommand dma, long iova, long offset, long n) throws DmaFault, IOException {
        MemorySegment b = bounce.get();
        for (long done = 0; done < n; ) {
            int c = (int) Math.min(n - done, CHUNK);
            dma.read(iova + done, b, 0, c);
            ByteBuffer bb = b.asSlice(0, c).asByteBuffer();
            while (bb.hasRemaining()) {
                channel.write(bb, offset + done + bb.position());
            }
            done += c;
        }
    }

    @Override
    public void read(long offset, byte[] dst, int n) throws IOException {
        ByteBuffer bb = ByteBuffer.wrap(dst, 0, n);
        while (bb.hasRemaining() && channel.read(bb, offset + bb.position()) >= 0) {
            // loop until filled or EOF
        }
    }

    @Override
    public void zero(long offset, long n) throws IOException {
        byte[] z = new byte[(int) Math.min(n, CHUNK)];
        for (long done = 0; done < n; ) {
            int c = (int) Math.min(n - done, z.length);
            ByteBuffer bb = ByteBuffer.wrap(z, 0, c);
            while (bb.hasRemaining()) {
                channel.write(bb, offset + done + bb.position());
            }
            done += c;
        }
    }

    @Override
    public void flush() throws IOException {
        channel.force(true);
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void close() {
        try {
            channel.force(true);
            channel.close();
        } catch (IOException ignored) {
            // closing on the way out: nothing left to tell
        }
    }
}
