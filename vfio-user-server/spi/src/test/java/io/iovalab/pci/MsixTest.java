package io.iovalab.pci;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.iovalab.pci.Cfg.*;
import static io.iovalab.pci.IrqIndex.*;
import static io.iovalab.pci.PciRegs.*;
import static org.junit.jupiter.api.Assertions.*;

class MsixTest {
    private static final long TABLE = 0x0;
    private static final long PBA = 0x800;

    private PciFunction f;
    private int msix;
    private final CountingSink[] sinks = new CountingSink[4];

    @BeforeEach
    void setUp() {
        f = base().bar(4, Bar.memory32(4096, RegionHandler.NONE)).interruptPin(1).msix(4, 4, TABLE, 4, PBA).build();
        msix = cap(f, PCI_CAP_ID_MSIX);
        write16(f, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
        for (int i = 0; i < sinks.length; i++) {
            sinks[i] = new CountingSink();
        }
    }

    private void control(int bits) {
        write16(f, msix + PCI_MSIX_FLAGS, bits);
    }

    private long pba() {
        return f.regionRead(4, PBA, 8);
    }

    @Test
    void enabled_vector_with_a_sink_is_delivered() {
        f.interrupts().setSinks(VFIO_PCI_MSIX_IRQ_INDEX, 0, sinks);
        assertEquals(Interrupts.Mode.INTX, f.interrupts().mode());
        control(PCI_MSIX_FLAGS_ENABLE);
        assertEquals(Interrupts.Mode.MSIX, f.interrupts().mode());
        f.interrupts().signal(2);
        f.interrupts().signal(2);
        assertEquals(2, sinks[2].count());
        assertEquals(0, sinks[0].count() + sinks[1].count() + sinks[3].count());
        assertEquals(0, pba());
    }

    @Test
    void function_mask_holds_signals_in_the_pba_and_unmasking_sends_each_once() {
        f.interrupts().setSinks(VFIO_PCI_MSIX_IRQ_INDEX, 0, sinks);
        control(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
        f.interrupts().signal(1);
        f.interrupts().signal(1);
        f.interrupts().signal(3);
        assertEquals(0, sinks[1].count() + sinks[3].count());
        assertEquals(0b1010, pba(), "vectors 1 and 3 pending");
        assertEquals(0b1010, f.regionRead(4, PBA, 1), "PBA readable bytewise");

        f.regionWrite(4, PBA, 8, 0);
        assertEquals(0b1010, pba(), "PBA writes are ignored");

        control(PCI_MSIX_FLAGS_ENABLE);
        assertEquals(1, sinks[1].count(), "pending signals coalesce into one message");
        assertEquals(1, sinks[3].count());
        assertEquals(0, pba());
    }

    @Test
    void vector_without_a_sink_pends_until_the_client_installs_one() {
        control(PCI_MSIX_FLAGS_ENABLE);
        f.interrupts().setSinks(VFIO_PCI_MSIX_IRQ_INDEX, 0, new EventSink[] {null}); // enable with no vectors
        f.interrupts().signal(0);
        assertEquals(1, pba());
        f.interrupts().setSinks(VFIO_PCI_MSIX_IRQ_INDEX, 0, new EventSink[] {sinks[0]});
        assertEquals(1, sinks[0].count());
        assertEquals(0, pba());
    }

    @Test
    void set_irqs_mask_and_unmask_gate_one_vector() {
        f.interrupts().setSinks(VFIO_PCI_MSIX_IRQ_INDEX, 0, sinks);
        control(PCI_MSIX_FLAGS_ENABLE);
        f.interrupts().mask(VFIO_PCI_MSIX_IRQ_INDEX, 1, 1);
        f.interrupts().signal(1);
        f.interrupts().signal(0);
        assertEquals(0, sinks[1].count());
        assertEquals(1, sinks[0].count());
        assertEquals(0b10, pba());
        f.interrupts().unmask(VFIO_PCI_MSIX_IRQ_INDEX, 0, 4);
        assertEquals(1, sinks[1].count());
        assertEquals(0, pba());
    }

    @Test
    void pending_bits_wait_while_msix_is_disabled() {
        f.interrupts().setSinks(VFIO_PCI_MSIX_IRQ_INDEX, 0, sinks);
        control(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
        f.interrupts().signal(0);
        control(0);
        assertEquals(0, sinks[0].count(), "disabled: nothing is sent");
        control(PCI_MSIX_FLAGS_ENABLE);
        assertEquals(1, sinks[0].count());
    }

    @Test
    void table_mask_bits_gate_only_once_the_client_writes_the_table() {
        f.interrupts().setSinks(VFIO_PCI_MSIX_IRQ_INDEX, 0, sinks);
        control(PCI_MSIX_FLAGS_ENABLE);
        assertEquals(1, f.regionRead(4, TABLE + 12, 4), "Vector Control: masked at power-on");
        f.interrupts().signal(0);
        assertEquals(1, sinks[0].count(), "QEMU emulates the table; our power-on mask bits must not block it");

        // a client that programs the table itself: entry 1 stays masked, entry 0 is unmasked
        f.regionWrite(4, TABLE, 8, 0x0000_0000_fee0_0003L);
        f.regionWrite(4, TABLE + 8, 8, 0x0000_0001_0000_4021L);
        assertEquals(0xfee00000L, f.regionRead(4, TABLE, 4), "address bits 1:0 are reserved");
        assertEquals(0x4021, f.regionRead(4, TABLE + 8, 2));
        assertEquals(1, f.regionRead(4, TABLE + 12, 4));
        f.regionWrite(4, TABLE + 12, 4, 0xffff_fff0L);
        assertEquals(0, f.regionRead(4, TABLE + 12, 4), "only the Mask bit of Vector Control is writable");

        f.interrupts().signal(1);
        assertEquals(0, sinks[1].count());
        assertEquals(0b10, pba());
        f.regionWrite(4, TABLE + 16 + 12, 4, 0);
        assertEquals(1, sinks[1].count(), "unmasking the entry sends the pending message");
        assertEquals(0, pba());
    }

    @Test
    void table_and_pba_are_served_even_when_the_bar_handler_is_none() {
        f.regionWrite(4, TABLE + 3 * 16 + 4, 4, 0x1234);
        assertEquals(0x1234, f.regionRead(4, TABLE + 3 * 16 + 4, 4));
        assertEquals(0, f.regionRead(4, 0x900, 4), "beyond table and PBA: the handler (NONE) reads 0");
    }

    @Test
    void sink_replacement_sends_to_the_new_sink_only() {
        f.interrupts().setSinks(VFIO_PCI_MSIX_IRQ_INDEX, 0, sinks);
        control(PCI_MSIX_FLAGS_ENABLE);
        CountingSink userspace = new CountingSink();
        f.interrupts().setSinks(VFIO_PCI_MSIX_IRQ_INDEX, 2, new EventSink[] {userspace});
        f.interrupts().signal(2);
        assertEquals(0, sinks[2].count());
        assertEquals(1, userspace.count());
    }

    @Test
    void disable_drops_sinks_and_later_signals_pend() {
        f.interrupts().setSinks(VFIO_PCI_MSIX_IRQ_INDEX, 0, sinks);
        control(PCI_MSIX_FLAGS_ENABLE);
        f.interrupts().disable(VFIO_PCI_MSIX_IRQ_INDEX);
        f.interrupts().signal(0);
        assertEquals(0, sinks[0].count());
        assertEquals(1, pba());
    }

    @Test
    void trigger_fires_through_the_same_gates() {
        f.interrupts().setSinks(VFIO_PCI_MSIX_IRQ_INDEX, 0, sinks);
        control(PCI_MSIX_FLAGS_ENABLE);
        f.interrupts().trigger(VFIO_PCI_MSIX_IRQ_INDEX, 1, 2);
        assertEquals(List.of(0, 1, 1, 0), List.of(sinks[0].count(), sinks[1].count(), sinks[2].count(), sinks[3].count()));
        control(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
        f.interrupts().trigger(VFIO_PCI_MSIX_IRQ_INDEX, 0, 1);
        assertEquals(1, pba());
        assertThrows(IllegalArgumentException.class, () -> f.interrupts().trigger(VFIO_PCI_MSIX_IRQ_INDEX, 3, 2));
        assertThrows(IllegalArgumentException.class, () -> f.interrupts().setSinks(VFIO_PCI_MSIX_IRQ_INDEX, 4,
                new EventSink[1]));
        assertThrows(IllegalArgumentException.class, () -> f.interrupts().mask(7, 0, 1));
    }

    @Test
    void a_vector_the_function_lacks_is_dropped() {
        f.interrupts().setSinks(VFIO_PCI_MSIX_IRQ_INDEX, 0, sinks);
        control(PCI_MSIX_FLAGS_ENABLE);
        f.interrupts().signal(4);
        f.interrupts().signal(-1);
        assertEquals(0, pba());
        assertEquals(2, ((InterruptController) f.interrupts()).dropped());
    }

    @Test
    void reset_clears_enable_pending_bits_and_the_table_but_keeps_sinks() {
        RecordingListener l = new RecordingListener();
        f.setListener(l);
        f.interrupts().setSinks(VFIO_PCI_MSIX_IRQ_INDEX, 0, sinks);
        control(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
        f.interrupts().signal(0);
        f.regionWrite(4, TABLE + 4, 4, 0x77);
        f.resetConfig();
        write16(f, PCI_COMMAND, PCI_COMMAND_MEMORY);
        assertEquals(0, read16(f, msix + PCI_MSIX_FLAGS) & (PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL));
        assertEquals(0, pba());
        assertEquals(0, f.regionRead(4, TABLE + 4, 4));
        control(PCI_MSIX_FLAGS_ENABLE);
        assertEquals(0, sinks[0].count(), "the pre-reset signal is gone");
        f.interrupts().signal(0);
        assertEquals(1, sinks[0].count(), "sinks survive a reset; the table is QEMU's again");
        assertEquals(List.of("msix=true/true", "bme=false", "msix=false/false", "msix=true/false"), l.calls);
    }
}
