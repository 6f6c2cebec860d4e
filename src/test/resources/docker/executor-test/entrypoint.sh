#!/bin/sh
# Contract step 1: wait for the task file; then behave as the task's "prompt" says (a test switch).
set -u
T=/workspace/task.json
while [ ! -f "$T" ]; do sleep 0.05; done
cid=$(sed -n 's#.*/containers/\([0-9a-f]\{64\}\)/.*#\1#p' /proc/self/mountinfo | head -n 1)
echo "review running in container $cid"
mode=$(sed -n 's/.*"prompt":"\([^"]*\)".*/\1/p' "$T")
# a result that cannot be written says why on stdout (exit 4), so a failing test shows it in the task's lines
result() {
  if ! err=$({ printf '%s' "$1" > /workspace/result.json.tmp && mv /workspace/result.json.tmp /workspace/result.json; } 2>&1); then
    echo "cannot write the result: $err"
    exit 4
  fi
}
review() {
  head=$(git -C /workspace/repo rev-parse HEAD 2>/dev/null || echo none)
  depth=$(git -C /workspace/repo rev-list --count HEAD 2>/dev/null || echo 0)
  base=$(sed -n 's/.*"baseSha":"\([0-9a-f]*\)".*/\1/p' "$T")
  hasbase=no
  [ -n "$base" ] && git -C /workspace/repo cat-file -e "$base^{commit}" 2>/dev/null && hasbase=yes
  files=$(ls /workspace/repo 2>/dev/null | wc -l)
  echo "reviewed $files files at $head"
  result "{\"status\":\"completed\",\"summary\":\"head=$head depth=$depth base=$hasbase container=$cid\",\"comments\":[{\"path\":\"a.txt\",\"line\":1,\"severity\":\"warning\",\"message\":\"looks odd\"}],\"stats\":{\"files_reviewed\":$files}}"
}
case "$mode" in
  sleep)
    echo "sleeping until stopped"
    exec sleep 100000
    ;;
  oom)
    echo "allocating memory"
    x=$(head -c 1000m /dev/zero | tr '\0' a)
    echo "survived with ${#x} bytes"
    ;;
  flood)
    # 524288 lines of 99 characters (50 MiB with newlines), then one 100000-byte line, then a result
    yes "0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 abcdefghijklmnopqrstuv" | head -n 524288
    head -c 100000 /dev/zero | tr '\0' x
    echo
    result '{"status":"completed","summary":"flooded"}'
    ;;
  fail)
    echo "something went wrong" >&2
    echo "last words" >&2
    exit 3
    ;;
  noresult)
    exit 0
    ;;
  unseen)
    # the executor contract's "this container does not see the checkout" (exit 5)
    echo "3 tracked file(s) are not visible in /workspace/repo" >&2
    exit 5
    ;;
  forkbomb)
    # Bounded work: every bomb process starts two more and then waits (exec sleep: no further fork, no CPU), so the
    # count climbs to the pids limit within a few generations and stays there; forks beyond it fail. The watcher
    # uses shell builtins only (it needs no fork of its own) and stops at the limit, once the cgroup has refused a
    # fork (pids.events "max" above 0: the bomb ran into the limit; a bomb process whose fork fails exits, so the
    # count may never be seen at the limit itself), or after 45 s of uptime, with the highest count it saw (the
    # cgroup's own pids.peak where the kernel keeps one). Without a pids limit no bomb is started (the test then
    # fails on pids.max).
    d=/sys/fs/cgroup/pids
    [ -r "$d/pids.max" ] || d=/sys/fs/cgroup
    read max < "$d/pids.max"
    peak=0
    if [ "$max" != "max" ]; then
      f() { f & f & exec sleep 300; }
      ( f ) &
      read start _ < /proc/uptime
      start=${start%.*}
      while :; do
        read cur < "$d/pids.current"
        [ "$cur" -gt "$peak" ] && peak=$cur
        [ "$cur" -ge "$max" ] && break
        refused=0
        [ -r "$d/pids.events" ] && read _ refused < "$d/pids.events"
        [ "$refused" -gt 0 ] && break
        read now _ < /proc/uptime
        [ $(( ${now%.*} - start )) -ge 45 ] && break
      done
      if [ -r "$d/pids.peak" ]; then
        read kpeak < "$d/pids.peak"
        [ "$kpeak" -gt "$peak" ] && peak=$kpeak
      fi
    fi
    echo "fork bomb reached pids.current=$peak of pids.max=$max"
    printf '{"status":"completed","summary":"pids.current=%s pids.max=%s"}' "$peak" "$max" > /workspace/result.json
    exit 0
    ;;
  slow)
    # a review that takes a few seconds (long enough to be interrupted), then the default result
    echo "slow review started"
    sleep 5
    review
    ;;
  secret*)
    # prints the task's AI key, and each further word of the prompt (values the test wants leaked), then a result
    key=$(sed -n 's/.*"apiKey":"\([^"]*\)".*/\1/p' "$T")
    echo "the AI key is $key"
    echo "on stderr: key=$key" >&2
    for w in ${mode#secret}; do echo "leaking $w"; done
    result "{\"status\":\"completed\",\"summary\":\"done with key $key\"}"
    ;;
  tree)
    # the worktree's files (not .git), NUL-separated, in hex on one line: any name survives the log
    echo "worktree-hex: $(cd /workspace/repo && find . -path ./.git -prune -o \( -type f -o -type l \) -print0 | od -An -v -tx1 | tr -d ' \n')"
    review
    ;;
  *)
    review
    ;;
esac
