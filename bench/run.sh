#!/usr/bin/env bash
# The benchmark of issue 11, every figure in one run (bench/Bench.java does the timing): cold and pooled
# claim -> result, throughput at 4 slots, runner RSS idle and busy, executor image size; each against the same
# work done with plain `docker run` commands (bench/raw-pair.sh) in the same run.
#
#   bash bench/run.sh            full run (~5-10 min on 2 cores); writes the table into BENCHMARKS.md
#   bash bench/run.sh --quick    one round of each, 4 tasks (about a minute with a cached image build); shows the
#                                harness works, asserts nothing about speed; writes target/bench-quick.md
#   bash bench/run.sh --rounds N rounds for the latency figures (default 7)
#   bash bench/run.sh --throughput  only the 16-task batches at 4 slots against xargs -P 4, with the CPU each cost
#                                (machine, runner JVM, dockerd, containerd): the profile behind the throughput figure;
#                                prints, does not touch BENCHMARKS.md (--rounds N batches, default 3)
#   bash bench/run.sh --pooled   only pooled tasks, each split at its phase changes (ms since the claim, as the runner
#                                stamped them); prints (--rounds N tasks, default 7)
#   bash bench/run.sh --pickup   2 slots, fast-failing tasks (a missing repository) arriving every 0.4-0.9 s: enqueue ->
#                                claim, and a failing task's claim -> result against a raw `docker run` of the same
#                                failing clone; prints (--rounds N: 4N tasks, default 7)
#                                BENCH_RUNNER_FLAGS="..." adds JVM flags to the runner (e.g. a flight recording)
#   bash bench/run.sh --real-repo DIR  a real repository (a bare or non-bare git directory, e.g. a mirror of git/git)
#                                served by git daemon: the runner's first review, a repeat review of another commit
#                                and of the same commit (repository cache) between two raw clone+review pairs of the
#                                same run (bench/RealRepo.java); prints, does not touch BENCHMARKS.md.
#                                BENCH_REAL_BRANCH (default master) names the branch reviewed
#   bash bench/run.sh --flood [--seconds N]  issue 17's log flood (bench/flood.sh): 4 containers of bench/flood-executor
#                                print empty, 1-byte, 16 KiB and newline-less invalid UTF-8 output for N s (default 300)
#                                at a runner with the shipped flags; peak RSS/heap, exactly one result each, nothing
#                                left behind; prints, does not touch BENCHMARKS.md
#   bash bench/run.sh --classlist  rewrite src/main/cds/runner.classlist (the classes the runner loads, from which
#                                Dockerfile.runner dumps its class-data-sharing archive) and stop
#
# Needs Docker (BuildKit), git, python3 and a JDK 17; everything stays on 127.0.0.1 (git daemon, dev server,
# --network host containers). The runner's JVM flags are read from Dockerfile.runner's ENTRYPOINT, so the figures
# are those of the shipped settings.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
QUICK=false
CLASSLIST=false
ONLY=
ROUNDS_SET=
ROUNDS=7
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=true; ROUNDS=1 ;;
    --rounds) ROUNDS="$2"; ROUNDS_SET="$2"; shift ;;
    --classlist) CLASSLIST=true ;;
    --throughput) ONLY=throughput; ROUNDS=${ROUNDS_SET:-3} ;;
    --pooled) ONLY=pooled; ROUNDS=${ROUNDS_SET:-7} ;;
    --real-repo) ONLY=real; REAL_REPO=$(cd "$2" && pwd); shift ;;
    --pickup) ONLY=pickup; ROUNDS=${ROUNDS_SET:-7} ;;
    --flood) ONLY=flood ;;
    --seconds) FLOOD_SECONDS="$2"; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
JAR=$ROOT/target/ai-review-runner.jar
[ -f "$JAR" ] || mvn -B -q -o package -DskipTests
IMAGE=ai-review-bench/executor:latest
WORK=$(mktemp -d /tmp/ai-review-bench.XXXXXX)
DAEMON=
cleanup() {
  [ -n "$DAEMON" ] && kill "$DAEMON" 2>/dev/null || true
  docker ps -aq --filter label=ai-review.bench=raw | xargs -r docker rm -f >/dev/null 2>&1 || true
  for r in bench-cold bench-pool bench-busy bench-plain bench-cds bench-pickup bench-flood; do
    docker ps -aq --filter "label=ai-review.runner=$r" | xargs -r docker rm -f >/dev/null 2>&1 || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "[bench] building the executor image $IMAGE (Dockerfile.executor, prebuilt jar)"
mkdir -p "$WORK/ctx/target"
cp Dockerfile.executor "$WORK/ctx/" && cp "$JAR" "$WORK/ctx/target/"
DOCKER_BUILDKIT=1 docker build -q -f "$WORK/ctx/Dockerfile.executor" --build-arg JAR_FROM=prebuilt \
  --label ai-review.bench=image -t "$IMAGE" "$WORK/ctx" >/dev/null

# A tiny repository (three commits of one file with planted findings) served by git daemon on 127.0.0.1.
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid
git init -q -b feature/bench "$WORK/src"
for i in 1 2 3; do
  printf 'export function f%s(x) {\n  console.log(x); // TODO %s\n  return x;\n}\n' "$i" "$i" >> "$WORK/src/app.js"
  git -C "$WORK/src" add app.js && git -C "$WORK/src" commit -q -m "commit $i"
done
HEAD_SHA=$(git -C "$WORK/src" rev-parse HEAD)
git clone -q --bare "$WORK/src" "$WORK/repos/bench.git"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
git daemon --reuseaddr --listen=127.0.0.1 --port="$PORT" --base-path="$WORK/repos" --export-all "$WORK/repos" 2>"$WORK/daemon.log" &
DAEMON=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break; sleep 0.1; done

if [ "$ONLY" = real ]; then
  RB=${BENCH_REAL_BRANCH:-master}
  H1=$(git -C "$REAL_REPO" rev-parse "$RB"); B1=$(git -C "$REAL_REPO" rev-parse "$RB~1")
  H2=$(git -C "$REAL_REPO" rev-parse "$RB~3"); B2=$(git -C "$REAL_REPO" rev-parse "$RB~4")
  RPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  git daemon --reuseaddr --listen=127.0.0.1 --port="$RPORT" --base-path="$(dirname "$REAL_REPO")" --export-all \
    "$(dirname "$REAL_REPO")" 2>"$WORK/real-daemon.log" &
  RDAEMON=$!
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$RPORT") 2>/dev/null && break; sleep 0.1; done
  mkdir -p "$WORK/ws" && chmod 0755 "$WORK/ws"
  set +e
  LOG_LEVEL=WARN java -cp "$JAR" bench/RealRepo.java image="$IMAGE" url="git://127.0.0.1:$RPORT/$(basename "$REAL_REPO")" \
    branch="$RB" head="$H1" base="$B1" head2="$H2" base2="$B2" ws="$WORK/ws" rawPair="$ROOT/bench/raw-pair.sh"
  rc=$?
  kill "$RDAEMON" 2>/dev/null || true
  docker ps -aq --filter "label=ai-review.runner=bench-real" | xargs -r docker rm -f >/dev/null 2>&1 || true
  exit $rc
fi

if $CLASSLIST; then
  LOG_LEVEL=WARN java -cp "$JAR" bench/Bench.java jar="$JAR" ws="$WORK/ws" image="$IMAGE" url="git://127.0.0.1:$PORT/bench.git" \
    branch=feature/bench head="$HEAD_SHA" classlist="$ROOT/src/main/cds/runner.classlist"
  exit 0
fi

# The shipped runner flags: Dockerfile.runner's ENTRYPOINT between "java" and "-jar", its ENV MALLOC_ARENA_MAX, and
# its class-data-sharing archive, dumped here the same way against this jar.
FLAGS=$(python3 - <<'EOF'
import json, re
text = open("Dockerfile.runner").read().replace("\\\n", " ")
entry = json.loads(re.search(r'^ENTRYPOINT\s+(\[.*\])', text, re.M).group(1))
print(" ".join(entry[1:entry.index("-jar")]))
EOF
)
ARENA=$(grep -o 'MALLOC_ARENA_MAX=[0-9]*' Dockerfile.runner | head -1 || true)
ARCHIVE=$(grep -o 'SharedArchiveFile=[^ "]*' <<<"$FLAGS" | cut -d= -f2 || true)
if [ -n "$ARCHIVE" ]; then
  java -Xshare:dump -XX:+UseSerialGC -XX:SharedClassListFile="$ROOT/src/main/cds/runner.classlist" \
    -XX:SharedArchiveFile="$WORK/runner.jsa" -cp "$JAR" >"$WORK/cds-dump.log" 2>&1
  FLAGS=${FLAGS//$ARCHIVE/$WORK/runner.jsa}
fi
echo "[bench] runner flags as shipped: $FLAGS ${ARENA:+(env $ARENA)}"

if [ "$ONLY" = flood ]; then
  echo "[bench] machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) at the start"
  bash bench/flood.sh "$JAR" "$FLAGS" "$ARENA" "$WORK" "git://127.0.0.1:$PORT/bench.git" "$HEAD_SHA" "${FLOOD_SECONDS:-300}"
  exit $?
fi

if [ -n "$ONLY" ]; then
  LOG_LEVEL=WARN java -cp "$JAR" bench/Bench.java jar="$JAR" ws="$WORK/ws" image="$IMAGE" url="git://127.0.0.1:$PORT/bench.git" \
    branch=feature/bench head="$HEAD_SHA" rawPair="$ROOT/bench/raw-pair.sh" rounds="$ROUNDS" only="$ONLY" \
    flags="$FLAGS" flagsEnv="$ARENA"
  exit 0
fi

if $QUICK; then OUT=$ROOT/target/bench-quick.md; else OUT=$WORK/table.md; fi
mkdir -p "$(dirname "$OUT")"
MACHINE="$(uname -sr), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB"
ENGINE=$(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')
JAVA=$(java -version 2>&1 | head -1)
LOG_LEVEL=WARN java -cp "$JAR" bench/Bench.java jar="$JAR" ws="$WORK/ws" image="$IMAGE" url="git://127.0.0.1:$PORT/bench.git" \
  branch=feature/bench head="$HEAD_SHA" rawPair="$ROOT/bench/raw-pair.sh" quick="$QUICK" rounds="$ROUNDS" \
  flags="$FLAGS" flagsEnv="$ARENA" out="$OUT" machine="$MACHINE" engine="$ENGINE" java="$JAVA" \
  load="$(cut -d' ' -f1-3 /proc/loadavg)"

if ! $QUICK; then
  # Replace the generated part of BENCHMARKS.md (between the markers), keep the hand-written notes.
  python3 - "$OUT" "$ROUNDS" <<'EOF'
import sys, re
table = open(sys.argv[1]).read()
cmd = "bash bench/run.sh" + ("" if sys.argv[2] == "7" else " --rounds " + sys.argv[2])
block = "<!-- bench:begin (written by bench/run.sh) -->\nReproduce: `" + cmd + "`\n\n" + table + "<!-- bench:end -->"
md = open("BENCHMARKS.md").read()
md = re.sub(r"<!-- bench:begin.*?<!-- bench:end -->", lambda m: block, md, flags=re.S)
open("BENCHMARKS.md", "w").write(md)
EOF
  echo "[bench] BENCHMARKS.md updated"
fi
