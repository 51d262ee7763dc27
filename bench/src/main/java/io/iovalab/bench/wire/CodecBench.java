package io.iovalab.bench.wire;

import io.iovalab.wire.Command;
import io.iovalab.wire.Header;
import io.iovalab.wire.Message;
import io.iovalab.wire.MessageDecoder;
import io.iovalab.wire.MessageEncoder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;

/**
 * B3 (issue 11): the message a trapped doorbell costs — decode a 4-byte VFIO_USER_REGION_WRITE
 * and encode its reply with the wire codec — beside a floor that reads the same fields and writes
 * the same 32 reply bytes by hand into a buffer it reuses.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class CodecBench {
    ByteBuffer frame;
    final MessageDecoder decoder = new MessageDecoder(1 << 20);
    final MessageEncoder encoder = new MessageEncoder();
    final ByteBuffer reply = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);

    @Setup(Level.Trial)
    public void setup() {
        frame = new MessageEncoder().encodeRequest(7, Command.REGION_WRITE,
                new Message.RegionWrite(0x1008, 0, 4, new byte[] {5, 0, 0, 0}), false);
    }

    @Benchmark
    public int regionWriteDecodeAndReply() throws Exception {
        ByteBuffer f = frame.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        Header h = Header.decode(f);
        ByteBuffer body = f.position(Header.SIZE).slice().order(ByteOrder.LITTLE_ENDIAN);
        Message.RegionWrite w = (Message.RegionWrite) decoder.decodeRequest(h, body, 0);
        return encoder.encodeReply(h, new Message.RegionWriteReply(w.offset(), w.region(), w.count())).remaining();
    }

    @Benchmark
    public int floorByHand() {
        ByteBuffer f = frame;
        int id = f.getShort(0) & 0xffff;
        long offset = f.getLong(16);
        int region = f.getInt(24);
        int count = f.getInt(28);
        int value = f.getInt(32);
        ByteBuffer r = reply;
        r.putShort(0, (short) id).putShort(2, (short) 10).putInt(4, 32).putInt(8, 1).putInt(12, 0);
        r.putLong(16, offset).putInt(24, region).putInt(28, count);
        return r.limit() + value;
    }
}
