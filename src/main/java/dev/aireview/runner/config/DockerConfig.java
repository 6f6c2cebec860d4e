package dev.aireview.runner.config;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Everything the Docker executor needs. Immutable; validated by the config loader.
 *
 * @param host               DOCKER_HOST, e.g. {@code unix:///var/run/docker.sock} or {@code tcp://127.0.0.1:2375}
 * @param executorImage      DOCKER_EXECUTOR_IMAGE
 * @param pullPolicy         when to pull the executor image
 * @param memoryBytes        DOCKER_MEMORY_LIMIT in bytes (swap limit set equal: no extra swap)
 * @param cpus               DOCKER_CPU_LIMIT (fractional CPUs, becomes NanoCpus)
 * @param networkMode        DOCKER_NETWORK_MODE for the review container (and the clone, unless cloneNetworkMode says otherwise)
 * @param workspaceBase      DOCKER_WORKSPACE_BASE; workspaces are {@code <base>/<runnerName>/<prefix>-<hash of the id>}
 * @param timeout            DOCKER_TIMEOUT_SECONDS: wall time of a whole task (clone + review)
 * @param poolSize           DOCKER_POOL_SIZE: pre-warmed review containers kept ready
 * @param cloneDepth         RUNNER_CLONE_DEPTH
 * @param pidsLimit          process limit of every container
 * @param user               user:group the containers run as (non-root)
 * @param stopGrace          time between SIGTERM and SIGKILL when a container is stopped
 * @param runnerName         RUNNER_NAME, used in labels and workspace paths
 * @param resultLimitBytes   DOCKER_RESULT_LIMIT_BYTES: largest result.json read
 * @param workspaceLimitBytes DOCKER_WORKSPACE_LIMIT: per-task cap of workspace bytes (0 = none)
 * @param minFreeDisk        DOCKER_MIN_FREE_DISK: claims pause below this much free space
 * @param runtime            DOCKER_RUNTIME of the review container, null for the engine's default
 * @param cloneNetworkMode   DOCKER_CLONE_NETWORK_MODE of the clone container
 * @param repoCacheLimitBytes RUNNER_REPO_CACHE_LIMIT: size cap of the runner's repository cache (0 = keep nothing between tasks)
 * @param repoCacheGit       RUNNER_REPO_CACHE_GIT: where the cache's git runs: auto, host or container
 * @param gitImage           RUNNER_GIT_IMAGE: the trusted git image of the cache's helper container
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
        String runnerName,
        long resultLimitBytes,
        long workspaceLimitBytes,
        FreeDiskThreshold minFreeDisk,
        String runtime,
        String cloneNetworkMode,
        long repoCacheLimitBytes,
        String repoCacheGit,
        String gitImage) {

    public static final String DEFAULT_GIT_IMAGE = "ai-review-git:latest";
    public static final String DEFAULT_REPO_CACHE_GIT = "auto";
    public static final long DEFAULT_RESULT_LIMIT_BYTES = 1L << 20;
    public static final long DEFAULT_WORKSPACE_LIMIT_BYTES = 2L << 30;
    public static final long DEFAULT_REPO_CACHE_LIMIT_BYTES = 5L << 30;

    public DockerConfig {
        runtime = runtime == null || runtime.isBlank() ? null : runtime.trim();
        cloneNetworkMode = cloneNetworkMode == null || cloneNetworkMode.isBlank() ? networkMode : cloneNetworkMode.trim();
        minFreeDisk = minFreeDisk == null ? FreeDiskThreshold.OFF : minFreeDisk;
        repoCacheGit = repoCacheGit == null || repoCacheGit.isBlank() ? DEFAULT_REPO_CACHE_GIT : repoCacheGit.trim();
        gitImage = gitImage == null || gitImage.isBlank() ? DEFAULT_GIT_IMAGE : gitImage.trim();
    }

    /** As the canonical constructor with the cache's git where the runner finds it (auto) and the default git image. */
    public DockerConfig(String host, String executorImage, PullPolicy pullPolicy, long memoryBytes, double cpus,
                        String networkMode, Path workspaceBase, Duration timeout, int poolSize, int cloneDepth,
                        long pidsLimit, String user, Duration stopGrace, String runnerName, long resultLimitBytes,
                        long workspaceLimitBytes, FreeDiskThreshold minFreeDisk, String runtime, String cloneNetworkMode,
                        long repoCacheLimitBytes) {
        this(host, executorImage, pullPolicy, memoryBytes, cpus, networkMode, workspaceBase, timeout, poolSize, cloneDepth,
                pidsLimit, user, stopGrace, runnerName, resultLimitBytes, workspaceLimitBytes, minFreeDisk, runtime,
                cloneNetworkMode, repoCacheLimitBytes, null, null);
    }

    /** As the canonical constructor without a repository cache (the settings before RUNNER_REPO_CACHE_LIMIT). */
    public DockerConfig(String host, String executorImage, PullPolicy pullPolicy, long memoryBytes, double cpus,
                        String networkMode, Path workspaceBase, Duration timeout, int poolSize, int cloneDepth,
                        long pidsLimit, String user, Duration stopGrace, String runnerName, long resultLimitBytes,
                        long workspaceLimitBytes, FreeDiskThreshold minFreeDisk, String runtime, String cloneNetworkMode) {
        this(host, executorImage, pullPolicy, memoryBytes, cpus, networkMode, workspaceBase, timeout, poolSize, cloneDepth,
                pidsLimit, user, stopGrace, runnerName, resultLimitBytes, workspaceLimitBytes, minFreeDisk, runtime,
                cloneNetworkMode, 0);
    }

    /** The settings before the hostile-workspace options: their defaults, no disk-pressure guard, no repository cache (tests, tools). */
    public DockerConfig(String host, String executorImage, PullPolicy pullPolicy, long memoryBytes, double cpus,
                        String networkMode, Path workspaceBase, Duration timeout, int poolSize, int cloneDepth,
                        long pidsLimit, String user, Duration stopGrace, String runnerName) {
        this(host, executorImage, pullPolicy, memoryBytes, cpus, networkMode, workspaceBase, timeout, poolSize, cloneDepth,
                pidsLimit, user, stopGrace, runnerName, DEFAULT_RESULT_LIMIT_BYTES, DEFAULT_WORKSPACE_LIMIT_BYTES,
                FreeDiskThreshold.OFF, null, null);
    }

    /** A copy with other hostile-workspace settings. */
    public DockerConfig withWorkspaceGuards(long resultLimit, long workspaceLimit, FreeDiskThreshold minFree) {
        return new DockerConfig(host, executorImage, pullPolicy, memoryBytes, cpus, networkMode, workspaceBase, timeout,
                poolSize, cloneDepth, pidsLimit, user, stopGrace, runnerName, resultLimit, workspaceLimit, minFree, runtime,
                cloneNetworkMode, repoCacheLimitBytes, repoCacheGit, gitImage);
    }

    /** A copy with another review runtime and clone network mode. */
    public DockerConfig withIsolation(String newRuntime, String newCloneNetworkMode) {
        return new DockerConfig(host, executorImage, pullPolicy, memoryBytes, cpus, networkMode, workspaceBase, timeout,
                poolSize, cloneDepth, pidsLimit, user, stopGrace, runnerName, resultLimitBytes, workspaceLimitBytes,
                minFreeDisk, newRuntime, newCloneNetworkMode, repoCacheLimitBytes, repoCacheGit, gitImage);
    }

    /** A copy with another pool size. */
    public DockerConfig withPoolSize(int newPoolSize) {
        return new DockerConfig(host, executorImage, pullPolicy, memoryBytes, cpus, networkMode, workspaceBase, timeout,
                newPoolSize, cloneDepth, pidsLimit, user, stopGrace, runnerName, resultLimitBytes, workspaceLimitBytes,
                minFreeDisk, runtime, cloneNetworkMode, repoCacheLimitBytes, repoCacheGit, gitImage);
    }

    /** A copy with another repository cache cap (RUNNER_REPO_CACHE_LIMIT; 0 = keep nothing between tasks). */
    public DockerConfig withRepoCacheLimit(long newRepoCacheLimitBytes) {
        return new DockerConfig(host, executorImage, pullPolicy, memoryBytes, cpus, networkMode, workspaceBase, timeout,
                poolSize, cloneDepth, pidsLimit, user, stopGrace, runnerName, resultLimitBytes, workspaceLimitBytes,
                minFreeDisk, runtime, cloneNetworkMode, newRepoCacheLimitBytes, repoCacheGit, gitImage);
    }

    /** A copy with another place for the cache's git (auto, host, container) and another git image. */
    public DockerConfig withRepoCacheGit(String newRepoCacheGit, String newGitImage) {
        return new DockerConfig(host, executorImage, pullPolicy, memoryBytes, cpus, networkMode, workspaceBase, timeout,
                poolSize, cloneDepth, pidsLimit, user, stopGrace, runnerName, resultLimitBytes, workspaceLimitBytes,
                minFreeDisk, runtime, cloneNetworkMode, repoCacheLimitBytes, newRepoCacheGit, newGitImage);
    }
}
