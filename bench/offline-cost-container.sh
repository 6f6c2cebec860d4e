#!/usr/bin/env bash
# Issue 20's offline cost as the executor runs it: one offline review of a generated 40 MiB change (the lines of
# bench/OfflineCost.java: 372 added files of 2 000 lines, every line a finding or a look-alike) in the executor image,
# under the runner's limits (2g memory, 1 CPU, network none, read-only, user 10001), from task.json to result.json.
# Prints the CPU of everything the container ran (the JVM with its JIT and GC threads, and the git commands it
# spawns), read with the shell's `times` after the entrypoint's own command line has exited.
#
#   bash bench/offline-cost-container.sh [IMAGE] [RUNS]     (default ai-review-executor:latest, 3 runs)
#
# git diff output beyond 32 MiB is cut (GitRepo.MAX_OUTPUT_BYTES): the review reads 292 of the 372 files and says so
# in its summary. The repository is generated under target/bench-offline-cost (kept between runs).
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE=${1:-ai-review-executor:latest}
RUNS=${2:-3}
DIR=$PWD/target/bench-offline-cost
REPO=$DIR/repo
if [ ! -f "$REPO/.generated" ]; then
  rm -rf "$REPO" && mkdir -p "$REPO/src"
  git -C "$REPO" init -q -b main
  git -C "$REPO" -c user.email=bench@localhost -c user.name=bench commit -q --allow-empty -m base
  # the lines of bench/OfflineCost.java (its default variant), each followed by its index in the file
  awk 'BEGIN {
    k[0] = "    const total = items.reduce((s, i) => s + i.price * i.qty, 0); // sum of the cart"
    k[1] = "    password_hint = compute_hint(user, \"a3f9c0d1e2b4a5968778\")"
    k[2] = "        if (x != null && x.getValue().length() > 200) { return process(x); }"
    k[3] = "  token := os.Getenv(\"API_TOKEN\")"
    k[4] = "    # TODO: handle the empty case"
    k[5] = "    print(f\"{name}: {value}\")"
    k[6] = "    url = \"https://example.org/a/b?c=d\""
    split("js py java go", ext, " ")
    for (f = 0; f < 372; f++) {
      out = sprintf("'"$REPO"'/src/f%d.%s", f, ext[f % 4 + 1])
      for (i = 0; i < 2000; i++) print k[(i + f) % 7] " " i > out
      close(out)
    }
  }'
  git -C "$REPO" add -A
  git -C "$REPO" -c user.email=bench@localhost -c user.name=bench commit -q -m "372 files, 40 MiB"
  touch "$REPO/.generated"
fi
HEAD=$(git -C "$REPO" rev-parse HEAD)
BASE=$(git -C "$REPO" rev-parse HEAD~1)
echo "diff: $(git -C "$REPO" diff "$BASE" "$HEAD" | wc -c) bytes; image $IMAGE"
ENTRYPOINT=$(docker image inspect -f '{{range .Config.Entrypoint}}{{.}} {{end}}' "$IMAGE")
for run in $(seq 1 "$RUNS"); do
  WS=$DIR/ws
  rm -rf "$WS" && mkdir -p "$WS" && cp -a "$REPO" "$WS/repo"
  printf '{"id":"bench-offline-cost","repository":{"url":"https://example.invalid/bench.git","fullName":"bench/offline-cost"},"branch":"main","headSha":"%s","baseSha":"%s"}\n' \
    "$HEAD" "$BASE" > "$WS/task.json"
  chown -R 10001:10001 "$WS"
  # `times` prints the shell's own CPU, then its children's (the entrypoint's java and the git it spawned)
  CPU=$(docker run --rm --memory 2g --memory-swap 2g --cpus 1 --network none --read-only --tmpfs /tmp --user 10001:10001 \
      --cap-drop ALL --security-opt no-new-privileges -v "$WS:/workspace" -e AI_REVIEW_WARM_UP=false --entrypoint sh "$IMAGE" \
      -c "$ENTRYPOINT >/tmp/out 2>&1 || { tail -5 /tmp/out >&2; exit 1; }; times" | tail -1)
  user=$(echo "$CPU" | awk '{print $1}' | sed 's/^\([0-9]*\)m\([0-9.]*\)s$/\1 \2/' | awk '{print $1 * 60 + $2}')
  sys=$(echo "$CPU" | awk '{print $2}' | sed 's/^\([0-9]*\)m\([0-9.]*\)s$/\1 \2/' | awk '{print $1 * 60 + $2}')
  status=$(sed -n 's/.*"status" *: *"\([a-z_]*\)".*/\1/p' "$WS/result.json" | head -1)
  echo "run $run (load $(cut -d' ' -f1 /proc/loadavg)): $status, CPU ${user} s user + ${sys} s system = $(echo "$user $sys" | awk '{print $1 + $2}') s"
  rm -rf "$WS"
done
