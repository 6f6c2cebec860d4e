#!/bin/sh
# Host paths the links point to: the runner must never write, chmod or read them (the test owns that directory).
set -u
HOST=/tmp/ai-review-hostile-targets
W=/workspace
# Before the task: links where the runner writes task.json (the old fixed temp name and the final name).
ln -s "$HOST/target" "$W/task.json.tmp" 2>/dev/null
ln -s "$HOST/target" "$W/task.json" 2>/dev/null
echo "planted links before the task"
T=$W/task.json
n=0
while [ ! -f "$T" ] || [ -L "$T" ]; do sleep 0.05; done
mode=$(sed -n 's/.*"prompt":"\([^"]*\)".*/\1/p' "$T")
echo "hostile mode $mode"
ok() { printf '%s' "{\"status\":\"completed\",\"summary\":\"hostile $mode done, task file $(wc -c < "$T") bytes\"}" > $W/r.tmp && mv $W/r.tmp $W/result.json; }
case "$mode" in
  link-result)
    ln -s "$HOST/secret.json" $W/result.json
    ;;
  fifo-result)
    mkfifo $W/result.json
    ;;
  dir-result)
    mkdir $W/result.json
    ;;
  huge-result)
    { printf '{"status":"completed","summary":"'; head -c 20971520 /dev/zero | tr '\0' a; printf '"}'; } > $W/result.json
    ;;
  malformed)
    printf '{"status":"completed","summary":"cut off' > $W/result.json
    ;;
  fill-disk)
    i=0
    # paced at about 100 MiB/s: the test is about the watch killing it, not about outrunning a 500 ms watch
    while [ $i -lt 400 ]; do head -c 1048576 /dev/zero > $W/fill-$i || break; i=$((i+1)); sleep 0.01; done
    echo "wrote $i MiB without being stopped"
    sleep 100000
    ;;
  hold)
    # stays running until the test creates /workspace/release (or 5 minutes pass)
    while [ ! -e $W/release ] && [ $n -lt 6000 ]; do sleep 0.05; n=$((n+1)); done
    ok
    ;;
  *)
    ok
    ;;
esac
exit 0
