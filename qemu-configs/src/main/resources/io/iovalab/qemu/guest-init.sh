#!/bin/sh
# iovalab guest /init: bring the system up, mount the host share, then run the host's jobs.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
# no init system in this userland: poweroff is busybox's (reboot(2) from PID 1), so the guest ends
# in an ACPI power-off, not in "Attempted to kill init!" when this script runs out
command -v poweroff >/dev/null || ln -s /usr/bin/busybox /usr/sbin/poweroff
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm /run /tmp /sys/kernel/tracing
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
hostname iovalab-guest
param() { tr ' ' '\n' < /proc/cmdline | sed -n "s/^$1=//p" | tail -n 1; }
# modules named by the topology first (virtio-iommu: devices behind it wait for it)
for m in $(param iovalab.modules | tr ',' ' '); do modprobe "$m" || echo "IOVALAB-WARN: modprobe $m failed"; done
# no udev here: drivers for devices present now (coldplug), and for those added later through the
# uevent helper where the kernel has one (CONFIG_UEVENT_HELPER; Debian's kernels do not)
if [ -e /proc/sys/kernel/hotplug ]; then
  printf '#!/bin/sh\n[ -n "$MODALIAS" ] && exec /usr/sbin/modprobe -q "$MODALIAS"\nexit 0\n' > /run/hotplug
  chmod +x /run/hotplug
  echo /run/hotplug > /proc/sys/kernel/hotplug
fi
cat /sys/bus/*/devices/*/modalias 2>/dev/null | sort -u | xargs -r modprobe -q -a 2>/dev/null
modprobe 9pnet_virtio && modprobe 9p
mkdir -p /host
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 iovalab /host; then
  echo "IOVALAB-FAIL: cannot mount the host share"
  poweroff -f
fi
echo "IOVALAB-READY uptime=$(cut -d' ' -f1 /proc/uptime) kernel=$(uname -r)"
uname -r > /host/ready.tmp && mv /host/ready.tmp /host/ready
if [ "$(param iovalab.interactive)" = 1 ]; then
  echo "iovalab: interactive shell; 'poweroff -f' or Ctrl-D ends the guest"
  setsid sh -c 'exec sh -i </dev/ttyS0 >/dev/ttyS0 2>&1'
  sync
  poweroff -f
fi
mkdir -p /host/jobs
while [ ! -e /host/poweroff ]; do
  for job in /host/jobs/*.sh; do
    [ -e "$job" ] || continue
    n=${job%.sh}
    [ -e "$n.started" ] && continue
    : > "$n.started"
    (cd /host/jobs && sh "$job" > "$n.out" 2> "$n.err"; echo $? > "$n.rc.tmp"; mv "$n.rc.tmp" "$n.rc")
  done
  sleep 0.1
done
sync
poweroff -f
