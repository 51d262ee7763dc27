package io.iovalab.pci;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

import static io.iovalab.pci.Cfg.*;
import static io.iovalab.pci.IrqIndex.*;
import static io.iovalab.pci.PciRegs.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Device threads signal while the message thread replaces eventfds and flips the Function Mask,
 * as QEMU does with KVM irqfds. A replaced sink is closed by the server as soon as setSinks
 * returns, so it must never be signalled afterwards.
 */
class InterruptConcurrencyTest {
    private static final int THREADS = 2;
    private static final int SIGNALS = 20_000;

    private static PciFunction msixFunction() {
        PciFunction f = base().bar(0, Bar.memory32(4096, RegionHandler.NONE)).msix(2, 0, 0, 0, 0x800).build();
        write16(f, cap(f, PCI_CAP_ID_MSIX) + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE);
        write16(f, PCI_COMMAND, PCI_COMMAND_MEMORY);
        return f;
    }

    private static List<Thread> signallers(PciFunction f, CountDownLatch go, AtomicBoolean done) {
        List<Thread> ts = new ArrayList<>();
        CountDownLatch finished = new CountDownLatch(THREADS);
        for (int t = 0; t < THREADS; t++) {
            Thread th = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < SIGNALS; i++) {
                    f.interrupts().signal(0);
                }
                finished.countDown();
                if (finished.getCount() == 0) {
                    done.set(true);
                }
            });
            th.start();
            ts.add(th);
        }
        return ts;
    }

    @Test
    void every_signal_reaches_exactly_one_live_sink_while_sinks_are_replaced() throws Exception {
        PciFunction f = msixFunction();
        List<CountingSink> all = new ArrayList<>();
        CountingSink current = new CountingSink();
        all.add(current);
        f.interrupts().setSinks(VFIO_PCI_MSIX_IRQ_INDEX, 0, new EventSink[] {current});
        CountDownLatch go = new CountDownLatch(1);
        AtomicBoolean done = new AtomicBoolean();
        List<Thread> ts = signallers(f, go, done);
        go.countDown();
        while (!done.get()) {
            CountingSink next = new CountingSink();
            all.add(next);
            f.interrupts().setSinks(VFIO_PCI_MSIX_IRQ_INDEX, 0, new EventSink[] {next});
            current.closed = true;
            current = next;
        }
        for (Thread t : ts) {
            t.join();
        }
        assertEquals((long) THREADS * SIGNALS, all.stream().mapToLong(CountingSink::count).sum(),
                "with a sink always present and nothing masked, no signal is lost or doubled");
        assertTrue(all.stream().noneMatch(s -> s.signalledAfterClose), "a replaced sink was signalled");
        assertEquals(0, f.regionRead(0, 0x800, 8));
    }

    @Test
    void de_assigned_and_masked_periods_leave_pending_bits_that_are_sent_once() throws Exception {
        PciFunction f = msixFunction();
        int ctl = cap(f, PCI_CAP_ID_MSIX) + PCI_MSIX_FLAGS;
        List<CountingSink> all = new ArrayList<>();
        CountingSink current = null;
        CountDownLatch go = new CountDownLatch(1);
        AtomicBoolean done = new AtomicBoolean();
        List<Thread> ts = signallers(f, go, done);
        go.countDown();
        int round = 0;
        while (!done.get()) {
            CountingSink next = round % 3 == 0 ? null : new CountingSink();
            if (next != null) {
                all.add(next);
            }
            f.interrupts().setSinks(VFIO_PCI_MSIX_IRQ_INDEX, 0, new EventSink[] {next});
            if (current != null) {
                current.closed = true;
            }
            current = next;
            write16(f, ctl, PCI_MSIX_FLAGS_ENABLE | (round % 2 == 0 ? PCI_MSIX_FLAGS_MASKALL : 0));
            round++;
        }
        for (Thread t : ts) {
            t.join();
        }
        CountingSink last = new CountingSink();
        all.add(last);
        write16(f, ctl, PCI_MSIX_FLAGS_ENABLE);
        boolean pendingBefore = f.regionRead(0, 0x800, 8) != 0;
        f.interrupts().setSinks(VFIO_PCI_MSIX_IRQ_INDEX, 0, new EventSink[] {last});
        if (current != null) {
            current.closed = true;
        }
        assertEquals(pendingBefore ? 1 : 0, last.count(), "a pending vector is sent exactly once to the new sink");
        assertEquals(0, f.regionRead(0, 0x800, 8), "nothing left pending");
        long delivered = all.stream().mapToLong(CountingSink::count).sum();
        assertTrue(delivered >= 1 && delivered <= (long) THREADS * SIGNALS, "delivered " + delivered);
        assertTrue(all.stream().noneMatch(s -> s.signalledAfterClose), "a replaced sink was signalled");
        f.interrupts().signal(0);
        assertEquals(pendingBefore ? 2 : 1, last.count());
    }
}
