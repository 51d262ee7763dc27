#!/usr/bin/env bash
# B1 (issue 11): guest fio on three NVMe controllers in the same guest (same kernel, same vIOMMU,
# same accelerator): QEMU's built-in nvme (reference), iovalab with mmapped doorbells, iovalab
# with trapped doorbells; null backends everywhere. 4 KiB randread QD32 and 128 KiB seqread QD32.
# Usage: bench/nvme-guest.sh [SECONDS=20] [TOPOLOGY=intel-iommu] [MMAP_KEYS, e.g. spin=0,poll=100]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
out=$(mktemp); trap 'rm -f "$out"' EXIT
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$cp" \
  io.iovalab.bench.nvme.GuestFioBench "${1:-20}" "${2:-intel-iommu}" "${3:-}" | tee "$out" >&2
python3 - "$out" <<'PY'
import sys
# only the bench's own key=value lines (the guest's progress may share stdout)
lines = [dict(kv.split("=", 1) for kv in l.split()) for l in open(sys.argv[1])
         if l.split() and all("=" in kv for kv in l.split())]
head = next(l for l in lines if "accel" in l)
res = {(l["workload"], l["device"]): l for l in lines if "workload" in l}
print("B1: guest fio, accelerator %s, kernel %s, topology %s, %s s per run, null backends, mmap device keys: %s"
      % (head["accel"].upper(), head["kernel"], head["topology"], head["seconds"], head.get("mmapKeys", "-")))
print("%-22s %-8s %12s %14s %14s %11s %11s" % ("workload", "", "QEMU nvme", "iovalab mmap", "iovalab trap", "mmap/QEMU", "trap/QEMU"))
for w in dict.fromkeys(k[0] for k in res):
    q, m, t = res[(w, "qemu-nvme")], res[(w, "iovalab-mmap")], res[(w, "iovalab-trap")]
    for key, label in (("iops", "IOPS"), ("bwKiB", "KiB/s")):
        a, b, c = float(q[key]), float(m[key]), float(t[key])
        print("%-22s %-8s %12.0f %14.0f %14.0f %11.2f %11.2f" % (w, label, a, b, c, b / a, c / a))
    errs = [x["errors"] for x in (q, m, t)]
    if any(e != "0" for e in errs):
        print("  fio errors:", errs)
mm = next((l for l in lines if "trappedDoorbellWrites" in l), None)
if mm:
    print("iovalab mmap: %s trapped doorbell writes over %s commands" % (mm["trappedDoorbellWrites"], mm["commands"]))
print("target: iovalab / QEMU nvme >= 2.0 for 4k randread QD32")
PY
