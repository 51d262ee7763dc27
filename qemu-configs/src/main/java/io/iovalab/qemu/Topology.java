package io.iovalab.qemu;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A machine layout as data: machine options, the devices that go before iovalab's (the vIOMMU),
 * what the guest kernel needs on its command line and which modules it must load first.
 *
 * @param iommuGroupType what {@code /sys/bus/pci/devices/X/iommu_group/type} must read for a
 *                       device behind the vIOMMU, or null when there is none
 */
public record Topology(String name, String description, String machine, List<String> devices, String kernelCmdline,
                       List<String> guestModules, String iommuGroupType) {
    public static final List<String> BUILT_IN = List.of("intel-iommu", "virtio-iommu", "none");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A built-in topology by name, or a JSON file by path. */
    public static Topology load(String nameOrPath) throws IOException {
        if (BUILT_IN.contains(nameOrPath)) {
            try (InputStream in = Topology.class.getResourceAsStream("topologies/" + nameOrPath + ".json")) {
                return JSON.readValue(in, Topology.class);
            }
        }
        Path p = Path.of(nameOrPath);
        if (!Files.isRegularFile(p)) {
            throw new IOException("unknown topology '" + nameOrPath + "': built-in ones are " + BUILT_IN
                    + ", or give the path of a JSON file like them");
        }
        try {
            Topology t = JSON.readValue(p.toFile(), Topology.class);
            if (t.machine() == null || t.devices() == null) {
                throw new IOException("topology " + p + " needs \"machine\" and \"devices\"");
            }
            return t;
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IOException("topology " + p + " is not valid JSON: " + e.getOriginalMessage());
        }
    }
}
