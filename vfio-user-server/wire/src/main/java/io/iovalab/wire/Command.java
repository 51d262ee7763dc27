package io.iovalab.wire;

/** vfio-user command numbers (enum vfio_user_command). */
public enum Command {
    /** VFIO_USER_VERSION */
    VERSION(1),
    /** VFIO_USER_DMA_MAP */
    DMA_MAP(2),
    /** VFIO_USER_DMA_UNMAP */
    DMA_UNMAP(3),
    /** VFIO_USER_DEVICE_GET_INFO */
    DEVICE_GET_INFO(4),
    /** VFIO_USER_DEVICE_GET_REGION_INFO */
    DEVICE_GET_REGION_INFO(5),
    /** VFIO_USER_DEVICE_GET_REGION_IO_FDS */
    DEVICE_GET_REGION_IO_FDS(6),
    /** VFIO_USER_DEVICE_GET_IRQ_INFO */
    DEVICE_GET_IRQ_INFO(7),
    /** VFIO_USER_DEVICE_SET_IRQS */
    DEVICE_SET_IRQS(8),
    /** VFIO_USER_REGION_READ */
    REGION_READ(9),
    /** VFIO_USER_REGION_WRITE */
    REGION_WRITE(10),
    /** VFIO_USER_DMA_READ (server to client) */
    DMA_READ(11),
    /** VFIO_USER_DMA_WRITE (server to client) */
    DMA_WRITE(12),
    /** VFIO_USER_DEVICE_RESET */
    DEVICE_RESET(13),
    /** VFIO_USER_DIRTY_PAGES (obsolete) */
    DIRTY_PAGES(14),
    /** VFIO_USER_REGION_WRITE_MULTI */
    REGION_WRITE_MULTI(15),
    /** VFIO_USER_DEVICE_FEATURE */
    DEVICE_FEATURE(16),
    /** VFIO_USER_MIG_DATA_READ */
    MIG_DATA_READ(17),
    /** VFIO_USER_MIG_DATA_WRITE */
    MIG_DATA_WRITE(18);

    private static final Command[] BY_NUMBER = new Command[19];

    static {
        for (Command c : values()) {
            BY_NUMBER[c.number] = c;
        }
    }

    public final int number;

    Command(int number) {
        this.number = number;
    }

    /** The command with that number, or null. */
    public static Command of(int number) {
        return number > 0 && number < BY_NUMBER.length ? BY_NUMBER[number] : null;
    }

    public static String describe(int number) {
        Command c = of(number);
        return c != null ? c.name() : "COMMAND_" + number;
    }
}
