package io.iovalab.control;

import io.iovalab.iommu.Fault;
import io.iovalab.iommu.TraceEvent;
import io.iovalab.spi.DeviceEvent;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One flat JSON object per event, IOMMU and device events alike: {@code t} (seconds since the
 * channel started), {@code device}, {@code kind}, {@code queue}, {@code cid}, then the
 * kind's own fields. Built on the channel's thread, never on the device's.
 */
public final class TraceJson {
    private final long originNanos;

    public TraceJson(long originNanos) {
        this.originNanos = originNanos;
    }

    public Map<String, Object> iommu(String device, TraceEvent e) {
        Map<String, Object> m = head(e.timeNanos(), device, e.kind().name(), e.queue(), e.commandId());
        if (e.kind() != TraceEvent.Kind.UNMAP_ALL) {
            m.put("iova", "0x" + Long.toHexString(e.iova()));
            m.put("length", e.length());
        }
        switch (e.kind()) {
            case MAP -> m.put("offset", e.info());
            case UNMAP, UNMAP_ALL -> m.put("bytes", e.info());
            // device reads guest memory = DMA to the device, as the kernel's DMA API names it
            case READ, CONTROL_READ -> m.put("direction", "TO_DEVICE");
            case WRITE, CONTROL_WRITE -> m.put("direction", "FROM_DEVICE");
            case FAULT -> {
                Fault.Kind[] kinds = Fault.Kind.values();
                m.put("fault", e.info() >= 0 && e.info() < kinds.length ? kinds[(int) e.info()].name() : String.valueOf(e.info()));
            }
        }
        return m;
    }

    public Map<String, Object> device(DeviceEvent e) {
        Map<String, Object> m = head(e.timeNanos(), e.device(), e.kind(), e.queue(), e.commandId());
        m.putAll(e.fields());
        return m;
    }

    private Map<String, Object> head(long nanos, String device, String kind, int queue, int cid) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("t", (nanos - originNanos) / 1e9);
        m.put("device", device);
        m.put("kind", kind);
        m.put("queue", queue);
        m.put("cid", cid);
        return m;
    }
}
