#!/usr/bin/env bash
# The source step of a cached review split into its parts on the host (BENCHMARKS.md, generated repository):
# the runner's depth-50 fetch into a new bare entry, the same fetch again with nothing new, a checkout of master
# borrowing the entry's objects through objects/info/alternates (as the review container's checkout does), its
# deletion. Usage: flock /tmp/ai-review-heavy.lock bash bench/source-split.sh "$(python3 bench/gen-repo.py)"
set -euo pipefail
REPO=$1; W=$(mktemp -d /tmp/genrepo-split.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
git daemon --reuseaddr --listen=127.0.0.1 --port="$PORT" --base-path="$(dirname "$REPO")" --export-all "$(dirname "$REPO")" 2>/dev/null &
D=$!; trap 'kill $D; rm -rf $W' EXIT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break; sleep 0.1; done
U=git://127.0.0.1:$PORT/$(basename "$REPO")
git init -q --bare "$W/c.git"; git -C "$W/c.git" remote add origin "$U"
t() { local s=$(date +%s.%N); "$@"; echo "$(echo "$(date +%s.%N) - $s" | bc) s"; }
echo -n "fetch --depth=50 into a new entry: "; t git -C "$W/c.git" fetch -q --no-tags --no-write-fetch-head --depth=50 origin +refs/heads/master:refs/heads/master
echo -n "the same fetch again (nothing new): "; t git -C "$W/c.git" fetch -q --no-tags --no-write-fetch-head --depth=50 origin +refs/heads/master:refs/heads/master
H=$(git -C "$W/c.git" rev-parse master)
git init -q "$W/w"; echo "$W/c.git/objects" > "$W/w/.git/objects/info/alternates"; cp "$W/c.git/shallow" "$W/w/.git/shallow"
echo -n "checkout of master from the entry (alternates): "; t git -C "$W/w" -c advice.detachedHead=false checkout -q --detach "$H"
echo "entry $(du -sh "$W/c.git" | cut -f1), checkout $(du -sh "$W/w" | cut -f1), $(find "$W/w" -type d -not -path '*/.git*' | wc -l) directories"
echo -n "deleting the checkout: "; t rm -rf "$W/w"
