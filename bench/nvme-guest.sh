#!/usr/bin/env bash
# B1 (issue 11): guest fio on three NVMe controllers in the same guest (same kernel, same vIOMMU,
# same accelerator): QEMU's built-in nvme (reference), iovalab with mmapped doorbells, iovalab
# with trapped doorbells; null backends everywhere. 4 KiB randread QD32 and 128 KiB seqread QD32.
# Usage: bench/nvme-guest.sh [SECONDS=20] [TOPOLOGY=intel-iommu] [MMAP_KEYS, e.g. spin=0,poll=100]
#        [COALESCING: Set Features 08h dword 11 the guest sets on every controller, e.g. 0x0a0f = after
#        16 entries or 1 ms; QEMU's nvme refuses the feature] [ROUNDS=3, the devices interleaved]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
out=$(mktemp); trap 'rm -f "$out"' EXIT
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$cp" \
  io.iovalab.bench.nvme.GuestFioBench "${1:-20}" "${2:-intel-iommu}" "${3:-}" "${4:-}" "${5:-3}" | tee "$out" >&2
python3 - "$out" <<'PY'
import statistics, sys
# only the bench's own key=value lines (the guest's progress may share stdout)
lines = [dict(kv.split("=", 1) for kv in l.split()) for l in open(sys.argv[1])
         if l.split() and all("=" in kv for kv in l.split())]
head = next(l for l in lines if "accel" in l)
print("B1: guest fio, accelerator %s, kernel %s, topology %s, %s s per run, null backends, mmap device keys: %s"
      % (head["accel"].upper(), head["kernel"], head["topology"], head["seconds"], head.get("mmapKeys", "-")))
print("    %s rounds, the devices interleaved in each; figures are medians over the rounds, ratios the median of each round's ratio"
      % head.get("rounds", "1"))
for l in lines:
    if "coalescingSet" in l:
        print("  interrupt coalescing %s on %s: set %s, Get Features says %s"
              % (head["coalescing"], l["device"], l["coalescingSet"], l["answer"].replace("_", " ") or "-"))
devices = ("qemu-nvme", "iovalab-mmap", "iovalab-trap")
runs = {}
for l in lines:
    if "workload" in l:
        runs.setdefault(l["workload"], {}).setdefault(l.get("round", "1"), {})[l["device"]] = l
med = statistics.median
print("%-22s %-8s %12s %14s %14s %11s %11s" % ("workload", "", "QEMU nvme", "iovalab mmap", "iovalab trap", "mmap/QEMU", "trap/QEMU"))
for w, rounds in runs.items():
    rs = [r for r in rounds.values() if all(d in r for d in devices)]
    for key, label in (("iops", "IOPS"), ("bwKiB", "KiB/s")):
        v = [med(float(r[d][key]) for r in rs) for d in devices]
        ratio = [med(float(r[d][key]) / float(r["qemu-nvme"][key]) for r in rs) for d in devices[1:]]
        print("%-22s %-8s %12.0f %14.0f %14.0f %11.2f %11.2f" % (w, label, v[0], v[1], v[2], ratio[0], ratio[1]))
    per = [med(float(r[d]["ios"]) / float(r[d]["irqs"]) if float(r[d]["irqs"]) else float("nan") for r in rs) for d in devices]
    print("%-22s %-8s %12.2f %14.2f %14.2f" % (w, "I/O/irq", per[0], per[1], per[2]))
    for r in rs:
        print("%-22s %-8s %12s %14s %14s %11.2f %11.2f" % ("", "round " + r["qemu-nvme"].get("round", "1"),
              *(r[d]["iops"] for d in devices), *(float(r[d]["iops"]) / float(r["qemu-nvme"]["iops"]) for d in devices[1:])))
    errs = [r[d]["errors"] for r in rs for d in devices]
    if any(e != "0" for e in errs):
        print("  fio errors:", errs)
mm = next((l for l in lines if "trappedDoorbellWrites" in l), None)
if mm:
    print("iovalab mmap: %s trapped doorbell writes over %s commands" % (mm["trappedDoorbellWrites"], mm["commands"]))
print("target: iovalab / QEMU nvme >= 2.0 for 4k randread QD32")
PY
