#!/bin/sh
set -u
T=/workspace/task.json
while [ ! -f "$T" ]; do sleep 0.05; done
key=$(sed -n 's/.*"apiKey":"\([^"]*\)".*/\1/p' "$T")
len=${#key}
# the key at every byte offset around the 16384-byte cut (and one line long enough to be cut twice)
o=$((16384 - len - 2))
while [ "$o" -le 16386 ]; do
  head -c "$o" /dev/zero | tr '\0' a
  printf '%s bb\n' "$key"
  o=$((o + 1))
done
# behind 2-byte characters, so the cut may fall inside a character just before the key
n=$((8192 - len / 2 - 2))
while [ "$n" -le 8194 ]; do
  i=0; while [ "$i" -lt "$n" ]; do printf 'é'; i=$((i + 1)); done
  printf '%s\n' "$key"
  n=$((n + 1))
done
# base64, the key at each alignment, on stdout and on stderr
for p in '' 'x' 'xx'; do
  printf 'Authorization: Basic %s\n' "$(printf '%s%s' "$p" "$key" | base64 -w0)"
  printf 'stderr %s\n' "$(printf '%s:%s' "$p" "$key" | base64 -w0)" >&2
done
printf '{"status":"completed","summary":"leaked the key %s","comments":[{"path":"a.txt","line":1,"severity":"warning","message":"key %s"}]}' \
  "$key" "$(printf '%s' "$key" | base64 -w0)" > /workspace/result.json.tmp && mv /workspace/result.json.tmp /workspace/result.json
