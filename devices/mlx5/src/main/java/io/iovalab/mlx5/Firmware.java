package io.iovalab.mlx5;

import io.iovalab.iommu.DmaCommand;
import io.iovalab.iommu.DmaFault;
import io.iovalab.mlx5.ifc.Mlx5Const;
import io.iovalab.mlx5.ifc.Mlx5Ifc.cmd_hca_cap;
import io.iovalab.spi.DeviceTrace;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.iovalab.mlx5.ifc.Mlx5Const.*;

/**
 * The firmware behind the command interface: an opcode table filled by the command families
 * (one class each), the HCA's life-cycle state, and a log of every command and its status. An
 * opcode nobody registered answers MLX5_CMD_STAT_BAD_OP_ERR with a syndrome naming it — never
 * silence, which would cost the driver a 60 s timeout per command.
 */
final class Firmware implements CommandQueue.Firmware {

    @FunctionalInterface
    interface Handler {
        void run(Command c) throws CommandException, DmaFault;
    }

    /** ENABLE_HCA → INIT_HCA → TEARDOWN_HCA → DISABLE_HCA, as the driver walks it. */
    enum HcaState { DISABLED, ENABLED, INITIALIZED }

    private final Map<Integer, Handler> handlers = new HashMap<>();
    final Mlx5Config config;
    final Caps caps;
    final Pages pages = new Pages();
    final EqTable eqs;
    final Uars uars;
    final Port port;
    final Resources resources = new Resources();
    HcaState state = HcaState.DISABLED;
    int issi;
    String driverVersion = "";
    /** Register contents the driver wrote with ACCESS_REG, by register id. */
    final Map<Integer, byte[]> registers = new HashMap<>();
    /** Called (worker thread) when a command moved a QP to ERR: the send-queue engine then flushes its WQEs. */
    Runnable qpErrored = () -> {
    };
    /** PAGE_FAULT_RESUME (worker thread): the send-queue engine retries or fails the QP's head WQE. */
    java.util.function.BiConsumer<Resources.Qp, Boolean> pageFaultResumed = (qp, error) -> qp.pageFaultPending = false;
    /** The DMA handle of the command being run: page lists and the like are read through it. */
    DmaCommand dma;

    final List<String> log = new ArrayList<>();
    /** Where `iovalab trace` sees each command; replaced by the server's trace when the device is created. */
    DeviceTrace trace = new DeviceTrace("mlx5");
    long commands;
    long failed;
    static final int LOG_LIMIT = 2048;

    Firmware(Mlx5Config config, EqTable eqs) {
        this.config = config;
        this.caps = new Caps(config);
        this.eqs = eqs;
        this.uars = new Uars(config.uarPages());
        this.port = new Port(config);
        HcaCommands.register(this);
        CapCommands.register(this);
        PageCommands.register(this);
        RegisterCommands.register(this, port);
        VportCommands.register(this, port);
        ResourceCommands.register(this);
        CqCommands.register(this);
        QpCommands.register(this);
        MkeyCommands.register(this);
        SrqCommands.register(this);
        MadCommands.register(this);
        UarCommands.register(this);
        EqCommands.register(this);
        PageFaultCommands.register(this);
    }

    void register(int opcode, Handler h) {
        if (handlers.putIfAbsent(opcode, h) != null) {
            throw new IllegalStateException("opcode registered twice: " + opName(opcode));
        }
    }

    /** Power-on state (device reset): pages the driver gave are forgotten, as a reset does to real firmware. */
    void reset() {
        state = HcaState.DISABLED;
        issi = 0;
        driverVersion = "";
        caps.reset();
        pages.reset();
        uars.reset();
        registers.clear();
        eqs.destroyAll();
        resources.reset();
    }

    @Override
    public boolean checksumEnabled() {
        return caps.current(MLX5_CAP_GENERAL, cmd_hca_cap.cmdif_checksum) != 0;
    }

    @Override
    public void execute(Command c) {
        int status = MLX5_CMD_STAT_OK;
        int syndrome = 0;
        String why = "";
        commands++;
        try {
            Handler h = handlers.get(c.opcode());
            if (h == null) {
                throw new CommandException(MLX5_CMD_STAT_BAD_OP_ERR, Syndrome.UNKNOWN_OPCODE | c.opcode(),
                        "unsupported opcode");
            }
            h.run(c);
        } catch (CommandException e) {
            status = e.status;
            syndrome = e.syndrome;
            why = e.getMessage();
        } catch (DmaFault f) {
            // a page list or context pointer the IOMMU refused: a parameter error, filed as a fault
            status = MLX5_CMD_STAT_BAD_PARAM_ERR;
            syndrome = Syndrome.DMA_FAULT;
            why = f.getMessage();
        } catch (RuntimeException e) {
            // a bug here must not take the server down; the guest sees an internal error
            status = MLX5_CMD_STAT_INT_ERR;
            syndrome = Syndrome.INTERNAL;
            why = e.toString();
        }
        if (status != MLX5_CMD_STAT_OK) {
            java.util.Arrays.fill(c.out, (byte) 0);
            failed++;
        }
        c.status(status, syndrome);
        if (trace.enabled()) {
            trace.emit("COMMAND", -1, -1, status == 0
                    ? Map.of("opcode", opName(c.opcode()), "opcode_id", String.format("0x%x", c.opcode()), "op_mod", c.opMod(),
                            "status", statusName(status))
                    : Map.of("opcode", opName(c.opcode()), "opcode_id", String.format("0x%x", c.opcode()), "op_mod", c.opMod(),
                            "status", statusName(status),
                            "syndrome", String.format("0x%x", syndrome), "why", why));
        }
        if (log.size() < LOG_LIMIT) {
            log.add(String.format("%s(0x%x) op_mod 0x%x: %s%s", opName(c.opcode()), c.opcode(), c.opMod(), statusName(status),
                    status == 0 ? "" : String.format(" syndrome 0x%x (%s)", syndrome, why)));
        }
    }

    // ---- names for the log, from the generated constants

    private static final Map<Integer, String> OP_NAMES = names("MLX5_CMD_OP_");
    private static final Map<Integer, String> STATUS_NAMES = names("MLX5_CMD_STAT_");

    private static Map<Integer, String> names(String prefix) {
        Map<Integer, String> m = new HashMap<>();
        for (Field f : Mlx5Const.class.getFields()) {
            if (f.getName().startsWith(prefix) && Modifier.isStatic(f.getModifiers())) {
                try {
                    m.putIfAbsent(f.getInt(null), f.getName().substring(prefix.length()));
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        return m;
    }

    static String opName(int opcode) {
        return OP_NAMES.getOrDefault(opcode, "UNKNOWN");
    }

    static String statusName(int status) {
        return STATUS_NAMES.getOrDefault(status, "0x" + Integer.toHexString(status));
    }

    void requireState(HcaState... allowed) throws CommandException {
        for (HcaState s : allowed) {
            if (state == s) {
                return;
            }
        }
        throw new CommandException(MLX5_CMD_STAT_BAD_SYS_STATE_ERR, Syndrome.BAD_STATE, "HCA is " + state);
    }
}
