#!/usr/bin/env bash
# Heap held by the poll-answer scanner on the largest answers it accepts, under the runner's shipped heap flags
# (Dockerfile.runner): main's hand-written scanner (from git: OLD_REV, default 502e19f), the first Jackson version
# (from git: JACKSON_REV, default 1ba93bd, branch `scanner`) and this one (target/classes). Needs `mvn compile`
# first; prints, asserts nothing: bash bench/scanner-heap.sh
set -euo pipefail
cd "$(dirname "$0")/.."
OLD_REV=${OLD_REV:-502e19f}
JACKSON_REV=${JACKSON_REV:-1ba93bd}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
. bench/scanner-lib.sh
mkdir -p "$out/src" "$out/classes"
scanner_at "$OLD_REV" OldTaskListScanner "$out/src"
scanner_at "$JACKSON_REV" FirstJacksonTaskListScanner "$out/src"
javac -nowarn -d "$out/classes" -cp "$cp" "$out"/src/*.java bench/ScannerHeap.java
flags=(-XX:+UseSerialGC -Xms8m -Xmx128m -Xmn2m -XX:MinHeapFreeRatio=5 -XX:MaxHeapFreeRatio=20 -Xss256k -XX:TieredStopAtLevel=1)
for cls in OldTaskListScanner FirstJacksonTaskListScanner TaskListScanner; do
  echo "$cls:"
  java "${flags[@]}" -cp "$out/classes:$cp" ScannerHeap "dev.aireview.runner.server.$cls" || echo "  (exit $?)"
done
