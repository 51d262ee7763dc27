#!/usr/bin/env bash
# Protocol fuzzing, the long run (issue 12, point 1): MESSAGES (default 10,000,000) valid, mutated
# and random vfio-user messages, with and without fds, against live in-process servers hosting the
# NVMe controller (null backend) and the example device, split evenly between them.
# Prints per device: messages/s, replies, closes, reconnects, fd and heap-after-GC deltas.
# Exits 1 on the first hang, crash, unexpected close, exception or leak, printing seed and message.
#   bench/protocol-fuzz.sh [MESSAGES [SEED [DEVICE...]]]      e.g. bench/protocol-fuzz.sh 1000000 42
# Extra Maven options (e.g. -Dmaven.repo.local=...) go in MAVEN_ARGS.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/.mvn/wrapper/bootstrap.sh"
iovalab_find_java
# the fuzzer lives with the server's tests (it reuses their client); build them and their classpath
"$here/mvnw" -B -q ${MAVEN_ARGS:-} -f "$here/pom.xml" -pl vfio-user-server/core -am test-compile >&2
work=$(mktemp -d)
cpfile="$work/classpath"
"$here/mvnw" -B -q ${MAVEN_ARGS:-} -f "$here/pom.xml" -pl vfio-user-server/core dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile="$cpfile" >&2
# a copy of the classes, so a rebuild during a long run cannot change them under it
cp -r "$here/vfio-user-server/core/target/classes" "$here/vfio-user-server/core/target/test-classes" "$work/"
# the server logs every rejected message at WARN: millions of lines would measure the terminal
status=0
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xmx512m \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=error \
  -cp "$work/test-classes:$work/classes:$(cat "$cpfile")" io.iovalab.server.ProtocolFuzzMain "$@" || status=$?
rm -rf "$work"
exit $status
