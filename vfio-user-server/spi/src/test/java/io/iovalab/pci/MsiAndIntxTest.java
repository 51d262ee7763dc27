package io.iovalab.pci;

import org.junit.jupiter.api.Test;

import static io.iovalab.pci.Cfg.*;
import static io.iovalab.pci.IrqIndex.*;
import static io.iovalab.pci.PciRegs.*;
import static org.junit.jupiter.api.Assertions.*;

class MsiAndIntxTest {

    private static PciFunction intxFunction() {
        return base().bar(0, Bar.memory32(4096, RegionHandler.NONE)).interruptPin(1).build();
    }

    private static boolean interruptStatus(PciFunction f) {
        return (read16(f, PCI_STATUS) & PCI_STATUS_INTERRUPT) != 0;
    }

    @Test
    void intx_is_a_level_automasked_per_event() {
        PciFunction f = intxFunction();
        CountingSink sink = new CountingSink();
        f.interrupts().setSinks(VFIO_PCI_INTX_IRQ_INDEX, 0, new EventSink[] {sink});
        assertEquals(Interrupts.Mode.INTX, f.interrupts().mode());

        f.interrupts().signal(0);
        assertTrue(interruptStatus(f));
        assertEquals(1, sink.count());
        f.interrupts().signal(0);
        assertEquals(1, sink.count(), "automasked: no second event before the client unmasks");

        f.interrupts().unmask(VFIO_PCI_INTX_IRQ_INDEX, 0, 1);
        assertEquals(2, sink.count(), "still asserted at unmask (EOI): fires again");

        f.interrupts().deassertIntx();
        assertFalse(interruptStatus(f));
        f.interrupts().unmask(VFIO_PCI_INTX_IRQ_INDEX, 0, 1);
        assertEquals(2, sink.count(), "deasserted: the unmask sends nothing");
        f.interrupts().signal(0);
        assertEquals(3, sink.count());
    }

    @Test
    void intx_disable_holds_the_event_but_keeps_interrupt_status() {
        PciFunction f = intxFunction();
        CountingSink sink = new CountingSink();
        f.interrupts().setSinks(VFIO_PCI_INTX_IRQ_INDEX, 0, new EventSink[] {sink});
        write16(f, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE);
        f.interrupts().signal(0);
        assertEquals(0, sink.count());
        assertTrue(interruptStatus(f), "Interrupt Status shows the condition even while INTx is disabled");
        write16(f, PCI_COMMAND, 0);
        assertEquals(1, sink.count(), "re-enabling INTx with the line asserted raises it");
    }

    @Test
    void intx_masked_by_set_irqs_waits_for_unmask() {
        PciFunction f = intxFunction();
        CountingSink sink = new CountingSink();
        f.interrupts().setSinks(VFIO_PCI_INTX_IRQ_INDEX, 0, new EventSink[] {sink});
        f.interrupts().mask(VFIO_PCI_INTX_IRQ_INDEX, 0, 1);
        f.interrupts().signal(0);
        assertEquals(0, sink.count());
        f.interrupts().unmask(VFIO_PCI_INTX_IRQ_INDEX, 0, 1);
        assertEquals(1, sink.count());
    }

    @Test
    void intx_asserted_before_a_sink_exists_fires_when_one_arrives() {
        PciFunction f = intxFunction();
        f.interrupts().signal(0);
        CountingSink sink = new CountingSink();
        f.interrupts().setSinks(VFIO_PCI_INTX_IRQ_INDEX, 0, new EventSink[] {sink});
        assertEquals(1, sink.count());
    }

    @Test
    void no_pin_and_no_msi_means_signals_are_dropped() {
        PciFunction f = base().build();
        assertEquals(Interrupts.Mode.NONE, f.interrupts().mode());
        assertEquals(0, f.irqCount(VFIO_PCI_INTX_IRQ_INDEX));
        f.interrupts().signal(0);
        assertFalse(interruptStatus(f));
        assertEquals(1, ((InterruptController) f.interrupts()).dropped());
    }

    @Test
    void msi_uses_granted_vectors_and_aliases_the_rest() {
        PciFunction f = base().interruptPin(1).msi(4, false).build();
        int msi = cap(f, PCI_CAP_ID_MSI);
        CountingSink[] s = {new CountingSink(), new CountingSink(), new CountingSink(), new CountingSink()};
        f.interrupts().setSinks(VFIO_PCI_MSI_IRQ_INDEX, 0, s);
        write16(f, msi + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE | 1 << 4); // 2 of 4 vectors granted
        assertEquals(Interrupts.Mode.MSI, f.interrupts().mode());
        f.interrupts().signal(1);
        f.interrupts().signal(3);
        f.interrupts().signal(2);
        assertEquals(1, s[0].count());
        assertEquals(2, s[1].count());
        assertEquals(0, s[2].count() + s[3].count());
        assertFalse(interruptStatus(f), "MSI does not touch INTx");
    }

    @Test
    void msi_per_vector_mask_sets_pending_and_unmask_delivers() {
        PciFunction f = base().msi(2, true).build();
        int msi = cap(f, PCI_CAP_ID_MSI);
        CountingSink[] s = {new CountingSink(), new CountingSink()};
        f.interrupts().setSinks(VFIO_PCI_MSI_IRQ_INDEX, 0, s);
        write16(f, msi + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE | 1 << 4);
        write32(f, msi + PCI_MSI_MASK_64, 0b10);
        f.interrupts().signal(1);
        f.interrupts().signal(1);
        assertEquals(0, s[1].count());
        assertEquals(0b10, read32(f, msi + PCI_MSI_PENDING_64), "Pending Bits show the held message");
        write32(f, msi + PCI_MSI_MASK_64, 0);
        assertEquals(1, s[1].count());
        assertEquals(0, read32(f, msi + PCI_MSI_PENDING_64));
    }

    @Test
    void msix_takes_precedence_over_msi_and_intx() {
        PciFunction f = base().bar(0, Bar.memory32(4096, RegionHandler.NONE)).interruptPin(1).msi(1, false)
                .msix(2, 0, 0, 0, 0x100).build();
        CountingSink msiSink = new CountingSink();
        CountingSink msixSink = new CountingSink();
        f.interrupts().setSinks(VFIO_PCI_MSI_IRQ_INDEX, 0, new EventSink[] {msiSink});
        f.interrupts().setSinks(VFIO_PCI_MSIX_IRQ_INDEX, 0, new EventSink[] {msixSink});
        write16(f, cap(f, PCI_CAP_ID_MSI) + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE);
        write16(f, cap(f, PCI_CAP_ID_MSIX) + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE);
        f.interrupts().signal(0);
        assertEquals(Interrupts.Mode.MSIX, f.interrupts().mode());
        assertEquals(1, msixSink.count());
        assertEquals(0, msiSink.count());
    }

    @Test
    void an_asserted_intx_stays_silent_once_msix_is_enabled() {
        PciFunction f = base().bar(0, Bar.memory32(4096, RegionHandler.NONE)).interruptPin(1).msix(1, 0, 0, 0, 0x100).build();
        CountingSink intx = new CountingSink();
        f.interrupts().setSinks(VFIO_PCI_INTX_IRQ_INDEX, 0, new EventSink[] {intx});
        f.interrupts().signal(0);
        assertEquals(1, intx.count());
        write16(f, cap(f, PCI_CAP_ID_MSIX) + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE);
        f.interrupts().unmask(VFIO_PCI_INTX_IRQ_INDEX, 0, 1);
        assertEquals(1, intx.count(), "MSI-X enabled: the function must not use INTx");
    }

    @Test
    void err_and_req_triggers_go_to_their_sinks() {
        PciFunction f = base().pcieEndpoint(false).build();
        CountingSink err = new CountingSink();
        f.interrupts().setSinks(VFIO_PCI_ERR_IRQ_INDEX, 0, new EventSink[] {err});
        f.interrupts().trigger(VFIO_PCI_ERR_IRQ_INDEX, 0, 1);
        assertEquals(1, err.count());
        f.interrupts().trigger(VFIO_PCI_REQ_IRQ_INDEX, 0, 1); // no sink: nothing, no error
    }
}
