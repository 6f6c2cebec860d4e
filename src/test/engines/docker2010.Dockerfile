# Docker Engine 20.10 (API 1.41, the oldest the runner supports) from Debian bookworm's docker.io, for
# src/test/engines/compat.sh. Runs PRIVILEGED in its own network namespace (never in the host's: an inner dockerd
# there rewrites the host's iptables and deletes docker0).
FROM debian:bookworm-slim
LABEL ai-review.managed="true" ai-review.test="docker2010"
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends docker.io iptables ca-certificates >/dev/null \
    && rm -rf /var/lib/apt/lists/*
VOLUME /var/lib/docker
ENTRYPOINT ["dockerd", "-H", "tcp://0.0.0.0:2375", "-H", "unix:///var/run/docker.sock", "--tls=false"]
