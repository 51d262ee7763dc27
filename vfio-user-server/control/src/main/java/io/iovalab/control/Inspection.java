package io.iovalab.control;

import io.iovalab.iommu.Fault;
import io.iovalab.iommu.IovaSpace;
import io.iovalab.iommu.MapEntry;
import io.iovalab.server.VfioUserServer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What {@code iovalab inspect} shows of one server: device state, the IOMMU map and faults, armed injections. */
public final class Inspection {
    private static final int RECENT_FAULTS = 32;

    private Inspection() {
    }

    public static Map<String, Object> of(VfioUserServer server) {
        long now = System.nanoTime();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("device", server.options().name());
        m.put("config", server.options().device().toString());
        m.put("socket", server.options().socket().toString());
        Map<String, Object> session = new LinkedHashMap<>();
        session.put("sessions", server.stats().sessions());
        session.put("messages", server.stats().messages());
        session.put("errors", server.stats().errors());
        m.put("session", session);
        m.put("state", server.device().inspect());
        m.put("injections", server.device().faultInjector().active());

        IovaSpace iova = server.iovaSpace();
        Map<String, Object> iommu = new LinkedHashMap<>();
        List<Map<String, Object>> maps = new ArrayList<>();
        for (MapEntry e : iova.dump()) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("iova", "0x" + Long.toHexString(e.iova()));
            r.put("end", "0x" + Long.toHexString(e.iova() + e.size() - 1));
            r.put("size", e.size());
            r.put("access", (e.readable() ? "r" : "-") + (e.writable() ? "w" : "-"));
            r.put("backing", e.backing());
            r.put("offset", e.offset());
            r.put("ageMillis", (now - e.mappedAtNanos()) / 1_000_000);
            maps.add(r);
        }
        iommu.put("mappings", maps);
        iommu.put("statistics", iova.statistics());
        iommu.put("faults", iova.faults().total());
        List<Fault> recent = iova.faults().recent();
        iommu.put("recentFaults", recent.subList(Math.max(0, recent.size() - RECENT_FAULTS), recent.size()));
        m.put("iommu", iommu);
        return m;
    }
}
