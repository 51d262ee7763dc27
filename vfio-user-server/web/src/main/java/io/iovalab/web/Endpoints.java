package io.iovalab.web;

import io.iovalab.control.Inspection;
import io.iovalab.iommu.IovaSpace;
import io.iovalab.server.VfioUserServer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON the page reads. Built from {@link Inspection}, the same snapshot {@code iovalab
 * inspect} prints, so the web view and the control socket cannot disagree.
 */
final class Endpoints {
    private final Devices devices;

    Endpoints(Devices devices) {
        this.devices = devices;
    }

    List<Map<String, Object>> devices() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (VfioUserServer s : devices.all()) {
            IovaSpace iova = s.iovaSpace();
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("name", s.options().name());
            d.put("type", s.options().device().type());
            d.put("config", s.options().device().toString());
            d.put("socket", s.options().socket().toString());
            d.put("sessions", s.stats().sessions());
            d.put("liveMappings", iova.statistics().liveMappings());
            d.put("faults", iova.faults().total());
            out.add(d);
        }
        return out;
    }

    Map<String, Object> inspect(VfioUserServer server) {
        return Inspection.of(server);
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> map(VfioUserServer server) {
        Map<String, Object> iommu = (Map<String, Object>) Inspection.of(server).get("iommu");
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("device", server.options().name());
        m.put("mappings", iommu.get("mappings"));
        m.put("statistics", iommu.get("statistics"));
        return m;
    }

    Map<String, Object> faults(VfioUserServer server) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("device", server.options().name());
        m.put("total", server.iovaSpace().faults().total());
        m.put("recent", server.iovaSpace().faults().recent());
        return m;
    }
}
