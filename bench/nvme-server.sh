#!/usr/bin/env bash
# B2 (issue 11): NVMe device on the null backend, no guest. A client in this JVM maps memfd
# "guest memory", sets the controller up through BAR0, writes SQEs, rings doorbells and reaps CQEs
# by phase tag: 4 KiB random reads at queue depth QD. Reference in the same run: the same client
# and device with trapped doorbells (each one a posted REGION_WRITE message).
# Then a second mmap run under JFR: allocation samples taken on the device's worker thread.
# Usage: bench/nvme-server.sh [SECONDS=5] [QD=32]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
secs=${1:-5}
qd=${2:-32}
java=("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xmx1g -Dorg.slf4j.simpleLogger.defaultLogLevel=warn)
out=$(mktemp); jfr=$(mktemp --suffix=.jfr)
trap 'rm -f "$out" "$jfr"' EXIT
"${java[@]}" -cp "$cp" io.iovalab.bench.nvme.ServerSideBench "$secs" "$qd" trap mmap >"$out"
"${java[@]}" -XX:StartFlightRecording=filename="$jfr",settings=profile -cp "$cp" \
  io.iovalab.bench.nvme.ServerSideBench "$secs" "$qd" mmap >>"$out" 2>/dev/null
"$JAVA_HOME/bin/jfr" print --json --events jdk.ObjectAllocationSample "$jfr" >"$jfr.json"
python3 - "$out" "$jfr.json" "$qd" "$(nproc)" <<'PY'
import json, sys
rows = [dict(kv.split("=", 1) for kv in line.split()) for line in open(sys.argv[1]) if line.startswith("mode=")]
trap, mmap, jfrrun = rows[0], rows[1], rows[2]
print("B2: 4 KiB random reads, null backend, QD %s, one I/O queue pair, %s cores on this machine" % (sys.argv[3], sys.argv[4]))
print("%-40s %14s %14s %8s" % ("", "trap (ref)", "mmap", "ratio"))
def row(label, key, fmt="%14.0f", better="higher"):
    a, b = float(trap[key]), float(mmap[key])
    print(("%-40s " + fmt + " " + fmt + " %8.2f  (%s is better)") % (label, a, b, b / a if a else float("nan"), better))
row("commands/s (wall clock)", "iops")
row("commands/s per server core (CPU time)", "perServerCore")
row("commands/s per worker-thread core", "perWorkerCore")
row("server CPU seconds", "serverCpu", "%14.2f", "lower")
row("latency p50 us", "p50us", "%14.1f", "lower")
row("latency p99 us", "p99us", "%14.1f", "lower")
row("latency p99.9 us", "p999us", "%14.1f", "lower")
row("worker bytes allocated per command", "workerBytesPerCmd", "%14.2f", "lower")
row("server bytes allocated per command", "serverBytesPerCmd", "%14.2f", "lower")
print("%-40s %14s %14s" % ("doorbells that arrived as messages", trap["trappedDoorbells"], mmap["trappedDoorbells"]))
ev = json.load(open(sys.argv[2]))["recording"]["events"]
worker = [e for e in ev if (e["values"].get("eventThread") or {}).get("javaName", "").startswith("b2mmap-nvme")]
server = [e for e in ev if (e["values"].get("eventThread") or {}).get("javaName", "").startswith("b2mmap-")]
def top(es):
    frames = {}
    for e in es:
        st = e["values"].get("stackTrace") or {}
        fr = st.get("frames") or [{}]
        m = fr[0].get("method", {})
        k = "%s.%s" % (m.get("type", {}).get("name", "?"), m.get("name", "?"))
        frames[k] = frames.get(k, 0) + e["values"].get("weight", 0)
    return sorted(frames.items(), key=lambda kv: -kv[1])[:5]
print("JFR (mmap, %s commands incl. warm-up): %d allocation samples on the worker thread, %d on all server threads; the worker's top sites:"
      % (jfrrun["commands"], len(worker), len(server)))
for k, w in top(worker):
    print("  %-70s %12d bytes (sampled weight)" % (k, w))
print("JFR run: worker bytes/command %s, commands/s %s" % (jfrrun["workerBytesPerCmd"], jfrrun["iops"]))
print("target: >= 1.5e6 commands/s on one server core (mmap); measured %.2fe6" % (float(mmap["perServerCore"]) / 1e6))
PY
rm -f "$jfr.json"
