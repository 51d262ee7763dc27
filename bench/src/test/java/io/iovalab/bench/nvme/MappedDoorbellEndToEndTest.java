package io.iovalab.bench.nvme;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The NVMe device behind the real server and socket: a client that maps BAR0's region fd rings
 * every doorbell by a store into the page, and the device serves it all without one trapped
 * doorbell; with doorbells=trap the same client falls back to messages and every one is counted.
 */
class MappedDoorbellEndToEndTest {

    @Test
    void with_doorbells_mmap_the_client_maps_the_page_and_no_doorbell_is_trapped() throws Exception {
        ServerSideBench.Result r = ServerSideBench.run("mmap", 8, 0.3);
        assertTrue(r.commands() > 1000, "reads completed: " + r.commands());
        assertEquals(0, r.trappedDoorbells(), "doorbell writes that arrived as messages");
    }

    @Test
    void with_doorbells_trap_every_doorbell_is_a_message() throws Exception {
        ServerSideBench.Result r = ServerSideBench.run("trap", 8, 0.3);
        assertTrue(r.commands() > 100, "reads completed: " + r.commands());
        assertTrue(r.trappedDoorbells() > 0, "trapped doorbells: " + r.trappedDoorbells());
    }
}
