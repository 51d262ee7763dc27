package io.iovalab.spi;

import java.util.List;

/**
 * A device type, found through {@link java.util.ServiceLoader} and configured from
 * {@code --device TYPE[:key=value,...]}.
 */
public interface DevicePlugin {

    /** The TYPE of {@code --device TYPE:...}, e.g. {@code nvme}. */
    String type();

    /** One line for {@code --help}. */
    String summary();

    /** Every key the device accepts; other keys are rejected before {@link #create} is called. */
    List<DeviceOption> options();

    /** Builds a device; a bad value is a {@link DeviceConfigException} naming the key. */
    Device create(DeviceConfig config, DeviceContext context) throws DeviceConfigException;
}
