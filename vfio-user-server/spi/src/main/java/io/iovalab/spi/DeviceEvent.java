package io.iovalab.spi;

import java.util.Map;

/**
 * Something a device did that a person debugging a driver wants to see in {@code iovalab trace}:
 * a command fetched, a completion posted, an interrupt raised, an injected fault firing.
 *
 * @param timeNanos {@link System#nanoTime()} when it happened (same clock as IOMMU trace events)
 * @param device    device instance name
 * @param kind      e.g. {@code COMMAND}, {@code COMPLETION}, {@code INTERRUPT}, {@code INJECTION}
 * @param queue     queue id, or -1
 * @param commandId command id, or -1
 * @param fields    device-specific details in a stable order (opcode, status, ...)
 */
public record DeviceEvent(long timeNanos, String device, String kind, int queue, int commandId, Map<String, Object> fields) {
    public static final String COMMAND = "COMMAND";
    public static final String COMPLETION = "COMPLETION";
    public static final String INTERRUPT = "INTERRUPT";
    public static final String INJECTION = "INJECTION";
}
