package io.iovalab.server;

import io.iovalab.iommu.IovaSpace;
import io.iovalab.pci.PciListener;
import io.iovalab.spi.Device;

import java.util.function.Supplier;

/** What a PCI function's config writes do outside the function: the live server and a replay share it. */
final class DeviceWiring {
    private DeviceWiring() {
    }

    /**
     * Bus Master Enable gates the device's IOVA space; a Function Level Reset resets the device
     * through the session's handler, when a session has one ({@code handler} may give null).
     */
    static PciListener pciListener(IovaSpace iova, Supplier<RequestHandler> handler) {
        return new PciListener() {
            @Override
            public void busMasterChanged(boolean enabled) {
                iova.setBusMasterEnabled(enabled);
            }

            @Override
            public void functionLevelReset() {
                RequestHandler h = handler.get();
                if (h != null) {
                    h.reset(Device.ResetReason.FLR);
                }
            }
        };
    }
}
