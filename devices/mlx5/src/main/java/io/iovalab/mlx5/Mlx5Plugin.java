package io.iovalab.mlx5;

import io.iovalab.spi.Device;
import io.iovalab.spi.DeviceConfig;
import io.iovalab.spi.DeviceConfigException;
import io.iovalab.spi.DeviceContext;
import io.iovalab.spi.DeviceOption;
import io.iovalab.spi.DevicePlugin;

import java.util.List;

/** {@code --device mlx5:...}: a ConnectX-like function that Linux's mlx5_core probes and mlx5_ib registers as mlx5_0. */
public final class Mlx5Plugin implements DevicePlugin {
    @Override
    public String type() {
        return "mlx5";
    }

    @Override
    public String summary() {
        return "mlx5 (ConnectX-5/6-like) HCA, one IB port: mlx5_core probes, mlx5_ib registers mlx5_0; RC loopback data path (SEND, RDMA WRITE/READ)";
    }

    @Override
    public List<DeviceOption> options() {
        Mlx5Config d = Mlx5Config.defaults();
        return List.of(
                new DeviceOption("devid", "0x" + Integer.toHexString(d.deviceId()), "PCI device id: 0x1017 (ConnectX-5) or 0x101b (ConnectX-6)"),
                new DeviceOption("vectors", Integer.toString(d.vectors()), "MSI-X vectors (2-64)"),
                new DeviceOption("bootpages", Integer.toString(d.bootPages()), "pages the firmware asks for at boot (0-4096)"),
                new DeviceOption("initpages", Integer.toString(d.initPages()), "pages the firmware asks for before INIT_HCA (0-4096)"),
                new DeviceOption("psid", d.boardId(), "board id (PSID) reported by QUERY_ADAPTER"),
                new DeviceOption("guid", String.format("0x%016x", d.nodeGuid()), "node GUID (port 1 GUID = node GUID + 1)"),
                new DeviceOption("port", "active", "IB port state: down, init, armed or active (no link partner, no SM: loopback only)"),
                new DeviceOption("lid", Integer.toString(d.lid()), "port LID (1-0xbfff, unicast) while the port is up; 0 = none (verbs tools then refuse to connect)"));
    }

    private static int portState(String s) throws DeviceConfigException {
        return switch (s) {
            case "down" -> 1;
            case "init" -> 2;
            case "armed" -> 3;
            case "active" -> 4;
            default -> throw new DeviceConfigException("mlx5: port=" + s + " (down, init, armed or active)");
        };
    }

    @Override
    public Device create(DeviceConfig config, DeviceContext context) throws DeviceConfigException {
        Mlx5Config d = Mlx5Config.defaults();
        int devid = (int) config.integer("devid", d.deviceId(), 0, 0xffff);
        if (devid != 0x1017 && devid != 0x101b) {
            throw new DeviceConfigException("mlx5: devid=0x" + Integer.toHexString(devid) + " (0x1017 or 0x101b)");
        }
        String psid = config.string("psid", d.boardId());
        if (psid.length() > 16 || !psid.chars().allMatch(ch -> ch > 0x20 && ch < 0x7f)) {
            throw new DeviceConfigException("mlx5: psid must be 1-16 printable ASCII characters");
        }
        Mlx5Config c = new Mlx5Config(devid, (int) config.integer("vectors", d.vectors(), 2, 64), d.fwMajor(), d.fwMinor(),
                d.fwSub(), (int) config.integer("bootpages", d.bootPages(), 0, 4096),
                (int) config.integer("initpages", d.initPages(), 0, 4096), psid, d.bar0Size(),
                config.integer("guid", d.nodeGuid(), 1, Long.MAX_VALUE), portState(config.string("port", "active")),
                (int) config.integer("lid", d.lid(), 0, 0xbfff));
        return new Mlx5Device(c, context.dma(), context.threads("mlx5"), context.trace());
    }
}
