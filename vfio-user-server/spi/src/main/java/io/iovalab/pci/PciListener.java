package io.iovalab.pci;

/** What the server learns from config writes. */
public interface PciListener {
    /** Command.Bus Master Enable changed: the server gates the device's DMA. */
    void busMasterChanged(boolean enabled);

    /** The guest set PCIe Device Control "Initiate Function Level Reset". */
    void functionLevelReset();

    default void msixEnableChanged(boolean enabled, boolean functionMasked) {
    }
}
