package io.iovalab.nvme;

import io.iovalab.spi.DeviceEvent;
import io.iovalab.spi.FaultInjector.Injection;
import io.iovalab.spi.FaultSpec;
import io.iovalab.spi.FaultSpecException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Faults injected at run time, seen from the host side of the queues as a driver would see them. */
class NvmeFaultInjectionTest {
    TestHost host;

    @BeforeEach
    void setUp() throws Exception {
        host = new TestHost().start();
    }

    @AfterEach
    void tearDown() {
        host.close();
    }

    Injection inject(String spec) throws FaultSpecException {
        return host.device.faultInjector().inject(FaultSpec.parse(spec));
    }

    @SuppressWarnings("unchecked")
    List<Map<String, Object>> outstanding(int qid) {
        List<Map<String, Object>> queues = (List<Map<String, Object>>) host.device.inspect().get("queues");
        return (List<Map<String, Object>>) queues.stream().filter(q -> q.get("qid").equals(qid)).findFirst().orElseThrow()
                .get("outstanding");
    }

    @Test
    void a_dropped_completion_stays_outstanding_until_abort_completes_it_with_command_abort_requested() throws Exception {
        inject("drop-completion:queue=1,count=1");
        host.fillData(0, (byte) 0x5a);
        int dropped = host.io(Opcodes.WRITE, 0, 8, 0);
        int next = host.io(Opcodes.WRITE, 8, 8, 0);

        TestHost.Cqe c = host.next(1);
        assertEquals(next, c.cid(), "only the second write completes");
        assertNull(host.poll(1), "no completion for the dropped command");
        assertEquals(List.of(dropped), outstanding(1).stream().map(o -> o.get("cid")).toList());
        assertEquals((byte) 0x5a, host.media(0, 4096)[0], "the command itself was executed");

        TestHost.Cqe abort = host.admin(Opcodes.ABORT, 0, 0, 1 | dropped << 16, 0);
        assertEquals(0, abort.status());
        assertEquals(0, abort.dw0() & 1, "DW0 bit 0 clear: the command was aborted");
        TestHost.Cqe aborted = host.next(1);
        assertEquals(dropped, aborted.cid());
        assertEquals(Status.ABORT_REQUESTED, aborted.code());
        assertFalse(aborted.dnr(), "the host may retry an aborted command");
        assertTrue(outstanding(1).isEmpty());

        TestHost.Cqe again = host.admin(Opcodes.ABORT, 0, 0, 1 | dropped << 16, 0);
        assertEquals(1, again.dw0() & 1, "DW0 bit 0 set: nothing left to abort");
        assertTrue(host.device.faultInjector().active().isEmpty(), "count=1 is used up");
    }

    @Test
    void the_trace_shows_the_injection_between_the_command_and_the_abort() throws Exception {
        long id = inject("drop-completion:opcode=write").id();
        int cid = host.io(Opcodes.WRITE, 0, 1, 0);
        List<DeviceEvent> inj = host.awaitEvents(DeviceEvent.INJECTION, 1, 1);
        assertEquals(1, inj.size());
        assertEquals("drop-completion", inj.getFirst().fields().get("fault"));
        assertEquals(id, inj.getFirst().fields().get("injection"));
        assertEquals(cid, inj.getFirst().commandId());
        host.admin(Opcodes.ABORT, 0, 0, 1 | cid << 16, 0);
        List<DeviceEvent> completions = host.awaitEvents(DeviceEvent.COMPLETION, 1, 1);
        assertEquals("Command Abort Requested", completions.getFirst().fields().get("statusName"));
    }

    @Test
    void opcode_filter_lets_other_commands_through() throws Exception {
        inject("drop-completion:opcode=read");
        int w = host.io(Opcodes.WRITE, 0, 1, 0);
        assertEquals(w, host.next(1).cid());
        int r = host.io(Opcodes.READ, 0, 1, 1);
        int w2 = host.io(Opcodes.WRITE, 1, 1, 0);
        assertEquals(w2, host.next(1).cid());
        assertEquals(List.of(r), outstanding(1).stream().map(o -> o.get("cid")).toList());
    }

    @Test
    void a_rule_without_queue_never_hits_the_admin_queue() throws Exception {
        inject("drop-completion:count=always");
        TestHost.Cqe c = host.admin(Opcodes.GET_FEATURES, 0, 0, Features.NUMBER_OF_QUEUES, 0);
        assertEquals(0, c.status());
    }

    @Test
    void a_delayed_completion_is_posted_later_with_its_real_status() throws Exception {
        inject("delay-completion:queue=1,ms=30");
        host.fillData(0, (byte) 7);
        int cid = host.io(Opcodes.WRITE, 0, 8, 0);
        TestHost.Cqe c = host.next(1);
        assertEquals(cid, c.cid());
        assertEquals(0, c.status());
        assertEquals(1, host.awaitEvents(DeviceEvent.INJECTION, 1, 1).size());
    }

    @Test
    void a_failed_command_completes_with_the_chosen_status_and_is_not_executed() throws Exception {
        inject("fail-command:opcode=write,status=Internal Error,dnr=on");
        host.fillData(0, (byte) 0x11);
        int failed = host.io(Opcodes.WRITE, 0, 8, 0);
        TestHost.Cqe c = host.next(1);
        assertEquals(failed, c.cid());
        assertEquals(Status.INTERNAL_ERROR, c.code());
        assertTrue(c.dnr());
        assertEquals(0, host.media(0, 4096)[0], "a failed command must not reach the media");

        host.io(Opcodes.WRITE, 0, 8, 0);
        assertEquals(0, host.next(1).status(), "count=1: the next write succeeds");
        assertEquals((byte) 0x11, host.media(0, 4096)[0]);
    }

    @Test
    void a_media_error_fails_reads_that_touch_the_range_until_cleared() throws Exception {
        long id = inject("media-error:slba=16,nlb=8").id();
        host.io(Opcodes.READ, 8, 8, 0);
        assertEquals(0, host.next(1).status(), "LBAs 8-15 are outside the bad range");
        host.io(Opcodes.READ, 20, 1, 0);
        assertEquals(Status.UNRECOVERED_READ_ERROR, host.next(1).code());
        host.io(Opcodes.READ, 10, 8, 0);
        assertEquals(Status.UNRECOVERED_READ_ERROR, host.next(1).code(), "overlapping the range is enough");
        host.io(Opcodes.WRITE, 16, 8, 0);
        assertEquals(0, host.next(1).status(), "access=read (the default) leaves writes alone");

        assertTrue(host.device.faultInjector().clear(id));
        host.io(Opcodes.READ, 20, 1, 0);
        assertEquals(0, host.next(1).status());
    }

    @Test
    void a_media_error_on_writes_is_a_write_fault() throws Exception {
        inject("media-error:slba=0,nlb=1,access=write");
        host.io(Opcodes.WRITE, 0, 1, 0);
        assertEquals(Status.WRITE_FAULT, host.next(1).code());
    }

    @Test
    void controller_fatal_sets_csts_cfs_until_the_host_resets_the_controller() throws Exception {
        inject("controller-fatal");
        host.awaitCsts(NvmeRegs.CSTS_CFS, NvmeRegs.CSTS_CFS);
        host.io(Opcodes.WRITE, 0, 1, 0);
        assertEquals(Boolean.TRUE, host.device.inspect().get("fatal"));

        host.disable();
        assertEquals(0, host.csts() & NvmeRegs.CSTS_CFS, "a controller reset clears CSTS.CFS");
        host.start();
        host.io(Opcodes.WRITE, 0, 1, 0);
        assertEquals(0, host.next(1).status());
    }

    @Test
    void a_controller_reset_forgets_withheld_completions() throws Exception {
        inject("drop-completion");
        host.io(Opcodes.WRITE, 0, 1, 0);
        host.awaitEvents(DeviceEvent.INJECTION, 1, 1);
        host.disable();
        host.start();
        assertTrue(outstanding(1).isEmpty());
        host.io(Opcodes.WRITE, 0, 1, 0);
        assertEquals(0, host.next(1).status());
    }

    @Test
    void a_dropped_interrupt_leaves_the_completion_posted_and_raises_nothing() throws Exception {
        inject("drop-interrupt:queue=1");
        int first = host.io(Opcodes.WRITE, 0, 1, 0);
        assertEquals(first, host.next(1).cid(), "the completion entry is still written");
        assertEquals(1, host.awaitEvents(DeviceEvent.INJECTION, 1, 1).size());
        host.io(Opcodes.WRITE, 0, 1, 0);
        host.next(1);
        List<DeviceEvent> irqs = host.awaitEvents(DeviceEvent.INTERRUPT, 1, 1);
        assertEquals(1, irqs.size(), "only the second completion raised CQ 1's interrupt: " + irqs);
    }

    @Test
    void a_delayed_interrupt_is_raised_once_it_is_due() throws Exception {
        inject("delay-interrupt:queue=1,ms=20");
        host.io(Opcodes.WRITE, 0, 1, 0);
        host.next(1);
        assertEquals(1, host.awaitEvents(DeviceEvent.INTERRUPT, 1, 1).size());
        assertEquals(1, host.awaitEvents(DeviceEvent.INJECTION, 1, 1).size());
    }

    @Test
    void bad_specs_are_refused_with_a_message_naming_the_problem_and_arm_nothing() {
        for (String[] bad : new String[][] {
                {"drop-completoin", "unknown fault kind 'drop-completoin'"},
                {"drop-completion:qeueu=1", "unknown key 'qeueu'"},
                {"drop-completion:queue=99", "queue=99 is outside"},
                {"drop-completion:opcode=frobnicate", "opcode=frobnicate is not an opcode"},
                {"drop-completion:count=0", "count=0 is outside"},
                {"fail-command", "'status' is required"},
                {"fail-command:status=bogus", "status=bogus is not a status"},
                {"delay-completion", "'ms' is required"},
                {"media-error:nlb=4", "'slba' is required"},
                {"media-error:slba=0,access=sideways", "access=sideways"},
        }) {
            FaultSpecException e = assertThrows(FaultSpecException.class, () -> inject(bad[0]), bad[0]);
            assertTrue(e.getMessage().contains(bad[1]), bad[0] + " -> " + e.getMessage());
        }
        assertTrue(host.device.faultInjector().active().isEmpty());
    }

    @Test
    void armed_faults_are_listed_and_cleared_by_id() throws Exception {
        Injection a = inject("drop-completion:queue=1,count=3");
        Injection b = inject("fail-command:status=0x281,count=always");
        assertEquals(List.of(a.id(), b.id()), host.device.faultInjector().active().stream().map(Injection::id).toList());
        assertEquals(3, a.remaining());
        assertEquals(FaultSpec.ALWAYS, b.remaining());
        assertTrue(host.device.faultInjector().clear(a.id()));
        assertFalse(host.device.faultInjector().clear(a.id()));
        assertEquals(1, host.device.faultInjector().clearAll());
        int cid = host.io(Opcodes.WRITE, 0, 1, 0);
        assertEquals(cid, host.next(1).cid(), "cleared faults do not fire");
    }

    @Test
    void statuses_are_named_as_in_the_spec_in_any_spelling() {
        for (String s : Arrays.asList("Unrecovered Read Error", "unrecovered-read-error", "UNRECOVERED_READ_ERROR", "0x281")) {
            assertEquals(Status.UNRECOVERED_READ_ERROR, Status.parse(s), s);
        }
        assertEquals(-1, Status.parse("0x0"), "success is not a failure status");
        assertEquals("Command Abort Requested", Status.name(Status.ABORT_REQUESTED | Status.DNR));
    }
}
