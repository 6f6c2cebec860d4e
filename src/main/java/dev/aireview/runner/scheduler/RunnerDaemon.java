package dev.aireview.runner.scheduler;

import dev.aireview.runner.config.RunnerConfig;
import dev.aireview.runner.execution.CancelReason;
import dev.aireview.runner.execution.CancelSignal;
import dev.aireview.runner.execution.ClaimJournal;
import dev.aireview.runner.execution.TaskExecutor;
import dev.aireview.runner.observability.HealthReport;
import dev.aireview.runner.observability.RunnerMetrics;
import dev.aireview.runner.observability.RunnerVersion;
import dev.aireview.runner.observability.SecretMasker;
import dev.aireview.runner.observability.Secrets;
import dev.aireview.runner.server.ClaimedTask;
import dev.aireview.runner.server.ErrorClass;
import dev.aireview.runner.server.Heartbeat;
import dev.aireview.runner.server.HttpServerClient;
import dev.aireview.runner.server.MaskingServerClient;
import dev.aireview.runner.server.Registration;
import dev.aireview.runner.server.Retrier;
import dev.aireview.runner.server.RunnerStatus;
import dev.aireview.runner.server.ServerClient;
import dev.aireview.runner.server.ServerException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The runner: wires the slot pool, the poll loop, a fixed pool of {@code maxConcurrentJobs} workers, the
 * heartbeater and the shutdown sequence around a {@link TaskExecutor} and a {@link ServerClient}.
 *
 * <p>Start-up ({@link #start()}): {@code executor.start()} → health → register → heartbeater + poll loop; the tasks an
 * earlier process owed a result (the executor's leftovers and the claim journal, {@link #leftoverIds}) are reported
 * {@code failed/runner_shutdown} in the background once registered, while the poll loop claims ({@link LeftoverReports}).
 * Connection problems are retried with backoff for as long as the runner lives; a refused token (401/403)
 * or an executor that cannot start is a {@link StartupException}.
 *
 * <p>Its life cycle is one {@link RunnerState} ({@link #state()}): starting → running → draining → cancelling →
 * stopped, moving only forward. Shutdown ({@link #stopGracefully()}) is the {@link ShutdownCoordinator}'s named steps,
 * each under its own deadline: stop claiming (heartbeat {@code busy} + {@code draining: true}), drain (shutdown grace), cancel ({@code runner_shutdown}), flush
 * results, go offline, close the executor. {@link #stopNow()} (a second signal) cancels at once.
 * The threads involved are listed in this package's {@code package-info.java}.
 */
public final class RunnerDaemon {
    private static final Logger log = LoggerFactory.getLogger(RunnerDaemon.class);
    static final String WORKER_THREAD = "task-worker";

    private final RunnerConfig config;
    private final TaskExecutor executor;
    private final ServerClient client;
    private final SchedulerSettings settings;
    private final SlotPool slots;
    private final ActiveTasks active;
    private final ClaimJournal journal;
    private final RunnerRegistrar registrar;
    private final Heartbeater heartbeater;
    private final PollLoop pollLoop;
    private final ThreadPoolExecutor workers;
    private final TaskSupervisor supervisor;
    private final Retrier startupRetrier;
    private final ClaimPause claimPause;

    private final RunnerMetrics metrics;
    private final Lifecycle lifecycle = new Lifecycle();
    private final ShutdownCoordinator shutdown;
    private final LeftoverReports leftovers;
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean shutdownBegun = new AtomicBoolean();

    /**
     * @param client          every call but the heartbeat
     * @param heartbeatClient the heartbeat (its own connections, so it never waits behind a held poll)
     */
    public RunnerDaemon(RunnerConfig config, TaskExecutor executor, ServerClient client, ServerClient heartbeatClient,
                        Registration registration, SchedulerSettings settings) {
        this(config, executor, client, heartbeatClient, registration, settings, RunnerMetrics.NOOP);
    }

    /**
     * @param client          every call but the heartbeat
     * @param heartbeatClient the heartbeat (its own connections, so it never waits behind a held poll)
     * @param metrics         what the scheduler records ({@link RunnerMetrics#NOOP} for none); its gauges are bound here
     */
    public RunnerDaemon(RunnerConfig config, TaskExecutor executor, ServerClient client, ServerClient heartbeatClient,
                        Registration registration, SchedulerSettings settings, RunnerMetrics metrics) {
        client = MaskingServerClient.wrap(client); // everything sent goes through the one masking boundary
        heartbeatClient = MaskingServerClient.wrap(heartbeatClient);
        metrics = RunnerMetrics.guarded(metrics);
        this.metrics = metrics;
        this.config = config;
        this.executor = executor;
        this.client = client;
        this.settings = settings;
        this.slots = new SlotPool(config.maxConcurrentJobs());
        this.journal = executor.claimJournal();
        this.active = new ActiveTasks(journal);
        this.startupRetrier = new Retrier(settings.backoff(), settings.sleeper());
        this.registrar = new RunnerRegistrar(client, registration, startupRetrier);
        this.heartbeater = new Heartbeater(heartbeatClient, registrar, this::heartbeatState, active,
                config.heartbeatInterval(), settings.clock(), metrics);
        this.workers = new ThreadPoolExecutor(config.maxConcurrentJobs(), config.maxConcurrentJobs(), 0, TimeUnit.MILLISECONDS,
                new LinkedBlockingQueue<>(), new NamedThreadFactory(WORKER_THREAD, metrics));
        ResultSender results = new ResultSender(client, registrar, settings.backoff(), settings.sleeper(),
                this::resultsMayRetry, metrics, journal);
        this.leftovers = new LeftoverReports(results, active::known, LeftoverReports.ATTEMPTS);
        this.supervisor = new TaskSupervisor(executor, client, registrar::runnerId, active, results, settings,
                config.docker() == null ? Duration.ofSeconds(600) : config.docker().timeout(), config.logLimitBytes(),
                SecretMasker.of(List.of(config.token())), metrics);
        this.claimPause = new ClaimPause(executor.claimGate());
        this.pollLoop = new PollLoop(client, registrar, slots, active, this::dispatch, this::runHere, config.pollInterval(),
                config.pollWait(), settings.backoff(), settings.sleeper(), settings.random(), metrics, claimPause);
        this.shutdown = new ShutdownCoordinator(lifecycle, config, settings, pollLoop, heartbeater, active, slots, executor, workers);
        int pooled = executor.readyPoolContainers();
        metrics.bind(new RunnerMetrics.Gauges(config.maxConcurrentJobs(), this::busySlots,
                () -> config.maxConcurrentJobs() - busySlots(), this::secondsSinceHeartbeat,
                pooled < 0 ? null : executor::readyPoolContainers, leftovers::pending));
    }

    /** The production daemon: HTTP clients from the config, default settings, no metrics. */
    public static RunnerDaemon create(RunnerConfig config, TaskExecutor executor) {
        return create(config, executor, RunnerMetrics.NOOP);
    }

    /** The production daemon: HTTP clients from the config, default settings, recording to {@code metrics}. */
    public static RunnerDaemon create(RunnerConfig config, TaskExecutor executor, RunnerMetrics metrics) {
        SchedulerSettings settings = SchedulerSettings.defaults();
        ServerClient client = new HttpServerClient(config.serverUrl(), config.token(), config.requestTimeout(), config.pollTimeout(), settings.clock());
        ServerClient hb = new HttpServerClient(config.serverUrl(), config.token(), config.requestTimeout(), config.pollTimeout(), settings.clock());
        return new RunnerDaemon(config, executor, client, hb, registration(config), settings, metrics);
    }

    /** What the runner tells the server about itself. */
    public static Registration registration(RunnerConfig config) {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            host = System.getenv().getOrDefault("HOSTNAME", "unknown");
        }
        return new Registration(config.runnerId(), config.name(), RunnerVersion.get(), config.maxConcurrentJobs(), config.tags(),
                host, System.getProperty("os.name") + " " + System.getProperty("os.version") + " (" + System.getProperty("os.arch") + ")",
                null, config.docker() == null ? null : config.docker().executorImage());
    }

    /**
     * Starts the runner; returns once it is registered and claiming. Blocks while the server is unreachable
     * (retrying with backoff) unless a stop is requested meanwhile (then it stops the runner and returns).
     */
    public void start() throws StartupException, InterruptedException {
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("already started");
        }
        Secrets.register(config.token());
        log.info("starting runner {} ({}), {} slot(s), server {}", config.name(), RunnerVersion.userAgent(), config.maxConcurrentJobs(), config.serverUrl());
        List<String> leftoverIds;
        try {
            executor.start();
            registrar.describeEngine(executor.engineVersion(), executor.apiVersion());
            leftoverIds = leftoverIds(executor.leftoverTaskIds(), journal.list());
        } catch (Exception e) {
            failStart();
            throw new StartupException("the executor could not start: " + e.getMessage(), e);
        }
        try {
            startupRetrier.run(Retrier.policy("health check of " + config.serverUrl()).keepGoing(this::stillStarting), () -> {
                client.health();
                return null;
            }).orThrow();
            startupRetrier.run(Retrier.policy("register").keepGoing(this::stillStarting), () -> {
                registrar.register();
                return null;
            }).orThrow();
        } catch (ServerException e) {
            if (!stillStarting() && e.errorClass() == ErrorClass.RETRYABLE) {
                log.info("stopped before the runner could register");
                finishStopDuringStart();
                return;
            }
            failStart();
            if (e.errorClass() == ErrorClass.UNAUTHORIZED) {
                throw new StartupException("the server refused the runner token (HTTP " + e.httpStatus() + " on "
                        + e.call().name().toLowerCase() + "): check RUNNER_TOKEN", e);
            }
            throw new StartupException(e.getMessage(), e);
        } catch (InterruptedException e) {
            failStart();
            throw e;
        }
        log.info("registered as runner {}", registrar.runnerId());
        boolean running = lifecycle.moveIf(RunnerState.STARTING, RunnerState.RUNNING, () -> {
            heartbeater.start();
            List<String> owed = leftovers.expect(leftoverIds);
            owed.forEach(journal::record); // a reaped task not in the journal is kept for the next start too
            if (owed.isEmpty()) {
                startClaiming();
            } else {
                // in the background: a server that refuses them (or is slow) must not keep the runner from claiming.
                // The reports get a head start, though: a poll racing them could be handed one of those tasks again
                // (re-queued by the server's heartbeat timeout) just before its restart report reaches the server,
                // which would then end that new attempt as runner_shutdown while this process runs it.
                CountDownLatch reported = new CountDownLatch(1);
                NamedThreadFactory threads = new NamedThreadFactory("leftover-reports", metrics);
                threads.newThread(() -> {
                    try {
                        leftovers.report(owed);
                    } finally {
                        reported.countDown();
                    }
                }).start();
                threads.newThread(() -> {
                    try {
                        if (!reported.await(leftoverHeadStart().toMillis(), TimeUnit.MILLISECONDS)) {
                            log.warn("leftover reports still going after {} ms; claiming meanwhile", leftoverHeadStart().toMillis());
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    startClaiming(); // nothing when the runner stopped meanwhile
                }).start();
            }
        });
        if (!running) {
            finishStopDuringStart();
        }
    }

    /**
     * The tasks an earlier process owed a result: those whose leftovers the executor removed, and those still in the
     * claim journal (claimed, result never delivered: killed before a container existed, while a pre-warmed one
     * cloned, or while delivering). Each once; read before the first poll, so no task of this process is among them.
     */
    static List<String> leftoverIds(List<String> reaped, List<String> journaled) {
        LinkedHashSet<String> ids = new LinkedHashSet<>(reaped);
        ids.addAll(journaled);
        if (!journaled.isEmpty()) {
            log.info("claim journal: {} task(s) claimed by an earlier process of this runner without a delivered result: {}",
                    journaled.size(), journaled);
        }
        return List.copyOf(ids);
    }

    /** Result deliveries retry until the shutdown's flush step gives up. */
    private boolean resultsMayRetry() {
        return shutdown.resultsMayRetry();
    }

    private boolean stillStarting() {
        return lifecycle.current() == RunnerState.STARTING;
    }

    /** Start-up failed: close the executor; the runner is stopped. */
    private void failStart() {
        closeExecutorQuietly();
        lifecycle.moveTo(RunnerState.CANCELLING);
        lifecycle.moveTo(RunnerState.STOPPED);
    }

    /** A stop came while starting (the state is cancelling): the coordinator finishes it on this thread. */
    private void finishStopDuringStart() {
        if (shutdownBegun.compareAndSet(false, true)) {
            shutdown.run();
        }
    }

    private void closeExecutorQuietly() {
        try {
            executor.close();
        } catch (RuntimeException e) {
            log.warn("executor close failed: {}", e.getMessage());
        }
    }

    /** Begins the graceful stop on a background thread; a second call escalates to {@link #stopNow()}. */
    public void stopGracefully() {
        if (lifecycle.moveIf(RunnerState.RUNNING, RunnerState.DRAINING, null)) {
            beginShutdown();
            return;
        }
        if (lifecycle.moveIf(RunnerState.STARTING, RunnerState.CANCELLING, null)) {
            log.info("stop requested while starting");
            return;
        }
        stopNow();
    }

    /** Cancels every running task at once (runner_shutdown) and finishes the stop. */
    public void stopNow() {
        if (lifecycle.moveIf(RunnerState.STARTING, RunnerState.CANCELLING, null)) {
            log.info("stop requested while starting");
            return;
        }
        boolean fromRunning = lifecycle.moveIf(RunnerState.RUNNING, RunnerState.CANCELLING, null);
        boolean fromDraining = !fromRunning && lifecycle.moveIf(RunnerState.DRAINING, RunnerState.CANCELLING, null);
        if (fromDraining) {
            log.warn("second stop request: cancelling running tasks now");
        }
        if (fromRunning || fromDraining) {
            active.cancelAllFromNowOn(CancelReason.RUNNER_SHUTDOWN);
            active.wakeUp();
            slots.wakeUp();
        }
        if (fromRunning) {
            beginShutdown();
        }
    }

    private void beginShutdown() {
        if (!shutdownBegun.compareAndSet(false, true)) {
            return;
        }
        Thread t = new Thread(shutdown::run, "runner-shutdown");
        t.setDaemon(false);
        t.start();
    }

    /** The current life-cycle state. */
    public RunnerState state() {
        return lifecycle.current();
    }

    /** A test seam: another deadline for one shutdown step ({@link ShutdownCoordinator} names). */
    void overrideShutdownDeadline(String step, Duration deadline) {
        shutdown.overrideDeadline(step, deadline);
    }

    /** How each shutdown step ended (empty before the runner stopped). */
    List<ShutdownCoordinator.StepReport> shutdownReport() {
        return shutdown.reports();
    }

    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        return lifecycle.awaitStopped(timeout);
    }

    /** Whether a stop was requested (or has happened). */
    public boolean isStopping() {
        return lifecycle.current().isStopping();
    }

    public boolean isTerminated() {
        return lifecycle.isStopped();
    }

    public String runnerId() {
        return registrar.runnerId();
    }

    /** Running task ids (as the heartbeat reports them). */
    public List<String> runningTaskIds() {
        return active.ids();
    }

    /** Time of the last heartbeat the server accepted; null before the first one. */
    public Instant lastSuccessfulHeartbeat() {
        return heartbeater.lastSuccess();
    }


    /**
     * The state {@code GET /health} reports. Healthy once registered while the last successful heartbeat is
     * younger than 3 heartbeat intervals plus the request timeout (a server outage longer than that makes the
     * runner unhealthy, so an orchestrator can tell); a stopped runner is not healthy.
     */
    public HealthReport health() {
        Instant now = settings.clock().instant();
        Instant last = heartbeater.lastSuccess();
        long age = last == null ? -1 : Math.max(0, Duration.between(last, now).toMillis());
        long staleAfter = config.heartbeatInterval().multipliedBy(3).plus(config.requestTimeout()).toMillis();
        RunnerState state = lifecycle.current();
        boolean registered = lifecycle.wasRunning();
        String status;
        String reason = null;
        if (isTerminated()) {
            status = "stopped";
            reason = "the runner has stopped";
        } else if (!registered) {
            status = "starting";
            reason = "not registered with the server yet";
        } else {
            status = heartbeatState().healthStatus();
            if (state == RunnerState.RUNNING && pollLoop.hasDied()) {
                reason = "the poll loop is not running: no tasks are claimed";
            } else if (state == RunnerState.RUNNING && !pollLoop.isAlive()) {
                reason = "the poll loop has not started: no tasks are claimed";
            } else if (last == null) {
                reason = "no successful heartbeat yet";
            } else if (age > staleAfter) {
                reason = "last successful heartbeat was " + age + " ms ago (limit " + staleAfter + " ms)";
            }
        }
        return new HealthReport(reason == null, status, registered ? registrar.runnerId() : null, config.name(),
                RunnerVersion.get(), last, age, config.maxConcurrentJobs(), Math.min(active.size(), config.maxConcurrentJobs()),
                active.ids(), reason, registered && !isTerminated() ? claimPause.check() : null, leftovers.pending());
    }

    /** Slots taken by a running task (a waiting poll holds none), as {@code GET /health} counts them. */
    private int busySlots() {
        return Math.min(active.size(), config.maxConcurrentJobs());
    }

    /** Seconds since the last heartbeat the server accepted; before the first one, since the runner was built. */
    private double secondsSinceHeartbeat() {
        Instant last = heartbeater.lastSuccess();
        Instant from = last != null ? last : heartbeater.started();
        return Math.max(0, Duration.between(from, settings.clock().instant()).toMillis()) / 1000.0;
    }

    /** The status the next heartbeat will send. */
    public RunnerStatus status() {
        return heartbeatState().status();
    }

    /** How long claiming waits for the leftover reports at start-up: one request timeout (a first attempt, about). */
    private Duration leftoverHeadStart() {
        return config.requestTimeout();
    }

    private void startClaiming() {
        pollLoop.start();
    }

    /** Runs a task taken over by the poll loop on a worker; it owns {@code permit} (null: none) from here on. */
    private void dispatch(ClaimedTask task, CancelSignal cancel, SlotPermit permit) {
        if (permit == null) {
            // cancelled before it got a slot: it is only reported, and must not queue behind the workers' running tasks
            new NamedThreadFactory("task-unslotted", metrics).newThread(() -> runHere(task, cancel, null)).start();
            return;
        }
        try {
            workers.execute(() -> runHere(task, cancel, permit));
        } catch (RejectedExecutionException e) {
            log.error("task {} could not be scheduled on a worker; reporting it from its own thread", task.id());
            cancel.cancel(CancelReason.RUNNER_SHUTDOWN);
            new NamedThreadFactory("task-late", metrics).newThread(() -> runHere(task, cancel, permit)).start();
        }
    }

    /** Runs a task to its result on the calling thread; nothing escapes (an escaped error is counted as a death). */
    private void runHere(ClaimedTask task, CancelSignal cancel, SlotPermit permit) {
        try {
            supervisor.run(task, cancel, permit);
        } catch (Throwable t) {
            metrics.threadDied(WORKER_THREAD);
            log.error("task {}: the supervisor failed unexpectedly", task.id(), t);
            active.finish(task.id());
            if (permit != null) {
                permit.release();
            }
        }
    }

    private Heartbeat heartbeatState() {
        int running = active.size();
        RunnerStatus status;
        RunnerState state = lifecycle.current();
        if (state == RunnerState.STOPPED) {
            status = RunnerStatus.OFFLINE;
        } else if (state.isStopping()) {
            return Heartbeat.draining(running, config.maxConcurrentJobs(), active.ids());
        } else if (running >= config.maxConcurrentJobs()) {
            status = RunnerStatus.BUSY;
        } else {
            status = RunnerStatus.ONLINE;
        }
        return new Heartbeat(status, running, config.maxConcurrentJobs(), active.ids(),
                status == RunnerStatus.OFFLINE ? null : claimPause.check());
    }
}
