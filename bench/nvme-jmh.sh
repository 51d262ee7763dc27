#!/usr/bin/env bash
# B3 (issue 11): JMH for the vfio-user codec (a trapped doorbell's REGION_WRITE + reply) and the
# NVMe Data Pointer walk (128 KiB PRP list / SGL segment through the IOMMU model), each beside a
# no-checks floor measured in the same run, printed as a table of ratios.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
out=$(mktemp); trap 'rm -f "$out"' EXIT
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "$cp" org.openjdk.jmh.Main \
  'io.iovalab.nvme.DataPointerBench|io.iovalab.bench.wire.CodecBench' -f 1 -wi 3 -w 1s -i 5 -r 1s \
  -prof gc -rf csv -rff "$out" >&2
python3 - "$out" <<'PY'
import csv, sys
rows = {}
for r in csv.DictReader(open(sys.argv[1])):
    bench, _, metric = r["Benchmark"].partition(":")
    name = bench.split(".")[-1]
    if metric in ("", "gc.alloc.rate.norm"):
        rows.setdefault(name, {})["gc" if metric else "t"] = float(r["Score"])
def t(n): return rows[n]["t"]
def alloc(n): return rows[n].get("gc", float("nan"))
print("%-40s %12s %12s %8s %12s" % ("benchmark", "ns/op", "floor ns/op", "ratio", "bytes/op"))
for n, floor in (("prpList128k", "floorPlainListRead"), ("sglSegment128k", "floorPlainListRead"),
                 ("regionWriteDecodeAndReply", "floorByHand")):
    print("%-40s %12.1f %12.1f %8.2f %12.1f" % (n, t(n), t(floor), t(n) / t(floor), alloc(n)))
PY
