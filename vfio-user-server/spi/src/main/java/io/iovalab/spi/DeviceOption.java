package io.iovalab.spi;

/** A documented {@code key=value} of a device; {@code defaultValue} null means required. */
public record DeviceOption(String key, String defaultValue, String help) {
}
