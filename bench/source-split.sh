#!/usr/bin/env bash
# The source step of a cached review split into its parts on the host (BENCHMARKS.md, generated repository):
# the runner's depth-50 fetch into a new bare entry, the same fetch again with nothing new, a checkout of master
# borrowing the entry's objects through objects/info/alternates (as the review container's checkout does), its
# deletion; then the changed-files checkout (CachedCheckout.SCRIPT's commands for an image labelled
# ai-review.checkout=changed: head's tree in the index, every entry skip-worktree, the files changed since BASE
# written; BASE defaults to master~1) and its deletion. Usage: flock /tmp/ai-review-heavy.lock bash bench/source-split.sh "$(python3 bench/gen-repo.py)"
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
B=$(git -C "$W/c.git" rev-parse "${2:-master~1}")
sparse() {
  git -C "$W/s" diff --name-only -z --no-renames --diff-filter=d "$B" "$H" -- > "$W/s/.git/ai-review-changed"
  git -C "$W/s" update-ref --no-deref HEAD "$H" && git -C "$W/s" read-tree "$H"
  git -C "$W/s" ls-files -z > "$W/s/.git/ai-review-all"
  git -C "$W/s" update-index -z --skip-worktree --stdin < "$W/s/.git/ai-review-all"
  git -C "$W/s" update-index -z --no-skip-worktree --stdin < "$W/s/.git/ai-review-changed"
  git -C "$W/s" checkout-index -z --stdin < "$W/s/.git/ai-review-changed"
  rm -f "$W/s/.git/ai-review-all" "$W/s/.git/ai-review-changed"
}
git init -q "$W/s"; echo "$W/c.git/objects" > "$W/s/.git/objects/info/alternates"; cp "$W/c.git/shallow" "$W/s/.git/shallow"
echo -n "changed-files checkout of master (base $(git -C "$W/c.git" rev-parse --short "$B")) from the entry: "; t sparse
echo "changed-files checkout: $(git -C "$W/s" ls-files -t | grep -c '^H') file(s) written, $(git -C "$W/s" ls-files -t | grep -c '^S') skip-worktree; $(du -sh "$W/s" | cut -f1) (index $(du -sh "$W/s/.git/index" | cut -f1))"
echo -n "deleting it: "; t rm -rf "$W/s"
