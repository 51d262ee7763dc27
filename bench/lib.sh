# Sourced by the bench scripts: Java 25 in $JAVA_HOME, and $cp, the classpath of this checkout's
# bench module. It packages rather than installs, so the classpath names this checkout's module
# jars, not whatever another checkout last installed into the shared local repository. Maven
# options (e.g. a private local repository) go in MAVEN_ARGS, which Maven reads itself.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$here/.mvn/wrapper/bootstrap.sh"
iovalab_find_java
"$here/mvnw" -B -q -f "$here/pom.xml" -pl bench -am package -DskipTests >&2
cp="$here/bench/target/classes:$(cat "$here/bench/target/classpath.txt")"
