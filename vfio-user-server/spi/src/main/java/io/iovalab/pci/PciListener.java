package io.iovalab.pci;

/** What the server learns from config writes; called on the writing thread, outside the function's lock. */
public interface PciListener {
    /** Command.Bus Master Enable changed: the server gates the device's DMA. */
    void busMasterChanged(boolean enabled);

    /**
     * The guest set PCIe Device Control "Initiate Function Level Reset". The server resets the
     * device and then calls {@link PciFunction#resetConfig()}.
     */
    void functionLevelReset();

    /** MSI-X Message Control Enable or Function Mask changed (also on reset, to both false). */
    default void msixEnableChanged(boolean enabled, boolean functionMasked) {
    }
}
