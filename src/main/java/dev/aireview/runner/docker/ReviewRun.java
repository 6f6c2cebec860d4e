package dev.aireview.runner.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.NotFoundException;
import dev.aireview.runner.config.DockerConfig;
import dev.aireview.runner.execution.CancelReason;
import dev.aireview.runner.execution.CancelSignal;
import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.LogStream;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskPhase;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.observability.SecretMasker;
import dev.aireview.runner.source.CachedCheckout;
import dev.aireview.runner.source.RepoCache;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;

/**
 * Step 2, untrusted: the executor image's containers of one task — its review container (pre-warmed, or created for
 * the task with the cache entry mounted read-only) and, where the review container cannot make the checkout itself,
 * a checkout container — read the source step 1 prepared and get no secret. Then its clean-up (step 5).
 */
final class ReviewRun {
    private static final Logger LOG = LoggerFactory.getLogger(ReviewRun.class);

    /**
     * What a task's review step uses of the started executor: its Docker client and helpers, the pool, the workspaces,
     * what the executor image asked of the checkout, and the flag an endpoint that cannot exec sets for every later task.
     */
    record Engine(DockerConfig config, DockerClient docker, ContainerRunner runner, ContainerSpecs specs, Workspaces workspaces,
                  ContainerPool pool, DiskWatch diskWatch, ContainerVerifier verifier, CachedCheckout.Checkout checkout,
                  ExecutorService async, String engineLabel, AtomicBoolean execUnavailable, Predicate<Path> deleteWorkspace) {
    }

    static final int MESSAGE_TAIL_LINES = 10;

    private final DockerConfig config;
    private final DockerClient docker;
    private final ContainerRunner runner;
    private final ContainerSpecs specs;
    private final Workspaces workspaces;
    private final ContainerPool pool;
    private final DiskWatch diskWatch;
    private final ContainerVerifier verifier;
    private final CachedCheckout.Checkout checkout;
    private final ExecutorService async;
    private final String engineLabel;
    private final AtomicBoolean execUnavailable;
    private final Predicate<Path> deleteWorkspace;
    private final CheckoutExec checkoutExec;

    /** How step 2 ended: a failure, or the review container's outcome to judge (step 3). */
    record Step(TaskResult failure, ContainerRunner.Outcome outcome) {
    }

    private final ReviewTask task;
    private final HandOver ctx;
    private final Instant deadline;
    private final CancelSignal cancel;
    /** This task's running containers: what a workspace over DOCKER_WORKSPACE_LIMIT gets killed. */
    private final java.util.Set<String> live = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private RepoCache.Lease lease;
    private Optional<ContainerPool.Pooled> pooled = Optional.empty();
    private Path workspace;
    private String reviewId;
    private String checkoutId;
    private DiskWatch.Watch watch;
    private CompletableFuture<Boolean> checkoutRemoved;
    private CompletableFuture<Void> promoted;
    /** The executor image's entrypoint and command (null: unknown), read while the source is prepared. */
    private final CompletableFuture<List<String>> imageCommand;
    /** The cold review container checks out by itself as it starts ({@link CachedCheckout#WRAPPER}). */
    private boolean selfCheckout;
    /** How a self-checkout ended: its exit code (null while none), and whether the container ended before its task. */
    private volatile Integer selfCheckoutExit;
    private volatile boolean endedBeforeTask;

    ReviewRun(Engine engine, ReviewTask task, HandOver ctx, Instant deadline) {
        this.config = engine.config();
        this.docker = engine.docker();
        this.runner = engine.runner();
        this.specs = engine.specs();
        this.workspaces = engine.workspaces();
        this.pool = engine.pool();
        this.diskWatch = engine.diskWatch();
        this.verifier = engine.verifier();
        this.checkout = engine.checkout();
        this.async = engine.async();
        this.engineLabel = engine.engineLabel();
        this.execUnavailable = engine.execUnavailable();
        this.deleteWorkspace = engine.deleteWorkspace();
        this.checkoutExec = new CheckoutExec(docker, runner, config, () -> execUnavailable.set(true));
        this.task = task;
        this.ctx = ctx;
        this.deadline = deadline;
        this.cancel = ctx.cancel();
        // a task that will likely start cold reads the image's command beside the fetch (a pooled one needs none)
        this.imageCommand = specs.reviewSeesOutsideWrites() && (pool == null || pool.readyCount() == 0)
                ? CompletableFuture.supplyAsync(this::readImageCommand, async) : null;
    }

    /** The task's workspace (null before the review step took one). */
    Path workspace() {
        return workspace;
    }

    Step review(RepoCache.Lease source) throws IOException {
        lease = source;
        takeContainer();
        Step failed = checkOut();
        return failed != null ? failed : runReview();
    }

    /**
     * The task's workspace and review container: a pre-warmed one, or (under a runtime that sees outside writes) a
     * new one with the entry mounted: created now to check out by itself as it starts ({@link CachedCheckout#WRAPPER},
     * started in {@link #runReview}), or, when the image's command is unknown or the settings cannot go as lines,
     * started now, its entrypoint waiting for task.json. Under a sandboxing runtime the review container is created
     * only once the checkout is done ({@link #runReview}).
     */
    private void takeContainer() throws IOException {
        pooled = pool.take();
        if (pooled.isPresent()) {
            workspace = pooled.get().workspace();
            reviewId = pooled.get().containerId();
            watch = pooled.get().watch();
            live.add(reviewId);
            ctx.log(LogStream.SYSTEM, "using pre-warmed container " + ContainerRunner.shortId(reviewId));
            // its CPU weight is raised to a task's while the checkout runs
            String pooledId = reviewId;
            promoted = CompletableFuture.runAsync(() -> pool.promote(pooledId), async);
        } else {
            workspace = workspaces.create(task.id());
            watch = diskWatch == null ? null : diskWatch.watch(workspace, () -> { });
        }
        if (watch != null) {
            // over the limit: kill every container of the task (checkout, review); the task then ends disk_limit
            watch.onExceeded(() -> live.forEach(runner::kill));
        }
        if (reviewId == null && specs.reviewSeesOutsideWrites()) {
            byte[] settings = CachedCheckout.settings(CachedCheckout.env(task, lease, checkout));
            List<String> command = settings == null ? null : imageCommand();
            if (command != null) {
                // created, not started: started once its output is followed (runReview), the checkout beside its entrypoint
                reviewId = createReview(workspace, task.id(), lease, CachedCheckout.wrapped(settings, command));
                selfCheckout = true;
            } else {
                reviewId = startReview(workspace, task.id(), lease);
            }
            live.add(reviewId);
        }
    }

    /** The image's entrypoint and command, as read beside the fetch (or now); null when unknown or empty. */
    private List<String> imageCommand() {
        try {
            return imageCommand == null ? readImageCommand() : imageCommand.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof NotFoundException missing) {
                throw new ImageMissing(missing);
            }
            return null;
        }
    }

    private List<String> readImageCommand() {
        var image = docker.inspectImageCmd(config.executorImage()).exec().getConfig();
        List<String> command = new java.util.ArrayList<>();
        if (image != null && image.getEntrypoint() != null) {
            command.addAll(List.of(image.getEntrypoint()));
        }
        if (image != null && image.getCmd() != null) {
            command.addAll(List.of(image.getCmd()));
        }
        return command.isEmpty() ? null : command;
    }

    /**
     * The checkout into /workspace/repo, token-free and without network: by exec in a review container created for
     * the task (it has the entry mounted); in a pre-warmed one, whose mounts were fixed at its start, by its waiting
     * checkout process from the commits the runner streams to it ({@link StreamedCheckout}); else in a checkout
     * container (a sandboxed review container is created after it; a pre-warmed one gets a self-contained copy). Null
     * when it worked.
     */
    private Step checkOut() {
        if (selfCheckout) {
            return null; // the review container checks out as it starts (runReview)
        }
        ContainerRunner.Outcome out = null;
        boolean inside = false;
        // a pre-warmed container gets the commits streamed to its checkout process (StreamedCheckout), else a checkout container
        StreamedCheckout.Result streamed = pooled.isEmpty() || execUnavailable.get() ? null : new StreamedCheckout(checkoutExec,
                runner, config.cloneDepth()).run(reviewId, pooled.get().standby(), task, lease, checkout, ctx::log, deadline, cancel);
        if (streamed != null && streamed.outcome() == null && streamed.failure() != null) {
            return new Step(streamed.failure(), null);
        }
        out = streamed == null ? null : streamed.outcome();
        inside = out != null;
        if (pooled.isEmpty() && reviewId != null && !execUnavailable.get()) {
            out = checkoutInside();
            inside = out != null;
        }
        if (out == null) {
            out = checkoutContainer();
        }
        String over = overLimit(watch);
        if (over != null) {
            return new Step(TaskResult.failure(ErrorKind.DISK_LIMIT, over + " while cloning; the container was killed"), out);
        }
        if (out.end() != ContainerRunner.End.EXITED) {
            return new Step(interrupted(out, "while cloning"), out);
        }
        if (streamed != null && streamed.failure() != null) {
            return new Step(streamed.failure(), out);
        }
        boolean failed = out.exitCode() == null || out.exitCode() != 0;
        if (failed && inside && !out.oomKilled() && !Integer.valueOf(CachedCheckout.EXIT_NO_GIT).equals(out.exitCode())) {
            // a checkout that failed inside a review container that is no longer running: the image's entrypoint
            // ended before its task (exec answers "cannot exec in a stopped container"), not a checkout failure
            ExecutorContract.requireWaiting(docker, config.executorImage(), reviewId);
        }
        return failed ? checkoutFailed(out.exitCode(), out) : null;
    }

    /**
     * A checkout that ended with {@code exit} (null: unknown) in the container whose outcome is {@code out}: an image
     * without git broke the contract (thrown); otherwise {@code clone_failed} with the checkout's last lines, the cache
     * entry marked for a rebuild unless memory ran out.
     */
    private Step checkoutFailed(Integer exit, ContainerRunner.Outcome out) {
        if (Integer.valueOf(CachedCheckout.EXIT_NO_GIT).equals(exit)) {
            throw ExecutorContract.noGit(config.executorImage());
        }
        if (!out.oomKilled() && exit != null) {
            lease.broken();
        }
        String why = out.oomKilled() ? "the checkout ran out of memory (DOCKER_MEMORY_LIMIT)"
                : lastLines(out.tail(), task, MESSAGE_TAIL_LINES);
        return new Step(TaskResult.failure(ErrorKind.CLONE_FAILED, "clone failed: the checkout from the runner's repository "
                + "cache failed (exit " + exit + "): " + why), out);
    }

    /**
     * The checkout by exec in the running review container. Null when the exec never ran: an endpoint that does not
     * upgrade an exec (some socket proxies answer 200 instead of 101); from then on checkouts get a container of
     * their own, which needs no exec.
     */
    private ContainerRunner.Outcome checkoutInside() {
        return checkoutExec.run(reviewId, "review container", CachedCheckout.env(task, lease, checkout), new LogPump(ctx::log),
                deadline, cancel, null);
    }

    /** The checkout in a checkout container of its own (executor image, network none, default runtime, no secret). */
    private ContainerRunner.Outcome checkoutContainer() {
        List<String> env = pooled.isPresent() ? CachedCheckout.selfContainedEnv(task, lease, checkout, config.cloneDepth())
                : CachedCheckout.env(task, lease, checkout);
        try {
            checkoutId = verifier.create(specs.checkout(docker, workspace, task.id(), env, CachedCheckout.bind(lease)));
        } catch (NotFoundException e) {
            throw new ImageMissing(e);
        }
        live.add(checkoutId);
        ContainerRunner.Outcome out = runner.run(checkoutId, false, new LogPump(ctx::log), deadline, cancel);
        live.remove(checkoutId);
        String exited = checkoutId;
        checkoutId = null;
        checkoutRemoved = CompletableFuture.supplyAsync(() -> runner.remove(exited), async);
        return out;
    }

    /** The review: task.json sets the waiting review container going (or a sandboxed one is created now). */
    private Step runReview() throws IOException {
        if (selfCheckout) {
            return runSelfCheckedOut();
        }
        boolean reviewStarted = reviewId != null;
        if (reviewStarted) {
            // checked before task.json is written: afterwards a fast review may legitimately have ended
            ExecutorContract.requireWaiting(docker, config.executorImage(), reviewId);
        } else {
            // under a sandboxing runtime the review starts after the checkout with its task file already there:
            // created here, started once its output is followed
            workspaces.writeTask(workspace, task.toContainerJson());
            reviewId = createReview(workspace, task.id(), lease, null);
            live.add(reviewId);
        }
        ctx.phase(TaskPhase.REVIEWING, "reviewing in container " + ContainerRunner.shortId(reviewId));
        Path taskDir = workspace;
        ContainerRunner.Outcome review;
        try {
            // the task file sets the started review going: written once its output is followed, so no line is missed
            review = runner.run(reviewId, reviewStarted, new LogPump(ctx::log), deadline, cancel, null,
                    !reviewStarted ? null : () -> writeTaskFile(taskDir));
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        String over = overLimit(watch);
        if (over != null) {
            return new Step(TaskResult.failure(ErrorKind.DISK_LIMIT, over + " during the review; the container was killed"), review);
        }
        if (review.end() != ContainerRunner.End.EXITED) {
            return new Step(interrupted(review, "during the review"), review);
        }
        ctx.phase(TaskPhase.SUBMITTING, "review container exited with code " + review.exitCode());
        return new Step(null, review);
    }

    /**
     * The review of a cold container that checks out by itself ({@link CachedCheckout#WRAPPER}): started once its output
     * is followed; its task file is written once its checkout has ended well. A checkout that failed kills it (the task
     * fails {@code clone_failed} with its last lines); a container that ended before its task broke the contract.
     */
    private Step runSelfCheckedOut() throws IOException {
        Path taskDir = workspace;
        LogPump pump = new LogPump(ctx::log);
        ContainerRunner.Outcome review;
        try {
            review = runner.run(reviewId, false, pump, deadline, cancel, null, () -> startWhenCheckedOut(taskDir, pump));
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        String over = overLimit(watch);
        if (over != null) {
            return new Step(TaskResult.failure(ErrorKind.DISK_LIMIT, over + (selfCheckoutExit == null ? " while cloning"
                    : " during the review") + "; the container was killed"), review);
        }
        Integer exit = selfCheckoutExit;
        if (exit != null && exit != 0) {
            return checkoutFailed(exit, review);
        }
        if (review.end() != ContainerRunner.End.EXITED) {
            return new Step(interrupted(review, exit == null ? "while cloning" : "during the review"), review);
        }
        if (endedBeforeTask) {
            ExecutorContract.requireWaiting(docker, config.executorImage(), reviewId);
        }
        ctx.phase(TaskPhase.SUBMITTING, "review container exited with code " + review.exitCode());
        return new Step(null, review);
    }

    /**
     * Waits (until the deadline, a cancel or the container's end) for the checkout's exit code, then writes the task
     * file (exit 0) or kills the container (any other).
     */
    private void startWhenCheckedOut(Path taskDir, LogPump pump) {
        Integer exit = null;
        while (exit == null && !pump.ended().isDone() && !cancel.isCancelled() && Instant.now().isBefore(deadline)) {
            exit = workspaces.checkoutStatus(taskDir);
            try {
                if (exit == null) {
                    pump.ended().get(5, java.util.concurrent.TimeUnit.MILLISECONDS);
                }
            } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
                // not ended: look again
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        if (exit == null && pump.ended().isDone()) {
            exit = workspaces.checkoutStatus(taskDir); // written just before the container ended
        }
        selfCheckoutExit = exit;
        if (exit != null && exit != 0) {
            runner.kill(reviewId);
            return;
        }
        if (pump.ended().isDone()) {
            endedBeforeTask = true;
            return;
        }
        if (exit == null) {
            return; // cancelled or out of time: the wait that follows ends the container
        }
        ctx.phase(TaskPhase.REVIEWING, "reviewing in container " + ContainerRunner.shortId(reviewId));
        writeTaskFile(taskDir);
    }

    /** Writes the task file from a callback of {@link ContainerRunner#run}: its failure goes out as an UncheckedIOException. */
    private void writeTaskFile(Path taskDir) {
        try {
            workspaces.writeTask(taskDir, task.toContainerJson());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Step 5: the task's containers are removed and its workspace deleted side by side (the containers have exited
     * or been killed; a bind mount does not hold the files), then the cache entry is released. True when all of it
     * went.
     */
    boolean clean() {
        if (watch != null) {
            watch.close();
        }
        pooled.map(ContainerPool.Pooled::standby).ifPresent(StandbyCheckout::close);
        boolean clean = checkoutId == null || runner.remove(checkoutId);
        String toRemove = reviewId;
        CompletableFuture<Boolean> reviewRemoved = toRemove == null ? null
                : CompletableFuture.supplyAsync(() -> runner.remove(toRemove), async);
        if (workspace != null && !deleteWorkspace.test(workspace)) {
            clean = false;
            LOG.warn("workspace {} could not be deleted; the reaper will retry at the next start", workspace);
        }
        clean &= removed(reviewRemoved);
        clean &= removed(checkoutRemoved);
        if (lease != null) {
            lease.close();
        }
        joinQuietly(promoted);
        return clean;
    }

    /** The executor image is not on the engine (a create answered 404). */
    static final class ImageMissing extends RuntimeException {
        final transient NotFoundException missing;

        ImageMissing(NotFoundException missing) {
            super(missing.getMessage(), missing, false, false);
            this.missing = missing;
        }
    }

    /**
     * Creates and starts the review container of a cold task (its entrypoint waits for task.json); its id. Its task is
     * only a checkout away, so it is asked not to warm up ({@code AI_REVIEW_WARM_UP=false}, docs/executor-contract.md):
     * sample reviews would take CPU from the checkout and from the review itself.
     */
    private String startReview(Path workspace, String taskId, RepoCache.Lease source) {
        String id = createReview(workspace, taskId, source, null);
        try {
            docker.startContainerCmd(id).exec();
            return id;
        } catch (RuntimeException e) {
            runner.remove(id);
            throw EngineHints.explain(e, engineLabel);
        }
    }

    /**
     * Creates (does not start) a review container for one task: its entrypoint waits for task.json. The task's cache
     * entry is mounted read-only: it reads the objects and can change nothing.
     */
    private String createReview(Path workspace, String taskId, RepoCache.Lease source, List<String> entrypoint) {
        List<String> env = new java.util.ArrayList<>(ContainerSpecs.reviewEnv());
        env.add("AI_REVIEW_WARM_UP=false");
        var cmd = specs.review(docker, workspace, taskId).withEnv(env);
        if (entrypoint != null) {
            // the image's own entrypoint and command are in it: none is left to add
            cmd.withEntrypoint(entrypoint).withCmd(List.of());
        }
        List<com.github.dockerjava.api.model.Bind> binds = new java.util.ArrayList<>(List.of(cmd.getHostConfig().getBinds()));
        binds.add(CachedCheckout.bind(source));
        cmd.getHostConfig().withBinds(binds);
        try {
            return verifier.create(cmd);
        } catch (NotFoundException e) {
            throw new ImageMissing(e);
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

    /** Why the workspace is over DOCKER_WORKSPACE_LIMIT (measured once more now), or null. */
    static String overLimit(DiskWatch.Watch watch) {
        return watch == null ? null : watch.check();
    }

    static TaskResult interrupted(ContainerRunner.Outcome outcome, String when) {
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

    static String lastLines(List<String> tail, ReviewTask task, int n) {
        List<String> last = tail.subList(Math.max(0, tail.size() - n), tail.size());
        String text = String.join("\n", last).strip();
        return text.isEmpty() ? "(no output)" : SecretMasker.of(task.secrets()).mask(text);
    }
}
