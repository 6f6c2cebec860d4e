package dev.aireview.runner.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.NotFoundException;
import dev.aireview.runner.config.DockerConfig;
import dev.aireview.runner.execution.CancelSignal;
import dev.aireview.runner.execution.ClaimJournal;
import dev.aireview.runner.execution.DirectoryClaimJournal;
import dev.aireview.runner.execution.TaskContext;
import dev.aireview.runner.execution.TaskExecutor;
import dev.aireview.runner.observability.SecretMasker;
import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.LogStream;
import dev.aireview.runner.model.RepositoryUrl;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskPhase;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.model.TaskStats;
import dev.aireview.runner.source.CachedCheckout;
import dev.aireview.runner.source.RepoCache;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The Docker executor. One claimed task takes one path ({@link #execute}): prepare the source (trusted: the runner's own
 * git fetches with the task's credentials into its repository cache, {@link SourcePreparer}) → review (untrusted: a
 * limited, hardened container of the executor image checks the commit out of the read-only cache entry, with no token
 * and no network, and reviews it) → judge → report → clean (docs/executor-contract.md, docs/docker-executor.md,
 * docs/repository-cache.md). It leaves nothing behind.
 *
 * <p>Life cycle: {@link #start()} connects (negotiating the API version), checks the image against the pull policy,
 * reaps what an earlier run of the same runner left, and fills the pre-warmed pool; {@link #execute} is called
 * concurrently from worker threads; {@link #close()} empties the pool and releases the client.
 */
public final class DockerTaskExecutor implements TaskExecutor {
    private static final Logger LOG = LoggerFactory.getLogger(DockerTaskExecutor.class);
    private static final Duration CLEANUP_TIMEOUT = Duration.ofSeconds(60);

    private final DockerConfig config;
    private final String maxApiVersion;
    private final DockerConnection.Timeouts timeouts;
    private final Workspaces workspaces;
    private final ContainerSpecs specs;
    private final DiskPressureGuard diskGuard;
    private final Duration diskWatchPeriod;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Set once an exec could not run (see {@link ReviewRun}): checkouts then run in a container of their own. */
    private final AtomicBoolean execUnavailable = new AtomicBoolean();
    /**
     * Docker calls a task runs beside its critical path (the cold review container's create/start during the clone,
     * removals, the pooled container's CPU weight). Threads are made on demand and end after 30 s idle, so an idle
     * runner holds none.
     */
    private final ExecutorService async = asyncCalls();
    private volatile DockerConnection connection;
    private volatile DockerClient docker;
    private volatile ContainerRunner runner;
    private volatile ContainerPool pool;
    private volatile DiskWatch diskWatch;
    private volatile int slots = 16;
    private volatile ContainerVerifier verifier;
    /** Step 1 of every task: the trusted fetch into the runner's repository cache. */
    private volatile SourcePreparer sources;
    /** What the executor image asks the cached checkout to hold (its {@code ai-review.checkout} label), read at start. */
    private volatile CachedCheckout.Checkout checkout = CachedCheckout.Checkout.FULL;
    private volatile List<String> leftoverTaskIds = List.of();
    private final DirectoryClaimJournal claimJournal;
    /** Tasks whose result was handed over before their clean-up ended ({@link HandOver}): cleaned, never reported, by the reaper. */
    private final DirectoryClaimJournal cleaning;

    /** Production constructor: connects to {@code config.host()} on {@link #start()}. */
    public DockerTaskExecutor(DockerConfig config) {
        this(config, null);
    }

    /** As {@link #DockerTaskExecutor(DockerConfig)}, but never speaks an API above {@code maxApiVersion} (e.g. "1.41"). */
    public DockerTaskExecutor(DockerConfig config, String maxApiVersion) {
        this(config, maxApiVersion, DockerConnection.Timeouts.DEFAULT);
    }

    /** As {@link #DockerTaskExecutor(DockerConfig, String)}, with other Docker call deadlines (tests). */
    DockerTaskExecutor(DockerConfig config, String maxApiVersion, DockerConnection.Timeouts timeouts) {
        this(config, maxApiVersion, timeouts, DiskPressureGuard.FreeSpace.FILE_STORE, DiskWatch.DEFAULT_PERIOD);
    }

    /**
     * As {@link #DockerTaskExecutor(DockerConfig, String)}, reading free disk space through {@code freeSpace} and
     * measuring workspaces every {@code diskWatchPeriod} (tests).
     */
    DockerTaskExecutor(DockerConfig config, String maxApiVersion, DiskPressureGuard.FreeSpace freeSpace, Duration diskWatchPeriod) {
        this(config, maxApiVersion, DockerConnection.Timeouts.DEFAULT, freeSpace, diskWatchPeriod);
    }

    private DockerTaskExecutor(DockerConfig config, String maxApiVersion, DockerConnection.Timeouts timeouts,
                               DiskPressureGuard.FreeSpace freeSpace, Duration diskWatchPeriod) {
        this.timeouts = timeouts;
        this.config = config;
        this.maxApiVersion = maxApiVersion;
        this.workspaces = new Workspaces(config.workspaceBase(), config.runnerName(), config.user(), config.resultLimitBytes());
        this.claimJournal = new DirectoryClaimJournal(workspaces.claimsDir());
        this.cleaning = new DirectoryClaimJournal(workspaces.cleaningDir());
        this.specs = new ContainerSpecs(config);
        this.diskGuard = new DiskPressureGuard(config.workspaceBase(), config.minFreeDisk(), freeSpace);
        this.diskWatchPeriod = diskWatchPeriod;
    }

    /** Pauses claims while the disk under DOCKER_WORKSPACE_BASE has less than DOCKER_MIN_FREE_DISK free. */
    @Override
    public DiskPressureGuard claimGate() {
        return diskGuard;
    }

    /**
     * The number of tasks that run at once (RUNNER_MAX_CONCURRENT_JOBS), which sizes the Docker connection pools
     * ({@link ConnectionBudget}); call before {@link #start()}. Default 16.
     */
    public DockerTaskExecutor withSlots(int slots) {
        this.slots = slots;
        return this;
    }

    @Override
    public void start() {
        ConnectionBudget budget = ConnectionBudget.of(slots, config.poolSize());
        budget.check(ConnectionBudget.maxOpenFiles(), slots, config.poolSize());
        connection = DockerConnection.open(config.host(), maxApiVersion, timeouts, budget);
        docker = connection.client();
        runner = new ContainerRunner(docker, config.stopGrace());
        try {
            RuntimeCheck.verify(docker, config.runtime());
            ImageCheck.ensure(docker, config.executorImage(), config.pullPolicy());
            checkout = CachedCheckout.checkoutOf(ImageCheck.labels(docker, config.executorImage()));
            if (checkout == CachedCheckout.Checkout.CHANGED) {
                LOG.info("executor image {} has the label {}={}: a checkout from the repository cache holds only the changed "
                        + "files (docs/executor-contract.md)", config.executorImage(), CachedCheckout.IMAGE_LABEL,
                        CachedCheckout.IMAGE_LABEL_CHANGED);
            }
            verifier = new ContainerVerifier(docker, connection.engineLabel(), runner);
            if (connection.isPodman()) {
                adaptToPodman();
            }
            try {
                workspaces.ensureRunnerDir();
            } catch (IOException e) {
                throw new DockerExecutorException("cannot create the workspace directory " + workspaces.runnerDir()
                        + " (DOCKER_WORKSPACE_BASE): " + e.getMessage(), e);
            }
            try {
                sources = new SourcePreparer(RepoCache.open(workspaces.runnerDir().resolve(Workspaces.REPO_CACHE_DIR),
                        config.repoCacheLimitBytes(), RepoCache.GitPlace.valueOf(config.repoCacheGit().toUpperCase(java.util.Locale.ROOT)),
                        () -> ContainerGit.open(docker, runner, specs, config)), config.cloneDepth());
            } catch (IllegalStateException | UncheckedIOException e) {
                throw new DockerExecutorException(e.getMessage(), e);
            }
            leftoverTaskIds = new OrphanReaper(docker, config.runnerName(), workspaces, this::deleteWorkspace, cleaning).reap().taskIds();
            verifier.probe(specs, workspaces);
            WorkspaceMountCheck.verify(docker, specs, runner, workspaces);
            diskWatch = config.workspaceLimitBytes() > 0 ? new DiskWatch(config.workspaceLimitBytes(), diskWatchPeriod) : null;
            LOG.info("workspace size: {}", diskWatch == null ? "DOCKER_WORKSPACE_LIMIT=0, not limited" : diskWatch.describe());
            int poolSize = config.poolSize();
            if (poolSize > 0 && !specs.reviewSeesOutsideWrites()) {
                LOG.warn("DOCKER_POOL_SIZE={} is not used with DOCKER_RUNTIME={}: a sandbox started before its checkout may see"
                        + " it only in part, so each review container starts after its checkout has finished", poolSize,
                        config.runtime());
                poolSize = 0;
            }
            pool = new ContainerPool(docker, specs, workspaces, runner, this::deleteWorkspace, poolSize, diskWatch);
            pool.useVerifier(verifier);
            // a waiting checkout only where a checkout can be streamed to it (the cache's git on the host, exec works)
            pool.useStandbyCheckout(config.user(), () -> !execUnavailable.get() && sources.cache().streams());
            if (connection.isPodman()) {
                pool.useCpuWeightFallback(this::libpodCpuShares);
            }
            pool.refill();
            LOG.info("Docker executor ready: image {}, workspaces under {}, pool size {}", config.executorImage(),
                    workspaces.runnerDir(), poolSize);
        } catch (RuntimeException e) {
            if (diskWatch != null) {
                diskWatch.close();
            }
            connection.close();
            throw e;
        }
    }

    /**
     * Podman's Docker API writes {@code host-gateway} literally into /etc/hosts (4.3): {@code host.docker.internal}
     * gets the network's own gateway address instead.
     */
    private void adaptToPodman() {
        var gateways = specs.useGatewayAddresses(network -> {
            try {
                var ipam = docker.inspectNetworkCmd().withNetworkId(network).exec().getIpam();
                return ipam == null || ipam.getConfig() == null ? null : ipam.getConfig().stream()
                        .map(com.github.dockerjava.api.model.Network.Ipam.Config::getGateway)
                        .filter(g -> g != null && !g.isBlank() && !g.contains(":")).findFirst().orElse(null);
            } catch (RuntimeException e) {
                LOG.warn("cannot read the gateway of network {} from {}: {}", network, connection.engineLabel(), e.getMessage());
                return null;
            }
        });
        gateways.forEach((network, gateway) -> {
            if (gateway.isEmpty()) {
                LOG.warn("{}: network {} has no IPv4 gateway, so its containers get no host.docker.internal entry "
                        + "(Podman's own host.containers.internal still names the host)", connection.engineLabel(), network);
            } else {
                LOG.info("{}: host.docker.internal is {} (gateway of network {}) in the containers, as Podman does not resolve "
                        + "host-gateway", connection.engineLabel(), gateway, network);
            }
        });
    }

    /** Podman's own CPU-weight change ({@code POST /libpod/containers/{id}/update}, Podman 4.3+): null when done. */
    private String libpodCpuShares(String containerId, int shares) {
        DockerConnection.RawResponse r = connection.post("/v4.0.0/libpod/containers/" + containerId + "/update",
                "{\"cpu\":{\"shares\":" + shares + "}}");
        return r.status() / 100 == 2 ? null : "HTTP " + r.status() + " " + r.body().strip();
    }

    /** The tasks whose containers or workspaces {@link #start()} reaped (an earlier process died running them). */
    @Override
    public List<String> leftoverTaskIds() {
        return leftoverTaskIds;
    }

    /**
     * {@code <DOCKER_WORKSPACE_BASE>/<runner>/claims/}: inside the root-owned 0700 runner directory, mounted into no
     * container, skipped by the reaper (it is the scheduler's, not a workspace).
     */
    @Override
    public ClaimJournal claimJournal() {
        return claimJournal;
    }

    /** Docker engine version, e.g. "26.1.5" (after {@link #start()}). */
    public String engineVersion() {
        return connection == null ? null : connection.engineVersion();
    }

    /** The API version spoken with the engine, e.g. "1.45" (after {@link #start()}). */
    public String apiVersion() {
        return connection == null ? null : connection.apiVersion();
    }

    /** True once an endpoint that cannot exec with stdin made every later checkout run in a container of its own. */
    boolean checkoutFallbackInUse() {
        return execUnavailable.get();
    }

    /** Pre-warmed containers ready right now. */
    @Override
    public int readyPoolContainers() {
        return pool == null ? 0 : pool.readyCount();
    }

    /**
     * One task, one path: prepare the source (trusted) → review (untrusted) → judge → report → clean. Only step 1 sees
     * the clone token; the review container reads what it prepared.
     */
    @Override
    public TaskResult execute(ReviewTask task, TaskContext context) {
        if (docker == null || closed.get()) {
            throw new IllegalStateException("the Docker executor is not started or already closed");
        }
        // every finish(ctx, ...) below hands the result over before the finally block's clean-up
        HandOver ctx = new HandOver(context, task.id(), cleaning);
        Instant started = Instant.now();
        Instant deadline = started.plus(ctx.timeout());
        String previousMdc = MDC.get("taskId");
        MDC.put("taskId", task.id());
        ReviewRun run = new ReviewRun(engine(), task, ctx, deadline);
        try {
            // 1. prepare the source (trusted)
            ctx.phase(TaskPhase.PREPARING, "preparing the source");
            String refused = sources.refusal(task);
            if (refused != null) {
                return finish(ctx, started, TaskResult.failure(ErrorKind.CLONE_FAILED, refused), null);
            }
            ctx.phase(TaskPhase.CLONING, "cloning " + SecretMasker.of(task.secrets()).mask(RepositoryUrl.redact(task.repository().url())) + (task.branch() == null ? "" : " branch " + task.branch()));
            RepoCache.Prepared source = sources.prepare(task, deadline, ctx.cancel(), line -> ctx.log(LogStream.SYSTEM, line));
            if (source.lease() == null) {
                return finish(ctx, started, TaskResult.failure(source.failureKind(), source.failure()), null);
            }
            // 2. review (untrusted)
            ReviewRun.Step reviewed = run.review(source.lease());
            // 3. judge
            TaskResult result = reviewed.failure() != null ? reviewed.failure() : judge(task, run.workspace(), reviewed.outcome());
            // 4. report, before the clean-up (HandOver)
            return finish(ctx, started, result, reviewed.outcome() == null ? null : reviewed.outcome().exitCode());
        } catch (ReviewRun.ImageMissing e) {
            return finish(ctx, started, imageMissing(e.missing), null);
        } catch (IOException e) {
            return finish(ctx, started, TaskResult.failure(ErrorKind.EXECUTOR_FAILED,
                    "workspace error: " + SecretMasker.of(task.secrets()).mask(e.getMessage())), null);
        } catch (ExecutorContract.Violation | ContainerVerifier.EngineMismatchException e) {
            LOG.warn("task {}: {}", task.id(), e.getMessage());
            return finish(ctx, started, TaskResult.failure(ErrorKind.EXECUTOR_FAILED, e.getMessage()), null);
        } finally {
            // 5. clean
            ctx.cleaned(run.clean());
            // the task no longer needs the CPU: now the pool may warm a replacement
            if (pool != null) {
                pool.refill();
            }
            if (previousMdc == null) {
                MDC.remove("taskId");
            } else {
                MDC.put("taskId", previousMdc);
            }
            ContainerRunner.restoreInterrupt();
        }
    }

    /** What a task's review step uses of this (started) executor. */
    private ReviewRun.Engine engine() {
        return new ReviewRun.Engine(config, docker, runner, specs, workspaces, pool, diskWatch, verifier, checkout, async,
                connection.engineLabel(), execUnavailable, this::deleteWorkspace);
    }

    /**
     * The executor contract's exit code for "this container does not see the checkout the runner made"
     * (docs/executor-contract.md; the review engine's {@code ReviewExecution.EXIT_CHECKOUT_UNSEEN}).
     */
    static final int EXIT_CHECKOUT_UNSEEN = 5;

    private TaskResult judge(ReviewTask task, Path workspace, ContainerRunner.Outcome review) {
        int exit = review.exitCode() == null ? -1 : review.exitCode();
        if (exit != 0 && review.oomKilled()) {
            return TaskResult.failure(ErrorKind.OOM_KILLED, "the review container was killed for exceeding its memory limit ("
                    + config.memoryBytes() + " bytes, DOCKER_MEMORY_LIMIT), exit code " + exit);
        }
        if (exit == EXIT_CHECKOUT_UNSEEN) {
            return TaskResult.failure(ErrorKind.EXECUTOR_FAILED, "infrastructure failure, not a review: the review container"
                    + " did not see the checkout the runner made (runtime " + (config.runtime() == null ? "default" : config.runtime())
                    + "); the task may be retried: " + ReviewRun.lastLines(review.tail(), task, ReviewRun.MESSAGE_TAIL_LINES));
        }
        if (exit != 0) {
            return TaskResult.failure(ErrorKind.EXECUTOR_FAILED, "the review container exited with code " + exit + ": "
                    + ReviewRun.lastLines(review.tail(), task, ReviewRun.MESSAGE_TAIL_LINES));
        }
        Workspaces.ResultFile file = workspaces.readResult(workspace);
        if (file.result() == null) {
            LOG.warn("task {}: {}", task.id(), file.problem());
            return TaskResult.failure(ErrorKind.EXECUTOR_FAILED, file.problem());
        }
        return file.result();
    }

    private TaskResult imageMissing(NotFoundException e) {
        return TaskResult.failure(ErrorKind.IMAGE_MISSING, "executor image DOCKER_EXECUTOR_IMAGE='" + config.executorImage()
                + "' is not present: " + e.getMessage());
    }

    /** The task's outcome with its execution figures, handed over to {@code ctx} (before the clean-up: {@link HandOver}). */
    static TaskResult finish(TaskContext ctx, Instant started, TaskResult result, Integer exitCode) {
        TaskStats s = result.stats();
        // keeps the review's own figures (tokens, partial) from the result file
        TaskStats stats = s.withExecution(Duration.between(started, Instant.now()).toMillis(), exitCode != null ? exitCode : s.exitCode());
        TaskResult finished = result.withStats(stats);
        if (ctx != null) {
            ctx.report(finished);
        }
        return finished;
    }

    /**
     * Deletes a workspace; when files written by the container user cannot be deleted by this process, deletes its
     * content through a short container running as that user, then the directory itself.
     */
    boolean deleteWorkspace(Path workspace) {
        if (workspaces.delete(workspace)) {
            return true;
        }
        if (docker == null) {
            return false;
        }
        emptyViaContainer(workspace);
        return workspaces.delete(workspace);
    }

    /** Deletes the content of {@code workspace} from inside a short container running as the container user. */
    void emptyViaContainer(Path workspace) {
        String id = null;
        try {
            var cmd = specs.script(docker, workspace, "cleanup", "cleanup", "chmod -R u+rwX /workspace 2>/dev/null; find /workspace -mindepth 1 -delete", List.of());
            cmd.getHostConfig().withNetworkMode("none").withExtraHosts((String[]) null);
            id = cmd.exec().getId();
            ContainerRunner.Outcome outcome = runner.run(id, false, new LogPump((stream, line) ->
                    LOG.debug("cleanup: {}", line)), Instant.now().plus(CLEANUP_TIMEOUT), new CancelSignal());
            LOG.debug("cleanup container for {} ended {} with exit {}", workspace, outcome.end(), outcome.exitCode());
        } catch (RuntimeException e) {
            LOG.warn("cleanup container for {} failed: {}", workspace, e.getMessage());
        } finally {
            if (id != null) {
                runner.remove(id);
            }
        }
    }

    private static ExecutorService asyncCalls() {
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor pool = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 30, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
            Thread t = new Thread(r, "docker-async-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        return pool;
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        async.shutdown();
        if (pool != null) {
            pool.close();
        }
        // the trusted git's helper containers are removed off the tasks' path: the last ones before the stop
        ContainerGit.awaitRemovals(CLEANUP_TIMEOUT);
        if (sources != null) {
            sources.cache().close();
        }
        if (docker != null) {
            workspaces.removeRunnerDirIfEmpty();
        }
        if (diskWatch != null) {
            diskWatch.close();
        }
        if (connection != null) {
            connection.close();
        }
    }
}
