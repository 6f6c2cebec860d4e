package dev.aireview.runner.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.NotFoundException;
import dev.aireview.runner.config.DockerConfig;
import dev.aireview.runner.execution.CancelReason;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The Docker executor: one claimed task becomes a limited, hardened review container that first runs the clone (an
 * exec; a clone container of its own when the clone's network or runtime differs; for a cold task of an http(s) or
 * git:// repository, a checkout from the runner's repository cache, dev.aireview.runner.source) and then the review
 * (docs/executor-contract.md, docs/docker-executor.md), and leaves nothing behind.
 *
 * <p>Life cycle: {@link #start()} connects (negotiating the API version), checks the image against the pull policy,
 * reaps what an earlier run of the same runner left, and fills the pre-warmed pool; {@link #execute} is called
 * concurrently from worker threads; {@link #close()} empties the pool and releases the client.
 */
public final class DockerTaskExecutor implements TaskExecutor {
    private static final Logger LOG = LoggerFactory.getLogger(DockerTaskExecutor.class);
    private static final Duration CLEANUP_TIMEOUT = Duration.ofSeconds(60);
    private static final int MESSAGE_TAIL_LINES = 10;

    private final DockerConfig config;
    private final String maxApiVersion;
    private final DockerConnection.Timeouts timeouts;
    private final Workspaces workspaces;
    private final ContainerSpecs specs;
    private final DiskPressureGuard diskGuard;
    private final Duration diskWatchPeriod;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Set once an exec with stdin could not start (see {@link #execute}): pooled tasks then clone in their own container. */
    private volatile boolean execCloneUnavailable;
    /** Repositories whose last clone failed: their cold tasks clone before any review container exists (issue 18). */
    private final RecentCloneFailures recentCloneFailures = new RecentCloneFailures(RecentCloneFailures.CAPACITY);
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
    /** The runner's repository cache (RUNNER_REPO_CACHE_LIMIT), null when off. */
    private volatile RepoCache repoCache;
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
            repoCache = RepoCache.open(workspaces.runnerDir().resolve(Workspaces.REPO_CACHE_DIR), config.repoCacheLimitBytes(),
                    RepoCache.GitPlace.valueOf(config.repoCacheGit().toUpperCase(java.util.Locale.ROOT)),
                    () -> ContainerGit.open(docker, runner, specs, config));
            leftoverTaskIds = new OrphanReaper(docker, config.runnerName(), workspaces, this::deleteWorkspace, cleaning).reap().taskIds();
            verifier.probe(specs, workspaces);
            WorkspaceMountCheck.verify(docker, specs, runner, workspaces);
            diskWatch = config.workspaceLimitBytes() > 0 ? new DiskWatch(config.workspaceLimitBytes(), diskWatchPeriod) : null;
            LOG.info("workspace size: {}", diskWatch == null ? "DOCKER_WORKSPACE_LIMIT=0, not limited" : diskWatch.describe());
            int poolSize = config.poolSize();
            if (poolSize > 0 && !specs.reviewSeesOutsideWrites()) {
                LOG.warn("DOCKER_POOL_SIZE={} is not used with DOCKER_RUNTIME={}: a sandbox started before its clone may see the"
                        + " checkout only in part, so each review container starts after its clone has finished", poolSize,
                        config.runtime());
                poolSize = 0;
            }
            pool = new ContainerPool(docker, specs, workspaces, runner, this::deleteWorkspace, poolSize, diskWatch);
            pool.useVerifier(verifier);
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

    /** True once an endpoint that cannot exec with stdin made every later clone run in a container of its own. */
    boolean cloneFallbackInUse() {
        return execCloneUnavailable;
    }

    /** Pre-warmed containers ready right now. */
    @Override
    public int readyPoolContainers() {
        return pool == null ? 0 : pool.readyCount();
    }

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
        Optional<ContainerPool.Pooled> pooled = Optional.empty();
        Path workspace = null;
        String reviewId = null;
        String cloneId = null;
        DiskWatch.Watch watch = null;
        // this task's running containers: what a workspace over DOCKER_WORKSPACE_LIMIT gets killed
        java.util.Set<String> live = java.util.concurrent.ConcurrentHashMap.newKeySet();
        CompletableFuture<String> earlyReview = null;
        CompletableFuture<Boolean> cloneRemoved = null;
        CompletableFuture<Void> promoted = null;
        RepoCache.Lease source = null;
        try {
            ctx.phase(TaskPhase.PREPARING, "preparing the workspace");
            pooled = pool.take();
            if (pooled.isPresent()) {
                workspace = pooled.get().workspace();
                reviewId = pooled.get().containerId();
                watch = pooled.get().watch();
                ctx.log(LogStream.SYSTEM, "using pre-warmed container " + ContainerRunner.shortId(reviewId));
            } else {
                workspace = workspaces.create(task.id());
                watch = diskWatch == null ? null : diskWatch.watch(workspace, () -> { });
            }
            if (reviewId != null) {
                live.add(reviewId);
            }
            if (watch != null) {
                // over the limit: kill every container of the task (clone, review); the task then ends disk_limit
                watch.onExceeded(() -> live.forEach(runner::kill));
            }
            CancelSignal cancel = ctx.cancel();

            List<String> problems = GitClone.validate(task, config.cloneDepth());
            if (!problems.isEmpty()) {
                return finish(ctx, started, TaskResult.failure(ErrorKind.CLONE_FAILED,
                        "refusing to clone: " + String.join("; ", problems)), null);
            }
            ctx.phase(TaskPhase.CLONING, "cloning " + SecretMasker.of(task.secrets()).mask(RepositoryUrl.redact(task.repository().url()))
                    + (task.branch() == null ? "" : " branch " + task.branch()));
            if (reviewId != null) {
                // pre-warmed: its CPU weight is raised to a task's while the clone runs
                String pooledId = reviewId;
                promoted = CompletableFuture.runAsync(() -> pool.promote(pooledId), async);
            }
            ContainerRunner.Outcome clone = null;
            boolean cloneInReview = specs.cloneFitsReviewContainer() && !execCloneUnavailable;
            if (reviewId == null && cloneInReview && repoCache != null && repoCache.accepts(task)) {
                // trusted: the runner fetches into its cache with the task's credentials; the review container only
                // reads the entry (read-only mount) and gets no token
                RepoCache.Prepared prepared = repoCache.prepare(task, config.cloneDepth(), deadline, cancel,
                        line -> ctx.log(LogStream.SYSTEM, line));
                if (prepared.lease() == null) {
                    return finish(ctx, started, TaskResult.failure(prepared.failureKind(), prepared.failure()), null);
                }
                source = prepared.lease();
            }
            // a repository whose last clone failed: cloned first in a container of its own, the review container
            // created only after a successful clone, so a repeated failure costs one container (issue 18)
            String url = task.repository() == null ? null : task.repository().url();
            boolean cloneFirst = reviewId == null && source == null && recentCloneFailures.failedRecently(url);
            if (reviewId == null && cloneInReview && !cloneFirst) {
                // cold: the review container is started first (its entrypoint waits for task.json) and the clone runs
                // inside it, as in a pre-warmed one: one container per task instead of a clone container beside it
                try {
                    reviewId = startReview(workspace, task.id(), source);
                } catch (NotFoundException e) {
                    return finish(ctx, started, imageMissing(e), null);
                }
                live.add(reviewId);
            }
            boolean clonedInside = false;
            if (reviewId != null && cloneInReview) {
                clone = source != null ? checkoutFromCache(reviewId, task, source, ctx, deadline, cancel)
                        : cloneInside(reviewId, task, ctx, deadline, cancel);
                clonedInside = clone != null;
            }
            if (clone == null) {
                // its own container: a clone network / runtime other than the review's, or an endpoint without exec
                if (reviewId == null && specs.reviewSeesOutsideWrites() && !cloneFirst) {
                    // cold: the review container is created and started while the clone runs; its entrypoint waits
                    // for task.json like a pooled one, so its start-up is off the critical path (not under a
                    // sandboxing runtime: it starts after the clone, below, so that it sees the finished checkout)
                    Path reviewWorkspace = workspace;
                    earlyReview = CompletableFuture.supplyAsync(() -> {
                        String id = startReview(reviewWorkspace, task.id(), null);
                        live.add(id);
                        return id;
                    }, async);
                }
                try {
                    // secrets go on stdin, never into the container's configuration
                    cloneId = verifier.create(specs.clone(docker, workspace, task.id(), GitClone.env(task, config.cloneDepth()))
                            .withAttachStdin(true).withStdinOpen(true).withStdInOnce(true));
                } catch (NotFoundException e) {
                    return finish(ctx, started, imageMissing(e), null);
                }
                live.add(cloneId);
                clone = runner.run(cloneId, false, new LogPump(ctx::log), deadline, cancel, GitClone.stdin(task));
                live.remove(cloneId);
                String exited = cloneId;
                cloneId = null;
                cloneRemoved = CompletableFuture.supplyAsync(() -> runner.remove(exited), async);
            }
            String over = overLimit(watch);
            if (over != null) {
                return finish(ctx, started, TaskResult.failure(ErrorKind.DISK_LIMIT, over + " while cloning; the container was killed"),
                        clone.exitCode());
            }
            if (clone.end() != ContainerRunner.End.EXITED) {
                return finish(ctx, started, interrupted(clone, "while cloning"), clone.exitCode());
            }
            if (clonedInside && !clone.oomKilled() && (clone.exitCode() == null || clone.exitCode() != 0)) {
                // a clone that failed inside a review container that is no longer running: the image's entrypoint
                // ended before its task (exec answers "cannot exec in a stopped container"), not a clone failure
                ExecutorContract.requireWaiting(docker, config.executorImage(), reviewId);
            }
            if (source == null && !clone.oomKilled()) {
                if (clone.exitCode() == null || clone.exitCode() != 0) {
                    recentCloneFailures.failed(url);
                } else {
                    recentCloneFailures.succeeded(url);
                }
            }
            if (clone.exitCode() == null || clone.exitCode() != 0) {
                String why = clone.oomKilled() ? "the clone ran out of memory (DOCKER_MEMORY_LIMIT)"
                        : lastLines(clone.tail(), task, MESSAGE_TAIL_LINES);
                return finish(ctx, started, TaskResult.failure(ErrorKind.CLONE_FAILED,
                        "clone failed (exit " + clone.exitCode() + "): " + why), clone.exitCode());
            }

            boolean reviewStarted = true;
            if (reviewId == null && earlyReview != null) {
                try {
                    reviewId = earlyReview.join();
                } catch (CompletionException e) {
                    if (e.getCause() instanceof NotFoundException nf) {
                        return finish(ctx, started, imageMissing(nf), null);
                    }
                    throw e.getCause() instanceof RuntimeException r ? r : e;
                } finally {
                    earlyReview = null;
                }
            }
            if (reviewId != null) {
                // checked before task.json is written: afterwards a fast review may legitimately have ended
                ExecutorContract.requireWaiting(docker, config.executorImage(), reviewId);
            }
            if (reviewId == null) {
                // under a sandboxing runtime the review starts after the clone with its task file already there:
                // created here, started once its output is followed
                workspaces.writeTask(workspace, task.toContainerJson());
                try {
                    reviewId = createReview(workspace, task.id(), null);
                } catch (NotFoundException e) {
                    return finish(ctx, started, imageMissing(e), null);
                }
                live.add(reviewId);
                reviewStarted = false;
            }
            ctx.phase(TaskPhase.REVIEWING, "reviewing in container " + ContainerRunner.shortId(reviewId));
            LogPump pump = new LogPump(ctx::log);
            // the task file sets the started review going: written once its output is followed, so no line is missed
            Path taskDir = workspace;
            ContainerRunner.Outcome review;
            try {
                review = runner.run(reviewId, reviewStarted, pump, deadline, cancel, null, !reviewStarted ? null : () -> {
                    try {
                        workspaces.writeTask(taskDir, task.toContainerJson());
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
            over = overLimit(watch);
            if (over != null) {
                return finish(ctx, started, TaskResult.failure(ErrorKind.DISK_LIMIT, over + " during the review; the container was killed"),
                        review.exitCode());
            }
            if (review.end() != ContainerRunner.End.EXITED) {
                return finish(ctx, started, interrupted(review, "during the review"), review.exitCode());
            }
            ctx.phase(TaskPhase.SUBMITTING, "review container exited with code " + review.exitCode());
            return finish(ctx, started, judge(task, workspace, review), review.exitCode());
        } catch (IOException e) {
            return finish(ctx, started, TaskResult.failure(ErrorKind.EXECUTOR_FAILED,
                    "workspace error: " + SecretMasker.of(task.secrets()).mask(e.getMessage())), null);
        } catch (ExecutorContract.Violation | ContainerVerifier.EngineMismatchException e) {
            LOG.warn("task {}: {}", task.id(), e.getMessage());
            return finish(ctx, started, TaskResult.failure(ErrorKind.EXECUTOR_FAILED, e.getMessage()), null);
        } finally {
            if (watch != null) {
                watch.close();
            }
            boolean clean = cloneId == null || runner.remove(cloneId);
            if (reviewId == null && earlyReview != null) {
                reviewId = startedOrNull(earlyReview);
            }
            // the review container's removal and the workspace's deletion run side by side (the container has
            // exited or been killed; its bind mount does not hold the files)
            String toRemove = reviewId;
            CompletableFuture<Boolean> reviewRemoved = toRemove == null ? null
                    : CompletableFuture.supplyAsync(() -> runner.remove(toRemove), async);
            if (workspace != null && !deleteWorkspace(workspace)) {
                clean = false;
                LOG.warn("workspace {} could not be deleted; the reaper will retry at the next start", workspace);
            }
            clean &= removed(reviewRemoved);
            if (source != null) {
                source.close();
            }
            clean &= removed(cloneRemoved);
            joinQuietly(promoted);
            ctx.cleaned(clean);
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

    /**
     * Runs the clone inside the running review container {@code reviewId} (same image, limits, user; no container
     * create/start), its secrets on the exec's stdin. Null when the exec never ran: an endpoint that does not upgrade
     * an exec with stdin (some socket proxies answer 200 instead of 101); from then on the clone gets a container of
     * its own, which needs no exec.
     */
    private ContainerRunner.Outcome cloneInside(String reviewId, ReviewTask task, TaskContext ctx, Instant deadline,
                                                CancelSignal cancel) {
        List<String> env = new java.util.ArrayList<>(GitClone.env(task, config.cloneDepth()));
        env.add("HOME=/tmp");
        ContainerRunner.Outcome clone;
        try {
            clone = runner.exec(reviewId, config.user(), GitClone.SCRIPT, env, new LogPump(ctx::log),
                    deadline, cancel, GitClone.stdin(task));
        } catch (RuntimeException e) {
            // the exec refused because the container ended (Docker: 409 "container ... is not running"; Podman 4.3:
            // 500 "can only create exec sessions on running containers"): the image broke the contract. Anything else
            // while the container runs is the engine's to explain
            ExecutorContract.requireWaiting(docker, config.executorImage(), reviewId);
            throw e;
        }
        if (clone.end() == ContainerRunner.End.EXITED && clone.exitCode() == null && ExecutorContract.isRunning(docker, reviewId)) {
            // the container runs and the exec has no exit code: the endpoint did not upgrade the exec (the engine's
            // cause: clone beside it). A container that ended is the image's cause: judged by the caller (contract)
            execCloneUnavailable = true;
            LOG.warn("the Docker endpoint at DOCKER_HOST did not run the clone inside the running review container {} "
                    + "(an exec with stdin ended without an exit code: the endpoint does not upgrade it, as some socket proxies "
                    + "do not); this and every later task clone in a container of their own", ContainerRunner.shortId(reviewId));
            return null;
        }
        return clone;
    }

    /**
     * The clone of a cold task whose repository the runner fetched into its cache: a checkout inside the review
     * container from the read-only entry (no network, no token). A checkout that fails marks the entry broken.
     */
    private ContainerRunner.Outcome checkoutFromCache(String reviewId, ReviewTask task, RepoCache.Lease source, TaskContext ctx,
                                                      Instant deadline, CancelSignal cancel) {
        ContainerRunner.Outcome clone = runner.exec(reviewId, config.user(), CachedCheckout.SCRIPT, CachedCheckout.env(task, source, checkout),
                new LogPump(ctx::log), deadline, cancel);
        if (clone.end() == ContainerRunner.End.EXITED && clone.exitCode() != null && clone.exitCode() != 0 && !clone.oomKilled()) {
            source.broken();
        }
        return clone;
    }

    /**
     * Creates and starts the review container of a cold task (its entrypoint waits for task.json); its id. Its task is
     * only a clone away, so it is asked not to warm up ({@code AI_REVIEW_WARM_UP=false}, docs/executor-contract.md):
     * sample reviews would take CPU from the clone and from the review itself.
     */
    private String startReview(Path workspace, String taskId, RepoCache.Lease source) {
        String id = createReview(workspace, taskId, source);
        try {
            docker.startContainerCmd(id).exec();
            return id;
        } catch (RuntimeException e) {
            runner.remove(id);
            throw EngineHints.explain(e, connection.engineLabel());
        }
    }

    /**
     * Creates (does not start) a cold review container: its entrypoint waits for task.json. With a repository cache
     * entry, the entry is mounted read-only: it reads the objects and can change nothing.
     */
    private String createReview(Path workspace, String taskId, RepoCache.Lease source) {
        List<String> env = new java.util.ArrayList<>(ContainerSpecs.reviewEnv());
        env.add("AI_REVIEW_WARM_UP=false");
        var cmd = specs.review(docker, workspace, taskId).withEnv(env);
        if (source != null) {
            List<com.github.dockerjava.api.model.Bind> binds = new java.util.ArrayList<>(List.of(cmd.getHostConfig().getBinds()));
            binds.add(CachedCheckout.bind(source));
            cmd.getHostConfig().withBinds(binds);
        }
        return verifier.create(cmd);
    }

    /** The id of an early-started review container, or null when its start failed (it then removed itself). */
    private static String startedOrNull(CompletableFuture<String> start) {
        try {
            return start.join();
        } catch (CompletionException | java.util.concurrent.CancellationException e) {
            return null;
        }
    }

    /** Whether a background container removal succeeded (true when there was none). */
    private static boolean removed(CompletableFuture<Boolean> removal) {
        if (removal == null) {
            return true;
        }
        try {
            return removal.join();
        } catch (CompletionException | java.util.concurrent.CancellationException e) {
            LOG.debug("background Docker call failed: {}", e.getMessage());
            return false;
        }
    }

    private static void joinQuietly(CompletableFuture<?> f) {
        if (f != null) {
            try {
                f.join();
            } catch (CompletionException | java.util.concurrent.CancellationException e) {
                LOG.debug("background Docker call failed: {}", e.getMessage());
            }
        }
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
                    + "); the task may be retried: " + lastLines(review.tail(), task, MESSAGE_TAIL_LINES));
        }
        if (exit != 0) {
            return TaskResult.failure(ErrorKind.EXECUTOR_FAILED, "the review container exited with code " + exit + ": "
                    + lastLines(review.tail(), task, MESSAGE_TAIL_LINES));
        }
        Workspaces.ResultFile file = workspaces.readResult(workspace);
        if (file.result() == null) {
            LOG.warn("task {}: {}", task.id(), file.problem());
            return TaskResult.failure(ErrorKind.EXECUTOR_FAILED, file.problem());
        }
        return file.result();
    }

    /** Why the workspace is over DOCKER_WORKSPACE_LIMIT (measured once more now), or null. */
    private static String overLimit(DiskWatch.Watch watch) {
        return watch == null ? null : watch.check();
    }

    private static TaskResult interrupted(ContainerRunner.Outcome outcome, String when) {
        if (outcome.end() == ContainerRunner.End.LOST) {
            // an infrastructure failure, not the review's doing: runner_shutdown asks the server to retry the task
            return TaskResult.failure(ErrorKind.RUNNER_SHUTDOWN, outcome.lost() + " " + when
                    + "; the container was killed (an infrastructure failure: the task may be retried)");
        }
        if (outcome.end() == ContainerRunner.End.TIMED_OUT) {
            return TaskResult.failure(ErrorKind.TIMEOUT, "the task ran out of its wall time " + when + "; the container was killed");
        }
        CancelReason reason = outcome.cancelReason() == null ? CancelReason.RUNNER_SHUTDOWN : outcome.cancelReason();
        return TaskResult.failure(reason.errorKind(), "cancelled " + when + " (" + reason.name().toLowerCase() + ")");
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

    private static String lastLines(List<String> tail, ReviewTask task, int n) {
        List<String> last = tail.subList(Math.max(0, tail.size() - n), tail.size());
        String text = String.join("\n", last).strip();
        return text.isEmpty() ? "(no output)" : SecretMasker.of(task.secrets()).mask(text);
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
