package io.iovalab.pci;

/** VFIO_PCI_*_IRQ_INDEX values, as used by GET_IRQ_INFO and SET_IRQS. */
public final class IrqIndex {
    public static final int VFIO_PCI_INTX_IRQ_INDEX = 0;
    public static final int VFIO_PCI_MSI_IRQ_INDEX = 1;
    public static final int VFIO_PCI_MSIX_IRQ_INDEX = 2;
    public static final int VFIO_PCI_ERR_IRQ_INDEX = 3;
    public static final int VFIO_PCI_REQ_IRQ_INDEX = 4;
    public static final int VFIO_PCI_NUM_IRQS = 5;

    private IrqIndex() {
    }
}
