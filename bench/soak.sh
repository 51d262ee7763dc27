#!/usr/bin/env bash
# Issue 12, acceptance 5: NVMe soak under a real guest (not in CI). fio write+verify rounds behind
# intel-iommu (strict: a DMA_MAP and a DMA_UNMAP per I/O), a controller reset every RESET_EVERY
# seconds during each round, a driver unbind+bind every REBIND_EVERY rounds; prints the figures
# and exits 0 when the run was clean.
#   bench/soak.sh [MINUTES=60] [RESET_EVERY_S=15] [REBIND_EVERY_ROUNDS=3] [WORK_DIR]
# Maven options (e.g. a private local repository) go in MAVEN_ARGS.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/.mvn/wrapper/bootstrap.sh"
iovalab_find_java
# package, not install: the classpath then names this checkout's module jars
"$here/mvnw" -B -q -f "$here/pom.xml" -pl bench -am package -DskipTests >&2
cp="$here/bench/target/classes:$(cat "$here/bench/target/classpath.txt")"
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xmx1g -cp "$cp" io.iovalab.bench.soak.NvmeSoak "$@"
