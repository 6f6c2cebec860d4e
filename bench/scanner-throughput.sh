#!/usr/bin/env bash
# Poll-answer scanner throughput, old (hand-written tokeniser, from git: OLD_REV, default 502e19f) against new
# (Jackson's non-blocking parser, target/classes): bash bench/scanner-throughput.sh [rounds]. Needs `mvn compile`
# first; prints, asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
OLD_REV=${OLD_REV:-502e19f}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
. bench/scanner-lib.sh
mkdir -p "$out/src" "$out/classes"
scanner_at "$OLD_REV" OldTaskListScanner "$out/src"
javac -nowarn -d "$out/classes" -cp "$cp" "$out/src/OldTaskListScanner.java" bench/ScannerThroughput.java
java -Xmx512m -cp "$out/classes:$cp" ScannerThroughput "${1:-9}"
