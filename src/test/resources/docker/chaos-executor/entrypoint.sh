#!/bin/sh
# Chaos suite executor: waits for the task file, then behaves as the task's "prompt" says.
#   (none)   quick review: one line naming the container, a completed result
#   slow     the same after 4 s (long enough to kill its runner mid-review)
#   leak     prints the task's secrets (AI key, clone token) on stdout and stderr, then a completed result
#   hang     sleeps until stopped (the task's timeout ends it)
#   stubborn ignores SIGTERM and never ends (only SIGKILL stops it)
#   oom      allocates memory until the memory limit kills it
set -u
T=/workspace/task.json
while [ ! -f "$T" ]; do sleep 0.05; done
cid=$(sed -n 's#.*/containers/\([0-9a-f]\{64\}\)/.*#\1#p' /proc/self/mountinfo | head -n 1)
echo "review running in container $cid"
mode=$(sed -n 's/.*"prompt":"\([^"]*\)".*/\1/p' "$T")
result() { printf '%s' "$1" > /workspace/result.json.tmp && mv /workspace/result.json.tmp /workspace/result.json; }
done_review() {
  head=$(git -C /workspace/repo rev-parse HEAD 2>/dev/null || echo none)
  result "{\"status\":\"completed\",\"summary\":\"head=$head container=$cid\",\"comments\":[{\"path\":\"a.txt\",\"line\":1,\"severity\":\"info\",\"message\":\"chaos\"}]}"
}
case "$mode" in
  slow)
    echo "slow review started"
    sleep 4
    done_review
    ;;
  leak)
    key=$(sed -n 's/.*"apiKey":"\([^"]*\)".*/\1/p' "$T")
    token=$(sed -n 's/.*"cloneToken":"\([^"]*\)".*/\1/p' "$T")
    echo "the AI key is $key and the clone token is $token"
    echo "on stderr: key=$key token=$token" >&2
    done_review
    ;;
  hang)
    echo "sleeping until stopped"
    exec sleep 100000
    ;;
  stubborn)
    trap '' TERM
    echo "ignoring SIGTERM"
    while :; do sleep 1; done
    ;;
  oom)
    echo "allocating memory"
    x=$(head -c 1000m /dev/zero | tr '\0' a)
    echo "survived with ${#x} bytes"
    ;;
  *)
    done_review
    ;;
esac
