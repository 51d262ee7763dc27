package io.iovalab.qemu;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The QEMU argv for a {@link GuestSpec}. Pure: builds a list, starts nothing. */
public final class QemuCommandLine {
    private QemuCommandLine() {
    }

    public static List<String> build(GuestSpec s, Path share, Path serialLog, Path qmp) {
        List<String> a = new ArrayList<>(s.qemu().prefix());
        Accel accel = s.accel().resolve();
        a.addAll(List.of("-machine", s.topology().machine() + ",memory-backend=mem", "-accel", accel.qemuName(),
                "-cpu", accel == Accel.KVM ? "host" : "max",
                "-smp", String.valueOf(s.cpus()), "-m", s.memoryMiB() + "M",
                // vfio-user needs guest RAM the server can map: a shared memfd
                "-object", "memory-backend-memfd,id=mem,size=" + s.memoryMiB() + "M,share=on",
                "-nodefaults", "-no-user-config", "-display", "none", "-vga", "none", "-no-reboot",
                "-qmp", "unix:" + qmp + ",server=on,wait=off",
                "-run-with", "exit-with-parent=on"));
        if (s.interactive()) {
            a.addAll(List.of("-serial", "mon:stdio"));
        } else {
            a.addAll(List.of("-serial", "file:" + serialLog));
        }
        for (String d : s.topology().devices()) {
            a.addAll(List.of("-device", d));
        }
        a.addAll(List.of("-virtfs", "local,path=" + share + ",mount_tag=iovalab,security_model=none,id=iovalabfs"));
        int port = 1;
        for (Path sock : s.vfioUserSockets()) {
            String rp = "iovalab_rp" + port;
            a.addAll(List.of("-device", "pcie-root-port,id=" + rp + ",chassis=" + port + ",slot=" + port));
            a.addAll(List.of("-device", "{\"driver\":\"vfio-user-pci\",\"id\":\"iovalab" + (port - 1) + "\",\"bus\":\"" + rp
                    + "\",\"socket\":{\"type\":\"unix\",\"path\":\"" + sock.toAbsolutePath() + "\"},\"x-msg-timeout\":10000}"));
            port++;
        }
        a.addAll(s.extraArgs());
        StringBuilder cmdline = new StringBuilder("console=ttyS0 panic=-1 loglevel=4");
        if (accel == Accel.TCG) {
            // On a loaded host a TCG vCPU can miss the few ticks check_timer() waits for, and with interrupt
            // remapping on (intel-iommu) the kernel then panics: "timer doesn't work through Interrupt-remapped
            // IO-APIC". The timer works; the check is what cannot cope with a slow vCPU.
            cmdline.append(" no_timer_check");
        }
        if (!s.topology().kernelCmdline().isBlank()) {
            cmdline.append(' ').append(s.topology().kernelCmdline());
        }
        if (!s.topology().guestModules().isEmpty()) {
            cmdline.append(" iovalab.modules=").append(String.join(",", s.topology().guestModules()));
        }
        if (s.interactive()) {
            cmdline.append(" iovalab.interactive=1");
        }
        if (s.kernelArgs() != null && !s.kernelArgs().isBlank()) {
            cmdline.append(' ').append(s.kernelArgs());
        }
        a.addAll(List.of("-kernel", s.image().kernel().toString(), "-initrd", s.image().initrd().toString(),
                "-append", cmdline.toString()));
        return a;
    }
}
