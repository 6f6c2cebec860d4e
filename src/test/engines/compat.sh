#!/usr/bin/env bash
# Real-engine compatibility run of the Docker executor (issue 17; docs/operations.md "Engines"): EngineCompatibilityTest
# against
#   - Podman's Docker API (Debian's podman 4.3, rootful): AI_REVIEW_PODMAN_HOST, default unix:///run/podman/podman.sock
#     (start it with: bash ../shared/tools/ensure-docker.sh --podman);
#   - Docker Engine 20.10 (API 1.41, the oldest supported): Debian bookworm's docker.io in a PRIVILEGED container of the
#     default engine, in its own network namespace (never run a second dockerd in the host's: it rewrites iptables and
#     deletes docker0), its API published on 127.0.0.1 only. Its images are copied in from the default engine.
# Usage (project root):  bash src/test/engines/compat.sh [podman|docker2010|all]     (default all)
# Everything it creates is labelled ai-review.managed=true and removed on exit. Heavy runs take the shared lock.
set -euo pipefail
cd "$(dirname "$0")/../../.."
which="${1:-all}"
LOCK=/tmp/ai-review-heavy.lock
WS=${AI_REVIEW_COMPAT_WORKSPACES:-/tmp/ai-review-compat-ws}
mkdir -p "$WS"
export AI_REVIEW_COMPAT_WORKSPACES="$WS"
log() { echo "[compat] $*" >&2; }
inner=""
cleanup() {
  if [ -n "$inner" ]; then
    docker rm -f -v "$inner" >/dev/null 2>&1 || true
    log "removed $inner"
  fi
}
trap cleanup EXIT

if [ "$which" = podman ] || [ "$which" = all ]; then
  export AI_REVIEW_PODMAN_HOST=${AI_REVIEW_PODMAN_HOST:-unix:///run/podman/podman.sock}
  curl -sf --unix-socket "${AI_REVIEW_PODMAN_HOST#unix://}" http://d/_ping >/dev/null \
    || { log "no Podman API at $AI_REVIEW_PODMAN_HOST (bash ../shared/tools/ensure-docker.sh --podman)"; exit 1; }
  log "Podman $(curl -s --unix-socket "${AI_REVIEW_PODMAN_HOST#unix://}" http://d/version | sed -n 's/.*"Version":"\([^"]*\)".*"ApiVersion".*/\1/p') at $AI_REVIEW_PODMAN_HOST"
fi

if [ "$which" = docker2010 ] || [ "$which" = all ]; then
  image=ai-review-compat/docker2010:bookworm
  if ! docker image inspect "$image" >/dev/null 2>&1; then
    log "building $image (Debian bookworm's docker.io)"
    flock "$LOCK" docker build -q -t "$image" -f src/test/engines/docker2010.Dockerfile src/test/engines >/dev/null
  fi
  inner="ai-review-compat-docker2010-$$"
  docker run -d --privileged --name "$inner" --label ai-review.managed=true --label ai-review.test=docker2010 \
    -p 127.0.0.1::2375 -v "$WS:$WS" "$image" >/dev/null
  port=$(docker port "$inner" 2375/tcp | head -1 | sed 's/.*://')
  export AI_REVIEW_DOCKER_2010_HOST="tcp://127.0.0.1:$port"
  for _ in $(seq 1 60); do docker -H "$AI_REVIEW_DOCKER_2010_HOST" version >/dev/null 2>&1 && break; sleep 1; done
  docker -H "$AI_REVIEW_DOCKER_2010_HOST" version --format 'inner engine {{.Server.Version}} API {{.Server.APIVersion}}' >&2 \
    || { docker logs "$inner" 2>&1 | tail -20 >&2; exit 1; }
  for img in debian:bookworm-slim local/debian-git:bookworm; do
    docker save "$img" | docker -H "$AI_REVIEW_DOCKER_2010_HOST" load -q >/dev/null
  done
fi

flock "$LOCK" mvn -B -q -o test -Dtest=EngineCompatibilityTest -Dsurefire.failIfNoSpecifiedTests=false
grep -h "Tests run" target/surefire-reports/*EngineCompatibilityTest.txt >&2
