#!/usr/bin/env bash
# The review engine over real commits of a public repository (issue 20): offline rules and the AI reviewer against a
# fake OpenAI-compatible provider on loopback (bench/RealCommits.java). The repository is only read, never copied
# into this project.
#
#   bash bench/real-commits.sh GIT_DIR [COUNT] [ARG=VALUE…]   e.g. a clone or bare mirror of github.com/psf/requests; COUNT 240
#
# Further arguments go to bench/RealCommits.java: show=1 prints every offline comment, ai=0 skips the AI path.
#
# Needs a JDK 17, git and Maven (for the classpath); builds nothing but the test classes it uses.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=${1:?usage: bench/real-commits.sh GIT_DIR [COUNT]}
COUNT=${2:-240}
shift $(( $# < 2 ? $# : 2 ))
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
[ -f target/test-classes/dev/aireview/runner/testsupport/FakeOpenAi.class ] || mvn -B -q -DskipTests test-compile
mvn -B -q dependency:build-classpath -Dmdep.outputFile="$WORK/cp.txt" >/dev/null
# a shared clone: the reviewed repository is not written to
git clone -q --bare --shared "$REPO" "$WORK/repo.git"
java -Xmx1g -cp "target/classes:target/test-classes:$(cat "$WORK/cp.txt")" bench/RealCommits.java \
  repo="$WORK/repo.git" count="$COUNT" out="${OUT:-target/real-commits.tsv}" "$@"
