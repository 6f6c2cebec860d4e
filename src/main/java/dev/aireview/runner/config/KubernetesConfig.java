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
 */
public record KubernetesConfig(String namespace, Duration pendingTimeout) {
    public static final Duration DEFAULT_PENDING_TIMEOUT = Duration.ofSeconds(300);
    public static final KubernetesConfig DEFAULT = new KubernetesConfig(null, DEFAULT_PENDING_TIMEOUT);

    public KubernetesConfig {
        namespace = namespace == null || namespace.isBlank() ? null : namespace.trim();
        pendingTimeout = pendingTimeout == null ? DEFAULT_PENDING_TIMEOUT : pendingTimeout;
    }
}
