package io.iovalab.pci;

/**
 * A capability as the builder laid it out: its ID (an extended capability's 16-bit ID when
 * {@code extended}), config offset and size in bytes.
 */
public record Capability(int id, int offset, int size, boolean extended) {
}
