#!/usr/bin/env bash
# Poll-answer scanner throughput, old (hand-written tokeniser, from git: OLD_REV, default 502e19f) against new
# (Jackson's non-blocking parser, target/classes): bash bench/scanner-throughput.sh [rounds]. Needs `mvn compile`
# first; prints, asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
OLD_REV=${OLD_REV:-502e19f}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# the Jackson jars of the pom's version, from the local repository (the dependency plugin may not be cached offline)
jv=$(sed -n 's:.*<jackson.version>\(.*\)</jackson.version>.*:\1:p' pom.xml)
m2=${M2_REPO:-$HOME/.m2/repository}/com/fasterxml/jackson/core
cp="target/classes:$m2/jackson-core/$jv/jackson-core-$jv.jar:$m2/jackson-databind/$jv/jackson-databind-$jv.jar"
cp="$cp:$(ls "$m2"/jackson-annotations/"${jv%.*}"*/jackson-annotations-*.jar | head -1)"
mkdir -p "$out/src" "$out/classes"
git show "$OLD_REV:src/main/java/dev/aireview/runner/server/TaskListScanner.java" \
  | sed 's/\bTaskListScanner\b/OldTaskListScanner/g' > "$out/src/OldTaskListScanner.java"
javac -nowarn -d "$out/classes" -cp "$cp" "$out/src/OldTaskListScanner.java" bench/ScannerThroughput.java
java -Xmx512m -cp "$out/classes:$cp" ScannerThroughput "${1:-9}"
