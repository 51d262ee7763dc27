package io.iovalab.example;

import io.iovalab.iommu.Fault;
import io.iovalab.iommu.IovaSpace;
import io.iovalab.iommu.RemoteDma;
import io.iovalab.pci.EventSink;
import io.iovalab.pci.IrqIndex;
import io.iovalab.pci.PciFunction;
import io.iovalab.pci.PciListener;
import io.iovalab.pci.PciRegs;
import io.iovalab.spi.Device;
import io.iovalab.spi.DeviceConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.iovalab.example.DmaCopyRegs.*;
import static org.junit.jupiter.api.Assertions.*;

class DmaCopyDeviceTest {
    private static final long RAM_IOVA = 0x1_0000_0000L;
    private static final long RAM_SIZE = 1 << 21;
    private static final long REMOTE_IOVA = 0x2_0000_0000L;

    /** Counts interrupts per vector; a test waits on one without sleeping. */
    private static final class RecordingSink implements EventSink {
        final AtomicInteger count = new AtomicInteger();
        final Semaphore fired = new Semaphore(0);

        @Override
        public void signal() {
            count.incrementAndGet();
            fired.release();
        }

        void await() throws InterruptedException {
            assertTrue(fired.tryAcquire(30, TimeUnit.SECONDS), "no interrupt");
        }
    }

    private final CountDownLatch remoteEntered = new CountDownLatch(1);
    private final CountDownLatch remoteRelease = new CountDownLatch(1);
    private IovaSpace iova;
    private TestContext.Ram ram;
    private Device device;
    private PciFunction f;
    private final RecordingSink[] sinks = {new RecordingSink(), new RecordingSink(), new RecordingSink(), new RecordingSink()};

    @BeforeEach
    void setUp() throws Exception {
        RemoteDma slowRemote = new RemoteDma() {
            @Override
            public void read(long address, MemorySegment dst, long dstOffset, long length) {
                remoteEntered.countDown();
                try {
                    remoteRelease.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }

            @Override
            public void write(long address, MemorySegment src, long srcOffset, long length) {
            }
        };
        iova = new IovaSpace("dmacopy0", slowRemote);
        ram = new TestContext.Ram(RAM_SIZE);
        iova.map(RAM_IOVA, RAM_SIZE, ram, 0, true, true);
        device = new DmaCopyPlugin().create(DeviceConfig.parse("dmacopy:vectors=4"), new TestContext(iova));
        f = device.function();
        // what the server does: Command.BME gates DMA in the IOMMU model
        f.setListener(new PciListener() {
            @Override
            public void busMasterChanged(boolean enabled) {
                iova.setBusMasterEnabled(enabled);
            }

            @Override
            public void functionLevelReset() {
                device.reset(Device.ResetReason.FLR);
                f.resetConfig();
            }
        });
        // what the guest does: memory decode, bus master, MSI-X on; what QEMU does: one eventfd per vector
        config16(PciRegs.PCI_COMMAND, PciRegs.PCI_COMMAND_MEMORY | PciRegs.PCI_COMMAND_MASTER);
        config16(msixControl(), PciRegs.PCI_MSIX_FLAGS_ENABLE);
        f.interrupts().setSinks(IrqIndex.VFIO_PCI_MSIX_IRQ_INDEX, 0, sinks);
    }

    @AfterEach
    void tearDown() {
        remoteRelease.countDown();
        device.close();
        iova.close();
        ram.close();
    }

    private int msixControl() {
        return f.capabilities().stream().filter(c -> c.id() == PciRegs.PCI_CAP_ID_MSIX && !c.extended())
                .findFirst().orElseThrow().offset() + PciRegs.PCI_MSIX_FLAGS;
    }

    private void config16(int offset, int value) {
        f.configWrite(offset, new byte[] {(byte) value, (byte) (value >> 8)}, 0, 2);
    }

    private int reg(int offset) {
        return (int) f.regionRead(0, offset, 4);
    }

    private void reg(int offset, int value) {
        f.regionWrite(0, offset, 4, value & 0xffffffffL);
    }

    private void go(long src, long dst, int len, int vector, boolean irq) {
        reg(SRC_LO, (int) src);
        reg(SRC_HI, (int) (src >>> 32));
        reg(DST_LO, (int) dst);
        reg(DST_HI, (int) (dst >>> 32));
        reg(LEN, len);
        reg(CTRL, CTRL_GO | (irq ? CTRL_IRQ_ENABLE : 0) | vector << CTRL_VECTOR_SHIFT);
    }

    /** Waits for a register state the worker thread sets; the bound only keeps a broken device from hanging the build. */
    private void until(java.util.function.BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("never happened: " + what);
            }
            Thread.onSpinWait();
        }
    }

    private byte[] fill(long ramOffset, int len, long seed) {
        byte[] pattern = new byte[len];
        new Random(seed).nextBytes(pattern);
        MemorySegment.copy(pattern, 0, ram.segment, ValueLayout.JAVA_BYTE, ramOffset, len);
        return pattern;
    }

    private byte[] ramBytes(long ramOffset, int len) {
        return ram.segment.asSlice(ramOffset, len).toArray(ValueLayout.JAVA_BYTE);
    }

    @Test
    void copy_moves_the_bytes_and_raises_the_configured_vector() throws Exception {
        byte[] pattern = fill(0x1000, 3 * 4096 + 100, 1);
        go(RAM_IOVA + 0x1000, RAM_IOVA + 0x10000, pattern.length, 2, true);
        sinks[2].await();
        assertEquals(STATUS_DONE, reg(STATUS));
        assertEquals(1, reg(COUNT));
        assertArrayEquals(pattern, ramBytes(0x10000, pattern.length));
        assertEquals(0, sinks[0].count.get() + sinks[1].count.get() + sinks[3].count.get());
        var stats = iova.statistics();
        assertEquals(pattern.length, stats.bytesRead());
        assertEquals(pattern.length, stats.bytesWritten());
        assertEquals(1, stats.commands(), "one DmaCommand per copy");
    }

    @Test
    void a_copy_larger_than_one_chunk_stays_one_contiguous_range_each_way() throws Exception {
        byte[] pattern = fill(0, 300_000, 2);
        go(RAM_IOVA, RAM_IOVA + 0x100000, pattern.length, 0, true);
        sinks[0].await();
        assertEquals(STATUS_DONE, reg(STATUS));
        assertArrayEquals(pattern, ramBytes(0x100000, pattern.length));
        assertEquals(1, iova.statistics().contiguousMultiPageCommands());
    }

    @Test
    void an_unmapped_source_ends_in_error_with_the_fault_kind_and_iova() throws Exception {
        go(0x7000_0000L, RAM_IOVA, 64, 1, true);
        sinks[1].await();
        int status = reg(STATUS);
        assertEquals(STATUS_ERROR, status & 0xff);
        assertEquals(Fault.Kind.UNMAPPED.ordinal() + 1, status >>> STATUS_KIND_SHIFT);
        assertEquals(0x7000_0000, reg(FAULT_LO));
        assertEquals(0, reg(FAULT_HI));
        assertEquals(0, reg(COUNT));
        assertEquals(0x7000_0000L, iova.faults().recent().getLast().faultIova());

        reg(STATUS, STATUS_ERROR);
        assertEquals(0, reg(STATUS), "STATUS.ERROR is write-1-to-clear and takes the fault kind with it");
    }

    @Test
    void a_read_only_destination_is_a_permission_fault() throws Exception {
        iova.map(0x3_0000_0000L, 4096, ram, 0, true, false);
        go(RAM_IOVA, 0x3_0000_0000L, 128, 0, true);
        sinks[0].await();
        assertEquals(STATUS_ERROR | (Fault.Kind.PERMISSION.ordinal() + 1) << STATUS_KIND_SHIFT, reg(STATUS));
    }

    @Test
    void without_bus_master_the_copy_faults() throws Exception {
        config16(PciRegs.PCI_COMMAND, PciRegs.PCI_COMMAND_MEMORY);
        go(RAM_IOVA, RAM_IOVA + 4096, 128, 0, true);
        sinks[0].await();
        assertEquals(Fault.Kind.BUS_MASTER_DISABLED.ordinal() + 1, reg(STATUS) >>> STATUS_KIND_SHIFT);
    }

    @Test
    void a_bad_length_is_an_error_without_any_dma() throws Exception {
        go(RAM_IOVA, RAM_IOVA + 4096, MAX_LEN + 1, 3, true);
        sinks[3].await();
        assertEquals(STATUS_ERROR | KIND_BAD_LENGTH << STATUS_KIND_SHIFT, reg(STATUS));
        assertEquals(0, iova.statistics().bytesRead());
    }

    @Test
    void without_irq_enable_the_copy_completes_silently() throws Exception {
        byte[] pattern = fill(0, 256, 3);
        go(RAM_IOVA, RAM_IOVA + 8192, 256, 0, false);
        until(() -> reg(STATUS) == STATUS_DONE, "first copy done");
        // an empty copy with an interrupt on the same single worker: once it signals, the first is long over
        go(RAM_IOVA, RAM_IOVA + 8192, 0, 1, true);
        sinks[1].await();
        assertArrayEquals(pattern, ramBytes(8192, 256));
        assertEquals(0, sinks[0].count.get(), "IRQ_ENABLE clear: no interrupt for the first copy");
    }

    @Test
    void a_function_masked_completion_waits_in_the_pba() throws Exception {
        config16(msixControl(), PciRegs.PCI_MSIX_FLAGS_ENABLE | PciRegs.PCI_MSIX_FLAGS_MASKALL);
        go(RAM_IOVA, RAM_IOVA + 4096, 16, 2, true);
        until(() -> (reg(STATUS) & STATUS_DONE) != 0, "copy done");
        assertEquals(0b100, f.regionRead(4, MSIX_PBA, 8));
        assertEquals(0, sinks[2].count.get());
        config16(msixControl(), PciRegs.PCI_MSIX_FLAGS_ENABLE);
        assertEquals(1, sinks[2].count.get());
        assertEquals(0, f.regionRead(4, MSIX_PBA, 8));
    }

    @Test
    void registers_read_back_and_read_only_ones_stay() {
        assertEquals(ID_VALUE, reg(ID));
        assertEquals(VERSION_VALUE, reg(VERSION));
        reg(ID, 0);
        assertEquals(ID_VALUE, reg(ID));
        reg(SCRATCH, 0x12345678);
        assertEquals(0x12345678, reg(SCRATCH));
        f.regionWrite(0, SCRATCH + 2, 1, 0xab);
        assertEquals(0x12ab5678, reg(SCRATCH), "a byte write changes one byte");
        assertEquals(0xab, f.regionRead(0, SCRATCH + 2, 1));
        assertEquals(0x12ab, f.regionRead(0, SCRATCH + 2, 2));
        f.regionWrite(0, SRC_LO, 8, 0x0000_0012_3456_7000L);
        assertEquals(0x34567000, reg(SRC_LO));
        assertEquals(0x12, reg(SRC_HI));
        assertEquals(0x0000_0012_3456_7000L, f.regionRead(0, SRC_LO, 8));
        reg(CTRL, CTRL_IRQ_ENABLE | 3 << CTRL_VECTOR_SHIFT);
        assertEquals(CTRL_IRQ_ENABLE | 3 << CTRL_VECTOR_SHIFT, reg(CTRL));
        assertEquals(0, reg(0x800), "unused offsets read 0");
        assertEquals(0x12ab5678, device.inspect().get("scratch"));
    }

    @Test
    void bar2_is_memory_the_guest_can_read_back() {
        f.regionWrite(2, 0xfff00, 8, 0x0102030405060708L);
        assertEquals(0x0102030405060708L, f.regionRead(2, 0xfff00, 8));
        assertEquals(0x0506, f.regionRead(2, 0xfff02, 2));
    }

    @Test
    void reset_abandons_a_copy_in_flight_and_clears_the_registers() throws Exception {
        iova.map(REMOTE_IOVA, 1 << 16, null, 0, true, true); // served by (slow) DMA_READ messages
        fill(0, 4096, 5);
        reg(SCRATCH, 0x55);
        go(REMOTE_IOVA, RAM_IOVA + 0x8000, 4096, 0, true);
        assertTrue(remoteEntered.await(30, TimeUnit.SECONDS));
        assertEquals(STATUS_BUSY, reg(STATUS));

        Thread resetter = new Thread(() -> device.reset(Device.ResetReason.DEVICE_RESET));
        resetter.start();
        until(() -> reg(STATUS) == 0, "reset has begun and abandoned the copy");
        remoteRelease.countDown();
        resetter.join();

        assertEquals(0, reg(SCRATCH));
        assertEquals(0, reg(LEN));
        assertEquals(0, reg(COUNT));
        // the worker is single-threaded: once a later copy completes, the abandoned one is over
        byte[] pattern = fill(0x20000, 512, 6);
        go(RAM_IOVA + 0x20000, RAM_IOVA + 0x30000, 512, 1, true);
        sinks[1].await();
        assertEquals(STATUS_DONE, reg(STATUS));
        assertEquals(1, reg(COUNT), "COUNT restarted from 0 at reset");
        assertArrayEquals(pattern, ramBytes(0x30000, 512));
        assertArrayEquals(new byte[4096], ramBytes(0x8000, 4096), "the abandoned copy wrote nothing");
        assertEquals(0, sinks[0].count.get(), "nor raised its interrupt");
    }

    @Test
    void go_while_busy_is_ignored() throws Exception {
        iova.map(REMOTE_IOVA, 1 << 16, null, 0, true, true);
        go(REMOTE_IOVA, RAM_IOVA + 0x8000, 4096, 0, true);
        assertTrue(remoteEntered.await(30, TimeUnit.SECONDS));
        go(RAM_IOVA, RAM_IOVA + 0x9000, 64, 1, true);
        assertEquals(STATUS_BUSY, reg(STATUS));
        remoteRelease.countDown();
        sinks[0].await();
        assertEquals(STATUS_DONE, reg(STATUS));
        go(RAM_IOVA, RAM_IOVA + 0xa000, 64, 2, true);
        sinks[2].await();
        assertEquals(0, sinks[1].count.get(), "the GO written while busy started nothing");
        assertEquals(2, reg(COUNT));
    }

    @Test
    void flr_from_the_guest_resets_device_and_config() throws Exception {
        reg(SCRATCH, 0x77);
        int devctl = f.capabilities().stream().filter(c -> c.id() == PciRegs.PCI_CAP_ID_EXP && !c.extended())
                .findFirst().orElseThrow().offset() + PciRegs.PCI_EXP_DEVCTL;
        config16(devctl, PciRegs.PCI_EXP_DEVCTL_BCR_FLR);
        assertFalse(f.memorySpaceEnabled(), "FLR returns Command to power-on");
        config16(PciRegs.PCI_COMMAND, PciRegs.PCI_COMMAND_MEMORY);
        assertEquals(0, reg(SCRATCH));
    }
}
