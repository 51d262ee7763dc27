package io.iovalab.iommu;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Device threads DMA into ranges while another thread maps, unmaps and drops whole backings
 * (closing their arenas, i.e. the munmap): the JVM survives, every access either completes with
 * the right bytes or faults, and nothing else escapes.
 */
class UnmapStressTest {
    static final int SLOTS = 16;
    static final long SLOT = 64 * 1024;
    static final int MIN_ROUNDS = 30;

    @Test
    void accesses_complete_or_fault_while_maps_come_and_go() throws Exception {
        stress(IovaSpace.TABLE_MAX_PAGES);
    }

    /** The same with every slot held whole, as big maps (guest RAM without a vIOMMU) are. */
    @Test
    void accesses_complete_or_fault_while_whole_maps_come_and_go() throws Exception {
        stress(SLOT / 4096 - 1);
    }

    private void stress(long tableMaxPages) throws Exception {
        IovaSpace space = new IovaSpace("stress", null, Integer.MAX_VALUE, tableMaxPages);
        space.setBusMasterEnabled(true);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong completed = new AtomicLong();
        AtomicLong faulted = new AtomicLong();
        ConcurrentLinkedQueue<Throwable> escaped = new ConcurrentLinkedQueue<>();
        List<Thread> devices = new ArrayList<>();
        for (int t = 0; t < 3; t++) {
            int id = t;
            devices.add(Thread.ofPlatform().start(() -> {
                DmaCommand dma = space.newCommand();
                MemorySegment buf = Arena.ofAuto().allocate(SLOT);
                long i = 0;
                while (!stop.get()) {
                    long slot = (i++ * 7 + id) % SLOTS;
                    long iova = 0x1000_0000L + slot * SLOT;
                    try {
                        dma.start(id, (int) i);
                        // every byte of a slot carries the slot number: a completed read must see it
                        dma.read(iova, buf, 0, SLOT);
                        byte want = (byte) slot;
                        for (long k = 0; k < SLOT; k += 4096) {
                            if (buf.get(ValueLayout.JAVA_BYTE, k) != want) {
                                escaped.add(new AssertionError("stale or foreign data in slot " + slot));
                            }
                        }
                        dma.write(iova, buf, 0, SLOT);
                        completed.incrementAndGet();
                    } catch (DmaFault f) {
                        faulted.incrementAndGet();
                    } catch (Throwable e) {
                        escaped.add(e);
                    } finally {
                        dma.end();
                    }
                }
            }));
        }
        // a minimum of rounds rather than of time, so a loaded machine slows the test instead of failing it
        long start = System.nanoTime();
        int rounds = 0;
        while (System.nanoTime() - start < 2_000_000_000L || rounds < MIN_ROUNDS) {
            // a fresh backing per round, released by the space when its last map goes: a real munmap under readers
            TestBacking b = new TestBacking(SLOTS * SLOT);
            for (int s = 0; s < SLOTS; s++) {
                b.segment.asSlice(s * SLOT, SLOT).fill((byte) s);
            }
            for (int s = 0; s < SLOTS; s++) {
                space.map(0x1000_0000L + s * SLOT, SLOT, b, s * SLOT, true, true);
            }
            b.release(); // the space holds the only references now
            Thread.sleep(1);
            switch (rounds++ % 3) {
                case 0 -> space.unmapAll();
                case 1 -> {
                    for (int s = 0; s < SLOTS; s++) {
                        space.unmap(0x1000_0000L + s * SLOT, SLOT);
                    }
                }
                default -> {
                    // partial unmaps split maps, then the rest goes
                    space.unmap(0x1000_0000L + SLOT / 2, SLOT * 3);
                    space.unmapAll();
                }
            }
            assertFalse(b.arena.scope().isAlive(), "the backing was unmapped once its last map went");
        }
        stop.set(true);
        for (Thread t : devices) {
            t.join();
        }
        assertTrue(escaped.isEmpty(), () -> "escaped: " + escaped.peek());
        assertTrue(completed.get() > 0, "some accesses completed");
        assertTrue(faulted.get() > 0, "some accesses faulted");
        System.out.printf("stress: %d rounds, %d accesses completed, %d faulted%n", rounds, completed.get(), faulted.get());
    }
}
