package io.iovalab.nvme;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

/** The Identify data structures (CNS 00h, 01h, 02h, 03h, 06h), 4 KiB each. */
final class Identify {
    static final int CNS_NAMESPACE = 0x00;
    static final int CNS_CONTROLLER = 0x01;
    static final int CNS_ACTIVE_NAMESPACES = 0x02;
    static final int CNS_NS_DESCRIPTORS = 0x03;
    static final int CNS_CS_NAMESPACE = 0x05;
    static final int CNS_CS_CONTROLLER = 0x06;
    static final int VENDOR = 0x1b36;

    private Identify() {
    }

    static void controller(NvmeController c, MemorySegment b) {
        NvmeConfig cfg = c.config;
        b.set(JAVA_SHORT_UNALIGNED, 0, (short) VENDOR);                 // VID
        b.set(JAVA_SHORT_UNALIGNED, 2, (short) VENDOR);                 // SSVID
        NvmeController.putString(b, 4, 20, cfg.serial());               // SN
        NvmeController.putString(b, 24, 40, cfg.model());              // MN
        NvmeController.putString(b, 64, 8, "iovalab1");                // FR
        b.set(JAVA_BYTE, 72, (byte) 6);                                 // RAB
        b.set(JAVA_BYTE, 77, (byte) cfg.mdts());                        // MDTS (2^n × 4 KiB)
        b.set(JAVA_SHORT_UNALIGNED, 78, (short) 1);                     // CNTLID
        b.set(JAVA_INT_UNALIGNED, 80, NvmeRegs.VS_1_4);                 // VER
        b.set(JAVA_BYTE, 111, (byte) 1);                                // CNTRLTYPE: I/O controller
        int oacs = 1 << 1 | (cfg.dbbuf() ? 1 << 8 : 0);                 // Format NVM, Doorbell Buffer Config
        b.set(JAVA_SHORT_UNALIGNED, 256, (short) oacs);                 // OACS
        b.set(JAVA_BYTE, 258, (byte) 3);                                // ACL
        b.set(JAVA_BYTE, 259, (byte) 3);                                // AERL
        b.set(JAVA_BYTE, 260, (byte) 0x3);                              // FRMW: slot 1 read-only, 1 slot
        b.set(JAVA_BYTE, 261, (byte) 0x2);                              // LPA: Commands Supported and Effects log
        b.set(JAVA_BYTE, 262, (byte) 63);                               // ELPE
        b.set(JAVA_SHORT_UNALIGNED, 266, (short) 0x157);                // WCTEMP 343 K
        b.set(JAVA_SHORT_UNALIGNED, 268, (short) 0x175);                // CCTEMP 373 K
        b.set(JAVA_BYTE, 512, (byte) 0x66);                             // SQES
        b.set(JAVA_BYTE, 513, (byte) 0x44);                             // CQES
        b.set(JAVA_SHORT_UNALIGNED, 514, (short) cfg.mqes());           // MAXCMD
        b.set(JAVA_INT_UNALIGNED, 516, c.namespaces.size());            // NN
        b.set(JAVA_SHORT_UNALIGNED, 520, (short) (1 | 1 << 2 | 1 << 3 | 1 << 6)); // ONCS: Compare, DSM, Write Zeroes, Timestamp
        b.set(JAVA_BYTE, 524, (byte) 0);                                // FNA: format is per namespace
        b.set(JAVA_BYTE, 525, (byte) 1);                                // VWC present
        if (cfg.sgl()) {
            b.set(JAVA_INT_UNALIGNED, 536, 1 | 1 << 16);                // SGLS: supported, bit bucket descriptors
        }
        NvmeController.putString(b, 768, 256, "nqn.2026-11.io.iovalab:nvme:" + cfg.serial());
        // power state 0: 25 W
        b.set(JAVA_SHORT_UNALIGNED, 2048, (short) 2500);
        for (int i = 768 + ("nqn.2026-11.io.iovalab:nvme:" + cfg.serial()).length(); i < 1024; i++) {
            b.set(JAVA_BYTE, i, (byte) 0); // SUBNQN is NUL padded, not space padded
        }
    }

    static void namespace(Namespace ns, MemorySegment b) {
        long blocks = ns.blocks();
        b.set(JAVA_LONG_UNALIGNED, 0, blocks);   // NSZE
        b.set(JAVA_LONG_UNALIGNED, 8, blocks);   // NCAP
        b.set(JAVA_LONG_UNALIGNED, 16, blocks);  // NUSE
        b.set(JAVA_BYTE, 25, (byte) 1);          // NLBAF: two formats (0-based)
        b.set(JAVA_BYTE, 26, (byte) ns.lbaFormat); // FLBAS
        b.set(JAVA_BYTE, 33, (byte) (1 | 1 << 3)); // DLFEAT: deallocated reads return zeros; Write Zeroes may deallocate
        b.set(JAVA_LONG_UNALIGNED, 104, 0x494f56414c41424cL); // NGUID (first half): "IOVALAB" signature
        b.set(JAVA_LONG_UNALIGNED, 112, ns.nsid);
        b.set(JAVA_LONG_UNALIGNED, 120, 0x0226_4f56_4100_0000L | ns.nsid); // EUI64
        b.set(JAVA_INT_UNALIGNED, 128, 9 << 16);  // LBAF0: 512 B
        b.set(JAVA_INT_UNALIGNED, 132, 12 << 16); // LBAF1: 4 KiB
    }

    static void activeNamespaces(NvmeController c, int after, MemorySegment b) {
        int i = 0;
        for (Namespace ns : c.namespaces) {
            if (Integer.compareUnsigned(ns.nsid, after) > 0 && i < 1024) {
                b.set(JAVA_INT_UNALIGNED, 4L * i++, ns.nsid);
            }
        }
    }

    /** Namespace Identification Descriptor list: an NGUID (type 2, 16 bytes). */
    static void descriptors(Namespace ns, MemorySegment b) {
        b.set(JAVA_BYTE, 0, (byte) 2);
        b.set(JAVA_BYTE, 1, (byte) 16);
        b.set(JAVA_LONG_UNALIGNED, 4, 0x494f56414c41424cL);
        b.set(JAVA_LONG_UNALIGNED, 12, ns.nsid);
    }
}
