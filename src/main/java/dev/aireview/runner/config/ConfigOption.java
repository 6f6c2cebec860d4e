package dev.aireview.runner.config;

/**
 * Every option of {@code ai-review-runner run}: its environment variable, its flag, its default and meaning.
 * The loader, the {@code run} command and {@code docs/configuration.md} all follow this list.
 */
public enum ConfigOption {
    SERVER_URL("RUNNER_SERVER_URL", "--server-url", null, "Base URL of the AI Review server (http or https). Required."),
    TOKEN("RUNNER_TOKEN", "--token", null, "Runner token sent as 'Authorization: Bearer'. Required. Secret: masked in every log line; prefer the variable over the flag (argv is visible to other users)."),
    NAME("RUNNER_NAME", "--name", null, "Runner name: letters, digits, '.', '_', '-' (max 63). Required. Used in container labels and workspace paths."),
    RUNNER_ID("RUNNER_ID", "--runner-id", "= RUNNER_NAME", "Stable id sent as x-runner-id on register (the server's data.id wins)."),
    TAGS("RUNNER_TAGS", "--tags", "(none)", "Comma-separated runner tags sent on register."),
    MAX_CONCURRENT_JOBS("RUNNER_MAX_CONCURRENT_JOBS", "--max-concurrent-jobs", "2", "Tasks run at the same time (1-256); the runner never claims more than its free slots."),
    CLONE_DEPTH("RUNNER_CLONE_DEPTH", "--clone-depth", "50", "History depth of the clone (>= 1)."),
    POLL_INTERVAL_MS("RUNNER_POLL_INTERVAL_MS", "--poll-interval-ms", "5000", "Wait after an empty poll answer, with +/-20% jitter (ms, > 0). A long poll that the server held that long is followed by an immediate re-poll."),
    POLL_TIMEOUT_MS("RUNNER_POLL_TIMEOUT_MS", "--poll-timeout-ms", "30000", "Client timeout of the long poll (ms, >= 1000). The runner asks the server to hold the poll for waitMs = timeout - min(5000, timeout/5), so the answer always arrives before the client gives up."),
    HEARTBEAT_INTERVAL_MS("RUNNER_HEARTBEAT_INTERVAL_MS", "--heartbeat-interval-ms", "15000", "Heartbeat period (ms, > 0)."),
    REQUEST_TIMEOUT_MS("RUNNER_REQUEST_TIMEOUT_MS", "--request-timeout-ms", "10000", "Timeout of every server call except the poll (ms, > 0)."),
    SHUTDOWN_GRACE_MS("RUNNER_SHUTDOWN_GRACE_MS", "--shutdown-grace-ms", "600000", "On SIGTERM/SIGINT, how long running tasks may finish before they are cancelled (ms, >= 0)."),
    LOG_LIMIT_BYTES("RUNNER_LOG_LIMIT_BYTES", "--log-limit-bytes", "4m", "Per-task cap of log bytes sent to the server (size, >= 1k); head and tail are kept."),
    DOCKER_HOST("DOCKER_HOST", "--docker-host", "unix:///var/run/docker.sock", "Docker daemon: unix://, tcp://, http(s):// or npipe:// address."),
    EXECUTOR_IMAGE("DOCKER_EXECUTOR_IMAGE", "--executor-image", null, "Image that runs the review (see docs/executor-contract.md). Required."),
    PULL_POLICY("DOCKER_PULL_POLICY", "--pull-policy", "if-not-present", "When to pull the executor image: always, if-not-present or never."),
    MEMORY_LIMIT("DOCKER_MEMORY_LIMIT", "--memory-limit", "2g", "Memory of each container (size: bytes, or k/m/g with optional 'b', decimals allowed, e.g. 512m, 1.5g; >= 6m). Swap is not added."),
    CPU_LIMIT("DOCKER_CPU_LIMIT", "--cpu-limit", "1.0", "CPUs of each container (decimal > 0, e.g. 0.5)."),
    NETWORK_MODE("DOCKER_NETWORK_MODE", "--network-mode", "bridge", "Docker network mode of the containers (bridge, host, none or a network name)."),
    WORKSPACE_BASE("DOCKER_WORKSPACE_BASE", "--workspace-base", "/var/lib/ai-review/workspaces", "Absolute host directory under which task workspaces are created (<base>/<name>/<id prefix>-<hash>; the runner directory is made mode 0700, each workspace 0700 owned by DOCKER_USER)."),
    TIMEOUT_SECONDS("DOCKER_TIMEOUT_SECONDS", "--timeout-seconds", "600", "Wall-time limit of a whole task (s, > 0); a task's timeoutSeconds can only lower it."),
    POOL_SIZE("DOCKER_POOL_SIZE", "--pool-size", "0", "Pre-warmed review containers kept ready (>= 0)."),
    PIDS_LIMIT("DOCKER_PIDS_LIMIT", "--pids-limit", "512", "Process limit of each container (> 0)."),
    USER("DOCKER_USER", "--docker-user", "10001:10001", "user[:group] the containers run as; root (0) is refused."),
    STOP_GRACE_SECONDS("DOCKER_STOP_GRACE_SECONDS", "--stop-grace-seconds", "10", "Seconds between SIGTERM and SIGKILL when a container is stopped (>= 0)."),
    RESULT_LIMIT_BYTES("DOCKER_RESULT_LIMIT_BYTES", "--result-limit-bytes", "1m", "Largest result.json the runner reads (size, >= 1k); a larger one, or one that is not a regular file, fails the task (executor_failed)."),
    WORKSPACE_LIMIT("DOCKER_WORKSPACE_LIMIT", "--workspace-limit", "2g", "Per-task cap of workspace bytes (clone + review output; size, >= 1m), checked every few seconds while the task runs; over it the container is killed and the task fails with disk_limit."),
    MIN_FREE_DISK("DOCKER_MIN_FREE_DISK", "--min-free-disk", "5g", "Free space under DOCKER_WORKSPACE_BASE below which the runner stops claiming tasks (a size like 5g, or a percentage like 10%; 0 = off). It resumes by itself when space returns."),
    RUNTIME("DOCKER_RUNTIME", "--docker-runtime", "(engine default)", "OCI runtime of the review container, e.g. runsc (gVisor); the engine must list it (docker info), else the runner exits 1 at start-up."),
    CLONE_NETWORK_MODE("DOCKER_CLONE_NETWORK_MODE", "--clone-network-mode", "= DOCKER_NETWORK_MODE", "Docker network mode of the clone container, so an offline review (DOCKER_NETWORK_MODE=none) can still clone."),
    REPO_CACHE_LIMIT("RUNNER_REPO_CACHE_LIMIT", "--repo-cache-limit", "5g", "Size cap of the runner's repository cache under <DOCKER_WORKSPACE_BASE>/<RUNNER_NAME>/cache (size; 0 = keep nothing between tasks): every task's repository is fetched there by the runner's trusted git with the task's token, and the review container checks it out read-only, never seeing the token; least recently used entries are evicted above the cap. See docs/repository-cache.md."),
    REPO_CACHE_GIT("RUNNER_REPO_CACHE_GIT", "--repo-cache-git", "auto", "Where the trusted git (every fetch with a task's token) runs: auto (git on the runner's host when it has one, else a helper container of RUNNER_GIT_IMAGE), host (the host's git only; none = the runner does not start) or container (always the helper container). See docs/repository-cache.md."),
    GIT_IMAGE("RUNNER_GIT_IMAGE", "--git-image", "ai-review-git:latest", "Trusted git image of the repository cache's helper container (docker/git/Dockerfile; compose builds it), never the executor image. Never pulled: when it is needed and missing at start-up the cache is off (one log line). Pin it by digest (name@sha256:...) to be sure of what runs with the clone tokens."),
    HEALTH_PORT("RUNNER_HEALTH_PORT", "--health-port", "0", "Port of the GET /health and GET /metrics endpoint ([address:]port; 0 = off). Without an address it listens on loopback only (127.0.0.1); 0.0.0.0:8081 exposes it on all interfaces (e.g. for a Kubernetes probe)."),
    LOG_FORMAT("RUNNER_LOG_FORMAT", "--log-format", "text", "Format of the runner's own log lines on stdout: text (one readable line each) or json (one JSON object per line for log pipelines: @timestamp, level, thread_name, logger_name, message, taskId, runner, stack_trace). Secrets are masked in both."),
    EXECUTOR("RUNNER_EXECUTOR", "--executor", "docker", "Where tasks run: docker (one container per task on DOCKER_HOST) or kubernetes (one pod per task on the cluster the runner's service account or kubeconfig reaches; see docs/kubernetes.md)."),
    KUBERNETES_NAMESPACE("KUBERNETES_NAMESPACE", "--kubernetes-namespace", "(the client's namespace)", "Namespace of the task pods and Secrets (RUNNER_EXECUTOR=kubernetes); by default the runner pod's own namespace, else the kubeconfig context's, else default."),
    KUBERNETES_PENDING_TIMEOUT_SECONDS("KUBERNETES_PENDING_TIMEOUT_SECONDS", "--pending-timeout-seconds", "300", "How long a task pod may stay unscheduled or keep failing to pull its image (s, > 0); then the task fails (unschedulable: runner_shutdown, so the server retries it; image: executor_failed) with the cluster's words."),
    KUBERNETES_API_QPS("KUBERNETES_API_QPS", "--kubernetes-api-qps", "5", "Client-side rate limit of the runner's Kubernetes API requests (requests per second, 1-1000; every request of the executor: pods, logs, Secrets, Lease, watch). Requests beyond it wait their turn."),
    KUBERNETES_API_BURST("KUBERNETES_API_BURST", "--kubernetes-api-burst", "10", "How many Kubernetes API requests may go at once above KUBERNETES_API_QPS after a quiet spell (1-1000).");

    private final String env;
    private final String flag;
    private final String defaultValue;
    private final String description;

    ConfigOption(String env, String flag, String defaultValue, String description) {
        this.env = env;
        this.flag = flag;
        this.defaultValue = defaultValue;
        this.description = description;
    }

    public String env() {
        return env;
    }

    public String flag() {
        return flag;
    }

    /** Documented default, or null for a required option. */
    public String defaultValue() {
        return defaultValue;
    }

    public String description() {
        return description;
    }

    public boolean required() {
        return defaultValue == null;
    }
}
