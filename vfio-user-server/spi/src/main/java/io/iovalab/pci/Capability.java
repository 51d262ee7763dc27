package io.iovalab.pci;

/** A capability as the builder lays it out: where, what, and how big. */
record Capability(int id, int offset, int size, boolean extended) {
}
