package dev.aireview.runner.config;

import java.time.Duration;

/**
 * Settings of the Kubernetes executor (RUNNER_EXECUTOR=kubernetes, docs/kubernetes.md). Limits, image, user, result
 * cap and time budget come from the shared {@link DockerConfig} options, so a task gets the same bounds in both modes.
 *
 * @param namespace      KUBERNETES_NAMESPACE: where task pods and Secrets are made; null = the client's own (in a
 *                       pod: the runner's namespace; else the kubeconfig context's, else {@code default})
 * @param pendingTimeout KUBERNETES_PENDING_TIMEOUT_SECONDS: how long a task pod may stay unscheduled or keep failing
 *                       to pull its image before the task fails
 * @param apiQps         KUBERNETES_API_QPS: client-side rate limit of the runner's API requests (per second)
 * @param apiBurst       KUBERNETES_API_BURST: requests that may go at once above the rate after a quiet spell
 */
public record KubernetesConfig(String namespace, Duration pendingTimeout, int apiQps, int apiBurst) {
    public static final Duration DEFAULT_PENDING_TIMEOUT = Duration.ofSeconds(300);
    public static final int DEFAULT_API_QPS = 5;
    public static final int DEFAULT_API_BURST = 10;
    public static final KubernetesConfig DEFAULT = new KubernetesConfig(null, DEFAULT_PENDING_TIMEOUT);

    public KubernetesConfig {
        namespace = namespace == null || namespace.isBlank() ? null : namespace.trim();
        pendingTimeout = pendingTimeout == null ? DEFAULT_PENDING_TIMEOUT : pendingTimeout;
        apiQps = apiQps <= 0 ? DEFAULT_API_QPS : apiQps;
        apiBurst = apiBurst <= 0 ? DEFAULT_API_BURST : apiBurst;
    }

    /** With the default API rate limit. */
    public KubernetesConfig(String namespace, Duration pendingTimeout) {
        this(namespace, pendingTimeout, DEFAULT_API_QPS, DEFAULT_API_BURST);
    }
}
