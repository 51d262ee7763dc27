package io.iovalab.nvme;

import io.iovalab.pci.PciFunction;
import io.iovalab.pci.PciRegs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.*;

/**
 * doorbells=mmap: the host stores doorbells into the mapped page and nothing tells the device;
 * the worker's polling must find them, also after it has gone idle and parked.
 */
class MappedDoorbellTest {
    TestHost host;

    @BeforeEach
    void setUp() throws Exception {
        host = new TestHost(Doorbells.Mode.MMAP).start();
    }

    @AfterEach
    void tearDown() {
        host.close();
    }

    @Test
    void commands_rung_only_through_the_mapped_page_complete_and_none_was_trapped() throws Exception {
        host.fillData(0, (byte) 0x3c);
        for (int i = 0; i < 40; i++) {
            int cid = host.io(Opcodes.WRITE, 8L * i, 8, 0);
            TestHost.Cqe c = host.next(1);
            assertNotNull(c, "write " + i + " completed");
            assertEquals(cid, c.cid());
            assertEquals(0, c.status());
        }
        assertEquals((byte) 0x3c, host.media(39 * 8 * 512, 4096)[4095]);
        assertEquals(0L, host.device.inspect().get("trappedDoorbellWrites"));
        assertEquals("mmap", host.device.inspect().get("doorbells"));
    }

    @Test
    void a_doorbell_stored_after_the_worker_parked_is_still_found() throws Exception {
        // longer than the spin and several maximal parks: the worker is asleep on its timer
        Thread.sleep(50);
        int cid = host.io(Opcodes.READ, 0, 8, 1);
        TestHost.Cqe c = host.next(1);
        assertNotNull(c, "the periodic poll found the doorbell");
        assertEquals(cid, c.cid());
    }

    @Test
    void a_doorbell_that_arrives_as_a_message_in_the_mapped_page_is_stored_counted_and_wakes_the_worker() throws Exception {
        PciFunction f = host.device.function();
        f.configWrite(PciRegs.PCI_COMMAND, new byte[] {(byte) PciRegs.PCI_COMMAND_MEMORY, 0}, 0, 2);
        host.fillData(2, (byte) 0x11);
        host.io(Opcodes.WRITE, 0, 8, 2); // stored in the page
        // the same tail once more, as a message: it must land in the page the worker polls
        int tail = host.doorbellPage.get(ValueLayout.JAVA_INT, NvmeRegs.DOORBELLS + 8);
        f.regionWrite(0, NvmeRegs.DOORBELLS + 8, 4, tail);
        assertNotNull(host.next(1));
        assertEquals(1L, host.device.inspect().get("trappedDoorbellWrites"));
        assertEquals(1L, host.device.inspect().get("mmioSqDoorbells"));
        assertEquals(tail, host.doorbellPage.get(ValueLayout.JAVA_INT, NvmeRegs.DOORBELLS + 8));
    }

    @Test
    void a_controller_reset_zeroes_the_mapped_doorbells() throws Exception {
        host.io(Opcodes.READ, 0, 8, 1);
        assertNotNull(host.next(1));
        assertNotEquals(0, host.doorbellPage.get(ValueLayout.JAVA_INT, NvmeRegs.DOORBELLS + 8), "SQ1 tail");
        host.disable();
        assertEquals(0, host.doorbellPage.get(ValueLayout.JAVA_INT, NvmeRegs.DOORBELLS + 8), "SQ1 tail after CC.EN = 0");
        assertEquals(0, host.doorbellPage.get(ValueLayout.JAVA_INT, NvmeRegs.DOORBELLS + 4), "CQ0 head after CC.EN = 0");
        host.start();
        int cid = host.io(Opcodes.READ, 0, 8, 1);
        assertEquals(cid, host.next(1).cid(), "queues work again after the reset");
    }
}
