package io.iovalab.iommu;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class PageTableTest {
    static final long LEAF = 8192; // pages per leaf
    static final long TOP = 1L << 39; // pages per top-level slot

    static long pageOf(int i) {
        // spread over leaves, directories and top-level slots, up to the last page there is
        return switch (i % 3) {
            case 0 -> i * LEAF;
            case 1 -> (i % 7) * TOP + i * LEAF + 5;
            default -> Pte.LAST_PAGE - i * LEAF;
        };
    }

    static long entry(int i) {
        return Pte.of(1 + i % 100, 4096L * i, true, i % 2 == 0);
    }

    @Test
    void sweeping_empty_leaves_keeps_the_ones_in_use_and_lets_pages_come_back() {
        PageTable t = new PageTable();
        int n = 300;
        for (int i = 0; i < n; i++) {
            t.set(pageOf(i), entry(i), i + 1);
        }
        for (int i = 0; i < n; i++) {
            if (i % 5 != 0) {
                t.clear(pageOf(i));
            }
        }
        t.trim(); // 240 empty leaves, 60 in use: a sweep
        List<Long> found = new ArrayList<>();
        for (long p = t.next(0, Pte.LAST_PAGE); p >= 0; p = p == Pte.LAST_PAGE ? -1 : t.next(p + 1, Pte.LAST_PAGE)) {
            found.add(p);
        }
        List<Long> expected = new ArrayList<>();
        for (int i = 0; i < n; i += 5) {
            expected.add(pageOf(i));
            assertEquals(entry(i), t.pte(pageOf(i)));
            assertEquals(i + 1, t.owner(pageOf(i)));
        }
        expected.sort(Long::compareUnsigned);
        assertEquals(expected, found, "next() walks exactly the pages still mapped, in order");
        for (int i = 0; i < n; i++) {
            if (i % 5 != 0) {
                assertEquals(0, t.pte(pageOf(i)));
                t.set(pageOf(i), entry(i), i + 1);
            }
        }
        for (int i = 0; i < n; i++) {
            assertEquals(entry(i), t.pte(pageOf(i)), "a page mapped again after its leaf was swept translates");
        }
    }

    @Test
    void next_respects_both_bounds() {
        PageTable t = new PageTable();
        t.set(10, entry(1), 1);
        t.set(LEAF * 3, entry(2), 2);
        assertEquals(10, t.next(0, 10));
        assertEquals(-1, t.next(0, 9));
        assertEquals(LEAF * 3, t.next(11, Pte.LAST_PAGE));
        assertEquals(-1, t.next(11, LEAF * 3 - 1));
        assertEquals(-1, t.next(LEAF * 3 + 1, Pte.LAST_PAGE));
    }
}
