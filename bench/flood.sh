#!/usr/bin/env bash
# `bash bench/run.sh --flood [--seconds N]` (issue 17): 4 review containers of bench/flood-executor print one log
# shape each (empty lines, 1-byte lines, 16 KiB lines, no newline at all in invalid UTF-8) for N seconds (default
# 300) at a runner with the shipped JVM flags and RUNNER_MAX_CONCURRENT_JOBS=4. The runner's RSS (VmRSS) and heap
# (jstat: used survivor + eden + old) are sampled every second. Asserts: the runner is alive at the end, the 4 tasks
# completed with exactly one accepted result each, no container with the run's label and no workspace left.
# Called by run.sh with: JAR FLAGS ARENA WORK URL HEAD SECONDS
set -euo pipefail
JAR=$1 FLAGS=$2 ARENA=$3 WORK=$4 URL=$5 HEAD=$6 SECONDS_=$7
NAME=bench-flood
FIMAGE=ai-review-bench/flood-executor:latest
TOKEN=bench-flood-token
echo "[flood] building $FIMAGE (bench/flood-executor, FROM local/debian-git:bookworm)"
docker build -q --label ai-review.bench=image -t "$FIMAGE" "$(dirname "$0")/flood-executor" >/dev/null
SPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DEV_SERVER_TOKEN=$TOKEN java -Xmx256m -jar "$JAR" dev-server --port "$SPORT" >"$WORK/dev-server.log" 2>&1 &
SERVER=$!
RUNNER=
stop() {
  [ -n "$RUNNER" ] && kill "$RUNNER" 2>/dev/null && wait "$RUNNER" 2>/dev/null || true
  kill "$SERVER" 2>/dev/null || true
}
trap stop EXIT
SURL=http://127.0.0.1:$SPORT
for _ in $(seq 300); do curl -sf "$SURL/api/health" >/dev/null && break; sleep 0.2; done
api() { curl -sf -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@"; }
for shape in empty byte1 kib16 raw; do
  api -X POST "$SURL/api/admin/tasks" -d "{\"id\":\"flood-$shape\",\"repository\":\"$URL\",\"headSha\":\"$HEAD\",
    \"prompt\":\"flood:$shape:$SECONDS_\",\"timeoutSeconds\":$((SECONDS_ + 300))}" >/dev/null
done
mkdir -p "$WORK/flood-ws"
echo "[flood] runner flags: $FLAGS; 4 tasks x $SECONDS_ s"
# shellcheck disable=SC2086
env ${ARENA:+$ARENA} RUNNER_SERVER_URL="$SURL" RUNNER_TOKEN=$TOKEN RUNNER_NAME=$NAME RUNNER_MAX_CONCURRENT_JOBS=4 \
  DOCKER_POOL_SIZE=0 DOCKER_EXECUTOR_IMAGE="$FIMAGE" DOCKER_PULL_POLICY=never DOCKER_NETWORK_MODE=host \
  DOCKER_WORKSPACE_BASE="$WORK/flood-ws" DOCKER_TIMEOUT_SECONDS=$((SECONDS_ + 300)) LOG_LEVEL=WARN \
  java $FLAGS -jar "$JAR" run >"$WORK/flood-runner.log" 2>&1 &
RUNNER=$!
START=$(date +%s)
PEAK_RSS=0 PEAK_HEAP=0 SAMPLES=0 LOAD_MAX=0
done_count() { api "$SURL/api/admin/tasks" | python3 -c 'import json,sys; print(sum(1 for t in json.load(sys.stdin)["data"] if t["terminal"]))'; }
while :; do
  kill -0 "$RUNNER" 2>/dev/null || { echo "[flood] FAIL: the runner died (log: tail below)"; tail -20 "$WORK/flood-runner.log"; exit 1; }
  rss=$(awk '/^VmRSS:/{print $2}' /proc/"$RUNNER"/status)
  heap=$(jstat -gc "$RUNNER" 2>/dev/null | awk 'NR==2{printf "%d", $3+$4+$6+$8}') || heap=0
  heap=${heap:-0}
  [ "$rss" -gt "$PEAK_RSS" ] && PEAK_RSS=$rss
  [ "$heap" -gt "$PEAK_HEAP" ] && PEAK_HEAP=$heap
  load=$(cut -d' ' -f1 /proc/loadavg); LOAD_MAX=$(python3 -c "print(max($LOAD_MAX,$load))")
  SAMPLES=$((SAMPLES + 1))
  echo "$(( $(date +%s) - START )) $rss $heap $load" >>"$WORK/flood-samples.txt"
  if [ $((SAMPLES % 30)) -eq 0 ]; then echo "[flood] t=$(( $(date +%s) - START ))s RSS ${rss} KiB heap ${heap} KiB load $load"; fi
  [ "$(done_count)" = 4 ] && break
  [ $(( $(date +%s) - START )) -gt $((SECONDS_ + 600)) ] && { echo "[flood] FAIL: tasks not done in time"; exit 1; }
  sleep 1
done
ELAPSED=$(( $(date +%s) - START ))
# one task at a time: the list view carries no log lines (its logLines counter would read 0)
{ echo '{"data":['; sep=
  for shape in empty byte1 kib16 raw; do printf '%s' "$sep"; api "$SURL/api/admin/tasks/flood-$shape" \
    | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["data"]))'; sep=,; done
  echo ']}'; } >"$WORK/flood-tasks.json"
kill "$RUNNER"; wait "$RUNNER" 2>/dev/null || true; RUNNER=
FAIL=0
python3 - "$WORK/flood-tasks.json" <<'PY' || FAIL=1
import json, sys
ts = json.load(open(sys.argv[1]))["data"]
bad = 0
for t in ts:
    c = t["counters"]
    ok = t["resultStatus"] == "completed" and c["resultCalls"] == 1 and len(t["attempts"]) == 1
    print("[flood] %s: %s, resultCalls %d, attempts %d, log lines kept %d, dropped %d" % (
        t["id"], t["resultStatus"], c["resultCalls"], len(t["attempts"]), c["logLines"], c["droppedLogLines"]))
    bad += not ok
sys.exit(1 if bad or len(ts) != 4 else 0)
PY
LEFT_C=$(docker ps -aq --filter "label=ai-review.runner=$NAME" | wc -l)
# the runner directory keeps its repository cache (cache/, reused by the next start) by design; anything else
# there (a task workspace, a cleaning mark, a claim journal entry) is left behind
LEFT=$(find "$WORK/flood-ws/$NAME" -mindepth 1 -maxdepth 1 ! -name cache 2>/dev/null || true)
LEFT_W=$(printf '%s' "$LEFT" | grep -c . || true)
echo "[flood] containers left: $LEFT_C, runner-directory entries left besides cache/: $LEFT_W ${LEFT:+($LEFT)}"
[ "$LEFT_C" = 0 ] && [ "$LEFT_W" = 0 ] || FAIL=1
echo "[flood] $SAMPLES samples over ${ELAPSED}s: peak RSS $((PEAK_RSS / 1024)) MiB ($PEAK_RSS KiB), peak heap used" \
  "$((PEAK_HEAP / 1024)) MiB ($PEAK_HEAP KiB), max 1-min load $LOAD_MAX; samples: $WORK/flood-samples.txt"
[ "$FAIL" = 0 ] && echo "[flood] PASS" || { echo "[flood] FAIL"; exit 1; }
