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
 * What the guest relies on when it reuses a page right after unmapping it: the memory stays
 * mapped (no arena close to catch a late access), and after each unmap returns the "guest"
 * rewrites the pages with a new tag. A device read that completes must have seen one tag only —
 * a read torn across the rewrite means it used a translation after the unmap returned — and no
 * device write may land after the unmap returned.
 */
class UnmapReuseTest {
    static final int SLOTS = 8;
    static final long SLOT = 32 * 1024;
    static final long BASE = 0x2000_0000L;
    static final int ROUNDS = 400;
    static final int SAMPLE = 512;

    @Test
    void no_access_uses_a_translation_after_its_unmap_returned() throws Exception {
        check(IovaSpace.TABLE_MAX_PAGES);
    }

    @Test
    void no_access_uses_a_whole_map_after_its_unmap_returned() throws Exception {
        check(SLOT / 4096 - 1);
    }

    private void check(long tableMaxPages) throws Exception {
        TestBacking b = new TestBacking(SLOTS * SLOT);
        IovaSpace space = new IovaSpace("reuse", null, Integer.MAX_VALUE, tableMaxPages);
        space.setBusMasterEnabled(true);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong completed = new AtomicLong();
        ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        List<Thread> devices = new ArrayList<>();
        for (int t = 0; t < 3; t++) {
            int id = t;
            devices.add(Thread.ofPlatform().start(() -> {
                DmaCommand dma = space.newCommand();
                MemorySegment buf = Arena.ofAuto().allocate(SLOT);
                long i = 0;
                while (!stop.get()) {
                    long iova = BASE + ((i++ * 5 + id) % SLOTS) * SLOT;
                    try {
                        dma.read(iova, buf, 0, SLOT);
                        byte tag = buf.get(ValueLayout.JAVA_BYTE, 0);
                        for (long k = SAMPLE; k < SLOT; k += SAMPLE) {
                            if (buf.get(ValueLayout.JAVA_BYTE, k) != tag) {
                                problems.add("a read saw tags " + tag + " and " + buf.get(ValueLayout.JAVA_BYTE, k));
                                break;
                            }
                        }
                        if (id == 0) {
                            dma.write(iova, buf, 0, SLOT); // puts back what it read: harmless unless late
                        }
                        completed.incrementAndGet();
                    } catch (DmaFault expected) {
                        // the slot was unmapped
                    } catch (Throwable e) {
                        problems.add("escaped: " + e);
                    }
                }
            }));
        }
        for (int round = 1; round <= ROUNDS && problems.isEmpty(); round++) {
            for (int s = 0; s < SLOTS; s++) {
                space.map(BASE + s * SLOT, SLOT, b, s * SLOT, true, true);
            }
            Thread.onSpinWait();
            if (round % 2 == 0) {
                space.unmapAll();
            } else {
                for (int s = 0; s < SLOTS; s++) {
                    space.unmap(BASE + s * SLOT, SLOT);
                }
            }
            byte tag = (byte) round;
            b.segment.fill(tag);
            // give a late device write time to land, then look for it
            Thread.sleep(0, 200_000);
            for (long k = 0; k < b.segment.byteSize(); k += SAMPLE) {
                if (b.segment.get(ValueLayout.JAVA_BYTE, k) != tag) {
                    problems.add("a device write landed after its unmap returned (round " + round + ")");
                    break;
                }
            }
        }
        stop.set(true);
        for (Thread t : devices) {
            t.join();
        }
        space.close();
        b.release();
        assertTrue(problems.isEmpty(), () -> problems.size() + " problems, first: " + problems.peek());
        assertTrue(completed.get() > 0, "some accesses completed");
    }
}
