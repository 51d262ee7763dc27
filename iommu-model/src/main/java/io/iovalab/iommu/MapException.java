package io.iovalab.iommu;

/** A DMA_MAP the model refuses; {@link #errno()} goes into the error reply. */
public final class MapException extends Exception {
    public static final int EEXIST = 17;
    public static final int EINVAL = 22;
    public static final int ENOSPC = 28;

    private final int errno;

    public MapException(int errno, String message) {
        super(message, null, false, false);
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }
}
