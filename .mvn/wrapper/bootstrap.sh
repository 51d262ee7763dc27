# Sourced by ./mvnw and ./iovalab: picks Java 25 and makes the Maven distribution available
# from the local repository. Prints what it installs; silent when everything is in place.
iovalab_find_java() {
  local v
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    v=$("$JAVA_HOME/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
    [ "${v:-0}" -ge 25 ] 2>/dev/null && return 0
  fi
  # mvnw runs with globbing off (set -f)
  local globoff=""; case $- in *f*) globoff=1; set +f ;; esac
  for d in /usr/lib/jvm/temurin-25-jdk-* /usr/lib/jvm/java-25-* /usr/lib/jvm/*25* /usr/lib/jvm/*; do
    [ -x "$d/bin/javac" ] || continue
    v=$("$d/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
    if [ "${v:-0}" -ge 25 ] 2>/dev/null; then export JAVA_HOME="$d"; [ -z "$globoff" ] || set -f; return 0; fi
  done
  [ -z "$globoff" ] || set -f
  echo "iovalab: no JDK >= 25 found under /usr/lib/jvm; install one (e.g. temurin-25-jdk) or set JAVA_HOME" >&2
  return 1
}
# The server's JVM flags beyond the classpath. The IOMMU model's page-table leaves live on the heap
# and span megabytes at 10^6 maps: 2 MiB pages keep a translation's TLB misses down. Only where the
# kernel offers THP (the JVM warns otherwise).
iovalab_server_jvm_flags() {
  if grep -qE '\[(always|madvise)\]' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null; then
    echo -XX:+UseTransparentHugePages
  fi
}
iovalab_maven_dist() {
  local repo="${MAVEN_REPO_LOCAL:-$HOME/.m2/repository}"
  # without unzip the wrapper asks for the .tar.gz variant
  local kind=zip; command -v unzip >/dev/null 2>&1 || kind=tar.gz
  local zip="$repo/org/apache/maven/apache-maven/3.9.11/apache-maven-3.9.11-bin.$kind"
  if [ ! -f "$zip" ]; then
    if ! command -v mvn >/dev/null 2>&1; then
      echo "iovalab: installing Debian's maven client to fetch the Maven 3.9.11 distribution" >&2
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq maven >/dev/null; } || return 1
    fi
    echo "iovalab: fetching the Maven 3.9.11 distribution into $repo" >&2
    ( unset JAVA_HOME; mvn -B -q -Dmaven.repo.local="$repo" dependency:get \
        -Dartifact=org.apache.maven:apache-maven:3.9.11:$kind:bin -Dtransitive=false ) || return 1
  fi
  export MVNW_REPOURL="file://$repo"
}
