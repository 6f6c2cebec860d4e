package dev.aireview.runner.config;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Everything the Docker executor needs. Immutable; validated by the config loader.
 *
 * @param host             DOCKER_HOST, e.g. {@code unix:///var/run/docker.sock} or {@code tcp://127.0.0.1:2375}
 * @param executorImage    DOCKER_EXECUTOR_IMAGE
 * @param pullPolicy       when to pull the executor image
 * @param memoryBytes      DOCKER_MEMORY_LIMIT in bytes (swap limit set equal: no extra swap)
 * @param cpus             DOCKER_CPU_LIMIT (fractional CPUs, becomes NanoCpus)
 * @param networkMode      DOCKER_NETWORK_MODE for clone and review containers
 * @param workspaceBase    DOCKER_WORKSPACE_BASE; workspaces are {@code <base>/<runnerName>/<taskId>}
 * @param timeout          DOCKER_TIMEOUT_SECONDS: wall time of a whole task (clone + review)
 * @param poolSize         DOCKER_POOL_SIZE: pre-warmed review containers kept ready
 * @param cloneDepth       RUNNER_CLONE_DEPTH
 * @param pidsLimit        process limit of every container
 * @param user             user:group the containers run as (non-root)
 * @param stopGrace        time between SIGTERM and SIGKILL when a container is stopped
 * @param runnerName       RUNNER_NAME, used in labels and workspace paths
 */
public record DockerConfig(
        String host,
        String executorImage,
        PullPolicy pullPolicy,
        long memoryBytes,
        double cpus,
        String networkMode,
        Path workspaceBase,
        Duration timeout,
        int poolSize,
        int cloneDepth,
        long pidsLimit,
        String user,
        Duration stopGrace,
        String runnerName) {
}
