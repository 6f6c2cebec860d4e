package dev.aireview.runner.config;

import dev.aireview.runner.observability.LogFormat;

import java.net.URI;
import java.time.Duration;
import java.util.List;

/**
 * The runner's whole configuration. Immutable; built and validated by the config loader.
 *
 * @param serverUrl          RUNNER_SERVER_URL
 * @param token              RUNNER_TOKEN (secret: {@link #toString()} masks it)
 * @param name               RUNNER_NAME
 * @param runnerId           id sent as x-runner-id (defaults to the name)
 * @param tags               runner tags sent on register
 * @param maxConcurrentJobs  RUNNER_MAX_CONCURRENT_JOBS
 * @param pollInterval       RUNNER_POLL_INTERVAL_MS: wait after an empty poll answer
 * @param pollTimeout        RUNNER_POLL_TIMEOUT_MS: client timeout of the long poll
 * @param heartbeatInterval  RUNNER_HEARTBEAT_INTERVAL_MS
 * @param requestTimeout     RUNNER_REQUEST_TIMEOUT_MS: timeout of every other call
 * @param shutdownGrace      how long a graceful stop lets running tasks finish
 * @param logLimitBytes      per-task cap of shipped log bytes (head and tail kept)
 * @param docker             Docker executor settings
 * @param healthBind         address of the /health endpoint ({@code 127.0.0.1} by default; {@code 0.0.0.0} = all interfaces)
 * @param healthPort         RUNNER_HEALTH_PORT: port of the /health endpoint, 0 = no endpoint
 * @param logFormat          RUNNER_LOG_FORMAT: text or json log lines on stdout
 * @param executor           RUNNER_EXECUTOR: docker or kubernetes
 * @param kubernetes         Kubernetes executor settings (used when {@code executor} is kubernetes)
 */
public record RunnerConfig(
        URI serverUrl,
        String token,
        String name,
        String runnerId,
        List<String> tags,
        int maxConcurrentJobs,
        Duration pollInterval,
        Duration pollTimeout,
        Duration heartbeatInterval,
        Duration requestTimeout,
        Duration shutdownGrace,
        long logLimitBytes,
        DockerConfig docker,
        String healthBind,
        int healthPort,
        LogFormat logFormat,
        ExecutorKind executor,
        KubernetesConfig kubernetes) {

    public RunnerConfig {
        tags = tags == null ? List.of() : List.copyOf(tags);
        healthBind = healthBind == null || healthBind.isBlank() ? HealthAddress.DEFAULT_BIND : healthBind;
        logFormat = logFormat == null ? LogFormat.TEXT : logFormat;
        executor = executor == null ? ExecutorKind.DOCKER : executor;
        kubernetes = kubernetes == null ? KubernetesConfig.DEFAULT : kubernetes;
    }

    /** With the Docker executor (the form used before RUNNER_EXECUTOR existed). */
    public RunnerConfig(URI serverUrl, String token, String name, String runnerId, List<String> tags, int maxConcurrentJobs,
                        Duration pollInterval, Duration pollTimeout, Duration heartbeatInterval, Duration requestTimeout,
                        Duration shutdownGrace, long logLimitBytes, DockerConfig docker, String healthBind, int healthPort,
                        LogFormat logFormat) {
        this(serverUrl, token, name, runnerId, tags, maxConcurrentJobs, pollInterval, pollTimeout, heartbeatInterval,
                requestTimeout, shutdownGrace, logLimitBytes, docker, healthBind, healthPort, logFormat, ExecutorKind.DOCKER, null);
    }

    /** With text log lines (the form used before RUNNER_LOG_FORMAT existed). */
    public RunnerConfig(URI serverUrl, String token, String name, String runnerId, List<String> tags, int maxConcurrentJobs,
                        Duration pollInterval, Duration pollTimeout, Duration heartbeatInterval, Duration requestTimeout,
                        Duration shutdownGrace, long logLimitBytes, DockerConfig docker, String healthBind, int healthPort) {
        this(serverUrl, token, name, runnerId, tags, maxConcurrentJobs, pollInterval, pollTimeout, heartbeatInterval,
                requestTimeout, shutdownGrace, logLimitBytes, docker, healthBind, healthPort, LogFormat.TEXT);
    }

    /** Without a /health endpoint (the form used before RUNNER_HEALTH_PORT existed). */
    public RunnerConfig(URI serverUrl, String token, String name, String runnerId, List<String> tags, int maxConcurrentJobs,
                        Duration pollInterval, Duration pollTimeout, Duration heartbeatInterval, Duration requestTimeout,
                        Duration shutdownGrace, long logLimitBytes, DockerConfig docker) {
        this(serverUrl, token, name, runnerId, tags, maxConcurrentJobs, pollInterval, pollTimeout, heartbeatInterval,
                requestTimeout, shutdownGrace, logLimitBytes, docker, null, 0);
    }

    /** True when the /health endpoint is on. */
    public boolean healthEnabled() {
        return healthPort > 0;
    }

    /** How long the server may hold a long poll: a little less than the client's poll timeout. */
    public Duration pollWait() {
        long ms = pollTimeout.toMillis();
        return Duration.ofMillis(Math.max(0, ms - Math.min(5_000, ms / 5)));
    }

    @Override
    public String toString() {
        return "RunnerConfig[serverUrl=" + serverUrl + ", token=****, name=" + name + ", runnerId=" + runnerId
                + ", tags=" + tags + ", maxConcurrentJobs=" + maxConcurrentJobs + ", pollInterval=" + pollInterval
                + ", pollTimeout=" + pollTimeout + ", heartbeatInterval=" + heartbeatInterval
                + ", requestTimeout=" + requestTimeout + ", shutdownGrace=" + shutdownGrace
                + ", logLimitBytes=" + logLimitBytes + ", docker=" + docker
                + ", health=" + (healthPort > 0 ? healthBind + ":" + healthPort : "off") + ", executor=" + executor.wire()
                + (executor == ExecutorKind.KUBERNETES ? ", kubernetes=" + kubernetes : "") + "]";
    }
}
