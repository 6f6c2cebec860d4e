package dev.aireview.runner.config;

import java.util.Locale;

/** RUNNER_EXECUTOR: where tasks run. */
public enum ExecutorKind {
    /** One hardened container per task on a Docker engine (docs/docker-executor.md). */
    DOCKER,
    /** One pod per task on a Kubernetes cluster (docs/kubernetes.md). */
    KUBERNETES;

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code docker} or {@code kubernetes} (case and surrounding blanks ignored). */
    public static ExecutorKind parse(String text) {
        String v = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        for (ExecutorKind k : values()) {
            if (k.wire().equals(v)) {
                return k;
            }
        }
        throw new IllegalArgumentException("use docker or kubernetes");
    }
}
