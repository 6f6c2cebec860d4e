#!/bin/sh
# Entry point of the flood executor (see Dockerfile beside it). Shapes:
#   empty   empty lines (yes '')            byte1   1-byte lines (yes x)
#   kib16   16 KiB lines                     raw     no newline at all, invalid UTF-8 (0xff bytes)
set -u
task=${AI_REVIEW_TASK_FILE:-/workspace/task.json}
result=${AI_REVIEW_RESULT_FILE:-/workspace/result.json}
while [ ! -f "$task" ]; do sleep 0.05; done
spec=$(grep -o '"prompt" *: *"flood:[a-z0-9]*:[0-9]*"' "$task" | sed 's/.*"flood:\(.*\)"/\1/')
shape=${spec%%:*}
secs=${spec#*:}
case "$shape" in
  empty) timeout "$secs" yes '' ;;
  byte1) timeout "$secs" yes x ;;
  kib16) timeout "$secs" yes "$(head -c 16383 /dev/zero | tr '\0' 'a')" ;;
  raw) timeout "$secs" tr '\0' '\377' </dev/zero ;;
  *) echo "unknown flood spec '$spec'" >&2; exit 1 ;;
esac
printf '{"status":"completed","summary":"flooded %s for %s s","comments":[],"stats":{"filesReviewed":0}}\n' \
  "$shape" "$secs" >"$result.tmp" && mv "$result.tmp" "$result"
