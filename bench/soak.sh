#!/usr/bin/env bash
# Issue 12, acceptance 5: NVMe soak under a real guest (not in CI). fio write+verify rounds behind
# intel-iommu (strict: a DMA_MAP and a DMA_UNMAP per I/O), a controller reset every RESET_EVERY
# seconds during each round, a driver unbind+bind every REBIND_EVERY rounds; prints the figures
# and exits 0 when the run was clean.
#   bench/soak.sh [MINUTES=60] [RESET_EVERY_S=15] [REBIND_EVERY_ROUNDS=3] [WORK_DIR]
# Maven options (e.g. a private local repository) go in MAVEN_ARGS.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xmx1g -cp "$cp" io.iovalab.bench.soak.NvmeSoak "$@"
