#!/usr/bin/env bash
# The yardstick: one task done by hand with two plain `docker run` commands (a clone container, then the review
# container running the image's own entrypoint), with the executor's limits and hardening. Called by
# bench/Bench.java, one task per call; `xargs -P 4` runs it for the throughput figure.
# Inputs (env): BENCH_IMAGE BENCH_GIT_URL BENCH_BRANCH BENCH_HEAD BENCH_WS_BASE (BENCH_RAW_MARK optional, see below).
# Prints nothing on success.
set -euo pipefail
: "${BENCH_IMAGE:?}" "${BENCH_GIT_URL:?}" "${BENCH_BRANCH:?}" "${BENCH_HEAD:?}" "${BENCH_WS_BASE:?}"
ws=$(mktemp -d "$BENCH_WS_BASE/raw.XXXXXX")
chmod 0777 "$ws"
cleanup() { rm -rf "$ws" 2>/dev/null || true; }
trap cleanup EXIT
hardening=(--rm --label ai-review.managed=true --label ai-review.bench=raw --network host --user 10001:10001
  --read-only --tmpfs /tmp:rw,nosuid,nodev,size=256m --cap-drop ALL --security-opt no-new-privileges --init
  --memory 2g --memory-swap 2g --cpus 1 --pids-limit 512 -v "$ws:/workspace" -w /workspace -e HOME=/tmp)
docker run "${hardening[@]}" -e U="$BENCH_GIT_URL" -e B="$BENCH_BRANCH" -e H="$BENCH_HEAD" --entrypoint sh "$BENCH_IMAGE" -c '
  set -e; git init -q /workspace/repo; cd /workspace/repo; git remote add origin "$U"
  git fetch -q --no-tags --depth=50 origin "+refs/heads/$B:refs/remotes/origin/$B"
  git -c advice.detachedHead=false checkout -q --detach "$H"' >/dev/null
printf '{"id":"raw","repository":{"url":"%s"},"branch":"%s","headSha":"%s","files":[]}' \
  "$BENCH_GIT_URL" "$BENCH_BRANCH" "$BENCH_HEAD" > "$ws/task.json"
docker run "${hardening[@]}" "$BENCH_IMAGE" >/dev/null
grep -q '"status" : "completed"' "$ws/result.json" || { echo "raw review did not complete: $(cat "$ws/result.json")" >&2; exit 1; }
# The result is in hand here; the deletion of the workspace (the EXIT trap) follows. BENCH_RAW_MARK, if set, names a
# file that gets this moment (epoch seconds), so a caller can time the pair to its result as well as to its end.
[ -z "${BENCH_RAW_MARK:-}" ] || date +%s.%N > "$BENCH_RAW_MARK"
