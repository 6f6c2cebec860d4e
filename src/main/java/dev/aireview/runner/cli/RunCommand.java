package dev.aireview.runner.cli;

import dev.aireview.runner.config.ConfigLoader;
import dev.aireview.runner.config.ConfigOption;
import dev.aireview.runner.config.RunnerConfig;
import dev.aireview.runner.execution.TaskExecutor;
import dev.aireview.runner.observability.HealthServer;
import dev.aireview.runner.observability.PrometheusMetrics;
import dev.aireview.runner.observability.RunnerMetrics;
import dev.aireview.runner.observability.Secrets;
import dev.aireview.runner.observability.UncaughtErrors;
import dev.aireview.runner.scheduler.RunnerDaemon;
import dev.aireview.runner.scheduler.StartupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code ai-review-runner run}: the daemon. Parses flags, loads the configuration (flags win over environment
 * variables; see docs/configuration.md), builds the {@link RunnerDaemon} and waits for it to stop.
 *
 * <p>Exit status: 0 after a signal-initiated stop, 1 when the runner cannot start (executor, refused token),
 * 2 for configuration problems (all of them are printed, one per line).
 *
 * <p>Signals: SIGTERM/SIGINT are caught with {@code sun.misc.Signal} handlers when the JVM allows it: the first
 * starts the graceful drain, the second cancels running tasks at once. Where those handlers are not available,
 * a JVM shutdown hook runs the graceful drain (a second signal cannot be seen then). A shutdown hook is always
 * installed as well, so any other JVM exit still drains.
 */
@Command(name = "run", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = {"Run the runner daemon: register, heartbeat, claim review tasks and run them in Docker.",
                "Every option can also be set by its environment variable (shown in brackets); a flag wins."},
        sortOptions = false)
public final class RunCommand implements Callable<Integer> {
    /**
     * Looked up on first use, not in a static field: picocli instantiates every subcommand, and a logger made at
     * class initialisation would configure Logback (≈ 0.2 s of XML parsing) in {@code execute} and {@code --version}
     * too, which never log.
     */
    private static Logger log() {
        return LoggerFactory.getLogger(RunCommand.class);
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Environment seam for tests; null means the process environment. */
    Map<String, String> environment;
    /** Executor seam for tests; production uses {@link Executors#create}. */
    java.util.function.Function<RunnerConfig, TaskExecutor> executorFactory = Executors::create;
    /** Tests running in-process leave the JVM's signal handling alone. */
    boolean installSignals = true;

    @Option(names = "--server-url", paramLabel = "URL", description = "[RUNNER_SERVER_URL] Base URL of the AI Review server. Required.")
    String serverUrl;
    @Option(names = "--token", paramLabel = "TOKEN", description = "[RUNNER_TOKEN] Runner token. Required. Prefer the variable: argv is visible to other users.")
    String token;
    @Option(names = "--name", paramLabel = "NAME", description = "[RUNNER_NAME] Runner name. Required.")
    String name;
    @Option(names = "--runner-id", paramLabel = "ID", description = "[RUNNER_ID] Id sent as x-runner-id. Default: the name.")
    String runnerId;
    @Option(names = "--tags", paramLabel = "LIST", description = "[RUNNER_TAGS] Comma-separated runner tags.")
    String tags;
    @Option(names = "--max-concurrent-jobs", paramLabel = "N", description = "[RUNNER_MAX_CONCURRENT_JOBS] Tasks run at once. Default: 2.")
    String maxJobs;
    @Option(names = "--clone-depth", paramLabel = "N", description = "[RUNNER_CLONE_DEPTH] Clone history depth. Default: 50.")
    String cloneDepth;
    @Option(names = "--poll-interval-ms", paramLabel = "MS", description = "[RUNNER_POLL_INTERVAL_MS] Wait after an empty poll. Default: 5000.")
    String pollInterval;
    @Option(names = "--poll-timeout-ms", paramLabel = "MS", description = "[RUNNER_POLL_TIMEOUT_MS] Long-poll client timeout (>= 1000). Default: 30000.")
    String pollTimeout;
    @Option(names = "--heartbeat-interval-ms", paramLabel = "MS", description = "[RUNNER_HEARTBEAT_INTERVAL_MS] Heartbeat period. Default: 15000.")
    String heartbeat;
    @Option(names = "--request-timeout-ms", paramLabel = "MS", description = "[RUNNER_REQUEST_TIMEOUT_MS] Timeout of other calls. Default: 10000.")
    String requestTimeout;
    @Option(names = "--shutdown-grace-ms", paramLabel = "MS", description = "[RUNNER_SHUTDOWN_GRACE_MS] Drain time on SIGTERM. Default: 600000.")
    String shutdownGrace;
    @Option(names = "--log-limit-bytes", paramLabel = "SIZE", description = "[RUNNER_LOG_LIMIT_BYTES] Per-task log cap. Default: 4m.")
    String logLimit;
    @Option(names = "--docker-host", paramLabel = "ADDR", description = "[DOCKER_HOST] Docker daemon. Default: unix:///var/run/docker.sock.")
    String dockerHost;
    @Option(names = "--executor-image", paramLabel = "IMAGE", description = "[DOCKER_EXECUTOR_IMAGE] Review image. Required.")
    String image;
    @Option(names = "--pull-policy", paramLabel = "POLICY", description = "[DOCKER_PULL_POLICY] always | if-not-present | never. Default: if-not-present.")
    String pullPolicy;
    @Option(names = "--memory-limit", paramLabel = "SIZE", description = "[DOCKER_MEMORY_LIMIT] Container memory (512m, 1.5g, bytes). Default: 2g.")
    String memory;
    @Option(names = "--cpu-limit", paramLabel = "CPUS", description = "[DOCKER_CPU_LIMIT] Container CPUs (decimal). Default: 1.0.")
    String cpus;
    @Option(names = "--network-mode", paramLabel = "MODE", description = "[DOCKER_NETWORK_MODE] Container network mode. Default: bridge.")
    String network;
    @Option(names = "--workspace-base", paramLabel = "DIR", description = "[DOCKER_WORKSPACE_BASE] Host workspace root. Default: /var/lib/ai-review/workspaces.")
    String workspace;
    @Option(names = "--timeout-seconds", paramLabel = "S", description = "[DOCKER_TIMEOUT_SECONDS] Task wall-time limit. Default: 600.")
    String timeout;
    @Option(names = "--pool-size", paramLabel = "N", description = "[DOCKER_POOL_SIZE] Pre-warmed containers. Default: 0.")
    String poolSize;
    @Option(names = "--pids-limit", paramLabel = "N", description = "[DOCKER_PIDS_LIMIT] Container process limit. Default: 512.")
    String pids;
    @Option(names = "--docker-user", paramLabel = "USER", description = "[DOCKER_USER] Container user[:group], not root. Default: 10001:10001.")
    String user;
    @Option(names = "--stop-grace-seconds", paramLabel = "S", description = "[DOCKER_STOP_GRACE_SECONDS] SIGTERM→SIGKILL time. Default: 10.")
    String stopGrace;
    @Option(names = "--result-limit-bytes", paramLabel = "SIZE", description = "[DOCKER_RESULT_LIMIT_BYTES] Largest result.json read. Default: 1m.")
    String resultLimit;
    @Option(names = "--workspace-limit", paramLabel = "SIZE", description = "[DOCKER_WORKSPACE_LIMIT] Per-task workspace cap (disk_limit). Default: 2g.")
    String workspaceLimit;
    @Option(names = "--min-free-disk", paramLabel = "SIZE|N%", description = "[DOCKER_MIN_FREE_DISK] Pause claims below this free space; 0 = off. Default: 5g.")
    String minFreeDisk;
    @Option(names = "--docker-runtime", paramLabel = "NAME", description = "[DOCKER_RUNTIME] Review container runtime, e.g. runsc. Default: the engine's.")
    String runtime;
    @Option(names = "--clone-network-mode", paramLabel = "MODE", description = "[DOCKER_CLONE_NETWORK_MODE] Clone container network mode. Default: DOCKER_NETWORK_MODE.")
    String cloneNetwork;
    @Option(names = "--repo-cache-limit", paramLabel = "SIZE", description = "[RUNNER_REPO_CACHE_LIMIT] Repository cache cap (LRU); 0 = keep nothing between tasks. Default: 5g.")
    String repoCacheLimit;
    @Option(names = "--repo-cache-git", paramLabel = "WHERE", description = "[RUNNER_REPO_CACHE_GIT] Where the cache's git runs: auto | host | container. Default: auto.")
    String repoCacheGit;
    @Option(names = "--git-image", paramLabel = "IMAGE", description = "[RUNNER_GIT_IMAGE] Trusted git image of the cache's helper container. Default: ai-review-git:latest.")
    String gitImage;
    @Option(names = "--health-port", paramLabel = "[ADDR:]PORT", description = "[RUNNER_HEALTH_PORT] GET /health and /metrics endpoint; 0 = off. Default: 0.")
    String healthPort;
    @Option(names = "--executor", paramLabel = "KIND", description = "[RUNNER_EXECUTOR] docker | kubernetes (one pod per task). Default: docker.")
    String executor;
    @Option(names = "--kubernetes-namespace", paramLabel = "NS", description = "[KUBERNETES_NAMESPACE] Namespace of the task pods. Default: the client's namespace.")
    String kubernetesNamespace;
    @Option(names = "--pending-timeout-seconds", paramLabel = "S", description = "[KUBERNETES_PENDING_TIMEOUT_SECONDS] How long a task pod may stay unscheduled. Default: 300.")
    String pendingTimeout;
    @Option(names = "--kubernetes-api-qps", paramLabel = "N", description = "[KUBERNETES_API_QPS] Client-side rate limit of Kubernetes API requests per second. Default: 5.")
    String kubernetesApiQps;
    @Option(names = "--kubernetes-api-burst", paramLabel = "N", description = "[KUBERNETES_API_BURST] Kubernetes API requests allowed at once above the rate. Default: 10.")
    String kubernetesApiBurst;
    @Option(names = "--log-format", paramLabel = "FORMAT", description = "[RUNNER_LOG_FORMAT] text | json (one JSON object per line). Default: text.")
    String logFormat;

    /** Flag values keyed by their environment variable name (unset flags are absent). */
    Map<String, String> flagValues() {
        Map<String, String> m = new LinkedHashMap<>();
        put(m, ConfigOption.SERVER_URL, serverUrl);
        put(m, ConfigOption.TOKEN, token);
        put(m, ConfigOption.NAME, name);
        put(m, ConfigOption.RUNNER_ID, runnerId);
        put(m, ConfigOption.TAGS, tags);
        put(m, ConfigOption.MAX_CONCURRENT_JOBS, maxJobs);
        put(m, ConfigOption.CLONE_DEPTH, cloneDepth);
        put(m, ConfigOption.POLL_INTERVAL_MS, pollInterval);
        put(m, ConfigOption.POLL_TIMEOUT_MS, pollTimeout);
        put(m, ConfigOption.HEARTBEAT_INTERVAL_MS, heartbeat);
        put(m, ConfigOption.REQUEST_TIMEOUT_MS, requestTimeout);
        put(m, ConfigOption.SHUTDOWN_GRACE_MS, shutdownGrace);
        put(m, ConfigOption.LOG_LIMIT_BYTES, logLimit);
        put(m, ConfigOption.DOCKER_HOST, dockerHost);
        put(m, ConfigOption.EXECUTOR_IMAGE, image);
        put(m, ConfigOption.PULL_POLICY, pullPolicy);
        put(m, ConfigOption.MEMORY_LIMIT, memory);
        put(m, ConfigOption.CPU_LIMIT, cpus);
        put(m, ConfigOption.NETWORK_MODE, network);
        put(m, ConfigOption.WORKSPACE_BASE, workspace);
        put(m, ConfigOption.TIMEOUT_SECONDS, timeout);
        put(m, ConfigOption.POOL_SIZE, poolSize);
        put(m, ConfigOption.PIDS_LIMIT, pids);
        put(m, ConfigOption.USER, user);
        put(m, ConfigOption.STOP_GRACE_SECONDS, stopGrace);
        put(m, ConfigOption.RESULT_LIMIT_BYTES, resultLimit);
        put(m, ConfigOption.WORKSPACE_LIMIT, workspaceLimit);
        put(m, ConfigOption.MIN_FREE_DISK, minFreeDisk);
        put(m, ConfigOption.RUNTIME, runtime);
        put(m, ConfigOption.CLONE_NETWORK_MODE, cloneNetwork);
        put(m, ConfigOption.REPO_CACHE_LIMIT, repoCacheLimit);
        put(m, ConfigOption.REPO_CACHE_GIT, repoCacheGit);
        put(m, ConfigOption.GIT_IMAGE, gitImage);
        put(m, ConfigOption.HEALTH_PORT, healthPort);
        put(m, ConfigOption.LOG_FORMAT, logFormat);
        put(m, ConfigOption.EXECUTOR, executor);
        put(m, ConfigOption.KUBERNETES_NAMESPACE, kubernetesNamespace);
        put(m, ConfigOption.KUBERNETES_PENDING_TIMEOUT_SECONDS, pendingTimeout);
        put(m, ConfigOption.KUBERNETES_API_QPS, kubernetesApiQps);
        put(m, ConfigOption.KUBERNETES_API_BURST, kubernetesApiBurst);
        return m;
    }

    private static void put(Map<String, String> m, ConfigOption o, String v) {
        if (v != null) {
            m.put(o.env(), v);
        }
    }

    /** Loads the configuration; prints every problem to stderr. Null when invalid. */
    RunnerConfig loadConfig(PrintWriter err) {
        ConfigLoader.Result result = ConfigLoader.load(environment != null ? environment : System.getenv(), flagValues());
        if (!result.ok()) {
            err.println("ai-review-runner: invalid configuration (" + result.problems().size() + " problem(s)):");
            result.problems().forEach(p -> err.println("  " + p));
            err.println("See 'ai-review-runner run --help' and docs/configuration.md.");
            err.flush();
            return null;
        }
        return result.config();
    }

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        RunnerConfig config = loadConfig(err);
        if (config == null) {
            return 2;
        }
        Secrets.register(config.token());
        config.logFormat().apply(config.name());
        UncaughtErrors.install();
        StringBuilder sb = new StringBuilder("effective configuration:");
        ConfigLoader.describe(config).forEach((k, v) -> sb.append("\n  ").append(k).append(" = ").append(v));
        log().info(sb.toString());

        TaskExecutor executor;
        try {
            executor = executorFactory.apply(config);
        } catch (RuntimeException e) {
            err.println("ai-review-runner: cannot create the task executor: " + e.getMessage());
            err.flush();
            return 1;
        }
        // metrics are only readable on the health port, so they are only recorded when it is on
        PrometheusMetrics metrics = config.healthEnabled() ? new PrometheusMetrics(config.name()) : null;
        RunnerDaemon daemon = RunnerDaemon.create(config, executor, metrics == null ? RunnerMetrics.NOOP : metrics);
        HealthServer health = null;
        if (config.healthEnabled()) {
            try {
                health = HealthServer.start(config.healthBind(), config.healthPort(), daemon::health, metrics::scrape);
            } catch (java.io.IOException | RuntimeException e) {
                err.println("ai-review-runner: cannot open the health endpoint on RUNNER_HEALTH_PORT "
                        + config.healthBind() + ":" + config.healthPort() + ": " + e.getMessage());
                err.flush();
                executor.close();
                return 1;
            }
        }
        try {
            return runDaemon(daemon, config, err);
        } finally {
            if (health != null) {
                health.close();
            }
        }
    }

    private int runDaemon(RunnerDaemon daemon, RunnerConfig config, PrintWriter err) {
        Duration maxStop = config.shutdownGrace().plus(Duration.ofMinutes(5));
        if (installSignals) {
            installSignalHandlers(daemon, maxStop);
        }
        try {
            daemon.start();
        } catch (StartupException e) {
            log().error("cannot start: {}", e.getMessage());
            err.println("ai-review-runner: cannot start: " + e.getMessage());
            err.flush();
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
        try {
            daemon.awaitTermination(Duration.ofDays(36500));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    /** First TERM/INT: graceful drain; second: cancel now. Falls back to a shutdown hook (documented above). */
    static void installSignalHandlers(RunnerDaemon daemon, Duration maxStop) {
        boolean handled = false;
        try {
            for (String name : new String[]{"TERM", "INT"}) {
                sun.misc.SignalHandler old = sun.misc.Signal.handle(new sun.misc.Signal(name), sig -> {
                    log().info("received SIG{}", sig.getName());
                    daemon.stopGracefully();
                });
                if (old == sun.misc.SignalHandler.SIG_IGN) {
                    // inherited ignored (started in the background by a script, nohup … &): the JVM installs no handler
                    log().warn("SIG{} is ignored by this process (inherited from whatever started it) and stops nothing;"
                            + " stop the runner with SIGTERM (twice to cancel running reviews at once)", name);
                }
            }
            handled = true;
        } catch (Throwable e) {
            log().warn("signal handlers not available ({}); SIGTERM/SIGINT drain through a shutdown hook, a second signal is not seen", e.toString());
        }
        boolean viaHook = !handled;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (!daemon.isTerminated()) {
                if (viaHook) {
                    log().info("shutdown requested");
                }
                if (!daemon.isStopping()) {
                    daemon.stopGracefully();
                }
                try {
                    daemon.awaitTermination(maxStop);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }, "shutdown-hook"));
    }
}
