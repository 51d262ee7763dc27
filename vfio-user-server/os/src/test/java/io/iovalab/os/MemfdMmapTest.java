package io.iovalab.os;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.*;

class MemfdMmapTest {

    @Test
    void two_mappings_of_one_memfd_see_each_others_writes() throws Exception {
        try (Fd fd = Memfd.create("shared", 4 * Mmap.PAGE_SIZE); Arena arena = Arena.ofShared()) {
            FileStat st = FileStat.of(fd);
            assertEquals(4 * Mmap.PAGE_SIZE, st.size());
            assertEquals(FileStat.S_IFREG, st.mode() & FileStat.S_IFMT);
            assertTrue(fd.isCloexec());
            MemorySegment whole = Mmap.map(fd, 0, 4 * Mmap.PAGE_SIZE, true, arena);
            MemorySegment page2 = Mmap.map(fd, 2 * Mmap.PAGE_SIZE, Mmap.PAGE_SIZE, true, arena);
            whole.set(ValueLayout.JAVA_INT, 2 * Mmap.PAGE_SIZE + 12, 0xcafe);
            assertEquals(0xcafe, page2.get(ValueLayout.JAVA_INT, 12));
            page2.set(ValueLayout.JAVA_INT, 100, 0xbeef);
            assertEquals(0xbeef, whole.get(ValueLayout.JAVA_INT, 2 * Mmap.PAGE_SIZE + 100));
        }
    }

    @Test
    void a_mapping_outlives_its_descriptor_and_ends_with_its_arena() throws Exception {
        MemorySegment seg;
        Fd dup;
        try (Arena arena = Arena.ofConfined()) {
            try (Fd fd = Memfd.create("outlive", Mmap.PAGE_SIZE)) {
                dup = fd.dup();
                seg = Mmap.map(fd, 0, Mmap.PAGE_SIZE, true, arena);
            }
            seg.set(ValueLayout.JAVA_LONG, 0, 77);
            try (Arena other = Arena.ofConfined()) {
                assertEquals(77, Mmap.map(dup, 0, Mmap.PAGE_SIZE, false, other).get(ValueLayout.JAVA_LONG, 0));
            }
        }
        MemorySegment gone = seg;
        assertThrows(IllegalStateException.class, () -> gone.get(ValueLayout.JAVA_LONG, 0), "unmapped with its arena");
        dup.close();
    }

    @Test
    void a_read_only_mapping_refuses_writes_in_java() throws Exception {
        try (Fd fd = Memfd.create("ro", Mmap.PAGE_SIZE); Arena arena = Arena.ofConfined()) {
            MemorySegment ro = Mmap.map(fd, 0, Mmap.PAGE_SIZE, false, arena);
            assertTrue(ro.isReadOnly());
            assertThrows(IllegalArgumentException.class, () -> ro.set(ValueLayout.JAVA_BYTE, 0, (byte) 1));
        }
    }

    @Test
    void truncate_grows_the_file_and_mapping_beyond_it_fails_with_errno() throws Exception {
        try (Fd fd = Memfd.create("grow", Mmap.PAGE_SIZE); Arena arena = Arena.ofConfined()) {
            Memfd.truncate(fd, 3 * Mmap.PAGE_SIZE);
            assertEquals(3 * Mmap.PAGE_SIZE, FileStat.of(fd).size());
            OsException e = assertThrows(OsException.class, () -> Mmap.map(fd, 1, Mmap.PAGE_SIZE, true, arena));
            assertEquals(Errno.EINVAL, e.errno());
        }
    }
}
