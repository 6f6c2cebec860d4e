#!/usr/bin/env bash
# Pool benchmark: claim -> "review running" for the Docker executor (cold and pooled) vs a plain `docker run`.
# Not part of `mvn verify`. Needs Docker, git, and the packaged jar.
# Usage (from the project root): bash bench/run.sh [rounds]     (default 7)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-7}"
IMAGE=ai-review-test/executor:test
JAR=target/ai-review-runner.jar
[ -f "$JAR" ] || mvn -B -q -o package -DskipTests
docker build -q -t "$IMAGE" src/test/resources/docker/executor-test >/dev/null

WORK=$(mktemp -d /tmp/ai-review-bench.XXXXXX)
cleanup() { [ -n "${DAEMON:-}" ] && kill "$DAEMON" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid
git init -q -b feature/bench "$WORK/src"
for i in 1 2 3; do echo "line $i" >> "$WORK/src/file.txt"; git -C "$WORK/src" add file.txt; git -C "$WORK/src" commit -q -m "commit $i"; done
HEAD_SHA=$(git -C "$WORK/src" rev-parse HEAD)
git clone -q --bare "$WORK/src" "$WORK/repos/bench.git"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
git daemon --reuseaddr --listen=127.0.0.1 --port="$PORT" --base-path="$WORK/repos" --export-all "$WORK/repos" 2>"$WORK/daemon.log" &
DAEMON=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break; sleep 0.1; done

LOG_LEVEL=WARN java -cp "$JAR" bench/PoolBenchmark.java \
  "${DOCKER_HOST:-unix:///var/run/docker.sock}" "$IMAGE" "git://127.0.0.1:$PORT/bench.git" feature/bench "$HEAD_SHA" "$ROUNDS" "$WORK/ws"
