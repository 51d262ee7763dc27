#!/usr/bin/env bash
# IOMMU model benchmarks (issue 3): translate hit at 1M 4 KiB maps (alone, and with the 8-byte read it
# serves), map+unmap throughput, heap per mapping — each beside a TreeMap baseline measured in the
# same run, printed as a table of ratios. Usage: bench/iommu.sh [FORKS=3]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
# the JVM flags ./iovalab runs the server with (huge heap pages where the kernel offers them)
java=("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xmx4g $(iovalab_server_jvm_flags))
forks=${1:-3}
out=$(mktemp)
# several forks, each a fresh JVM and heap layout; a figure is the median of the forks' means, which
# a neighbour's burst on this shared machine moves less than it moves the mean of all iterations
"${java[@]}" -cp "$cp" org.openjdk.jmh.Main 'io.iovalab.bench.iommu.*Bench' 'io.iovalab.iommu.TranslateBench' -f "$forks" \
  -wi 3 -w 1s -i 5 -r 1s -rf json -rff "$out" >&2
heap=$("${java[@]}" -cp "$cp" io.iovalab.bench.iommu.HeapPerMapping 1000000)
python3 - "$out" "$heap" "$forks" <<'PY'
import json, statistics, sys
rows = {}
for r in json.load(open(sys.argv[1])):
    forks = [statistics.mean(f) for f in r["primaryMetric"]["rawData"]]
    rows[".".join(r["benchmark"].split(".")[-2:])] = (statistics.median(forks), r["primaryMetric"]["scoreUnit"], forks)
def pair(bench):
    a, unit, _ = rows[bench + ".iovaSpace"]; b, _, _ = rows[bench + ".treeMapBaseline"]; return a, b, unit
print("IOMMU model, %s forks each: medians of the forks' means" % sys.argv[3])
print("%-34s %14s %14s %10s" % ("benchmark", "iovalab", "TreeMap", "ratio"))
t = lambda m: rows["TranslateBench." + m]
(a, u, fa), (b, _, _) = t("translate"), t("treeMapTranslate")
print("%-34s %14.1f %14.1f %10.2f  (%s, lower is better; target <= 20 ns; forks %s)"
      % ("translate hit, 1M 4 KiB maps", a, b, a / b, u, " / ".join("%.1f" % x for x in fa)))
(a, u, _), (b, _, _), (f, _, _) = t("access"), t("treeMapAccess"), t("flatArrayFloor")
print("%-34s %14.1f %14.1f %10.2f  (%s, translate + 8-byte read of random guest memory)" % ("  with the read it serves", a, b, a / b, u))
print("%-34s %14.1f %14s %10s  (%s, flat long[] + the same read, no checks: what the memory costs)" % ("  floor for that read", f, "", "", u))
a, b, u = pair("MapUnmapBench"); print("%-34s %14.0f %14.0f %10.2f  (%s, higher is better; target >= 1e6)" % ("map+unmap, 100k live", a, b, a / b, u))
h = dict(kv.split("=") for kv in sys.argv[2].split()[1:4])
print("%-34s %14s %14s %10s  (bytes, target <= 64)" % ("heap per mapping", h["iovaSpace"], h["treeMapBaseline"], h["ratio"]))
PY
