package dev.aireview.runner.scheduler;

import dev.aireview.runner.config.RunnerConfig;
import dev.aireview.runner.execution.CancelReason;
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
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The runner: wires the slot pool, the poll loop, a fixed pool of {@code maxConcurrentJobs} workers, the
 * heartbeater and the shutdown sequence around a {@link TaskExecutor} and a {@link ServerClient}.
 *
 * <p>Start-up ({@link #start()}): {@code executor.start()} → health → register → heartbeater + poll loop.
 * Connection problems are retried with backoff for as long as the runner lives; a refused token (401/403)
 * or an executor that cannot start is a {@link StartupException}.
 *
 * <p>Shutdown ({@link #stopGracefully()}): stop claiming, heartbeat {@code busy} + {@code draining: true}, let running tasks finish
 * within the shutdown grace, then cancel the rest ({@code runner_shutdown}) and report them, heartbeat
 * {@code offline}, {@code executor.close()}. {@link #stopNow()} (a second signal) cancels at once.
 */
public final class RunnerDaemon {
    private static final Logger log = LoggerFactory.getLogger(RunnerDaemon.class);

    private final RunnerConfig config;
    private final TaskExecutor executor;
    private final ServerClient client;
    private final SchedulerSettings settings;
    private final SlotPool slots;
    private final ActiveTasks active = new ActiveTasks();
    private final RunnerRegistrar registrar;
    private final Heartbeater heartbeater;
    private final PollLoop pollLoop;
    private final ThreadPoolExecutor workers;
    private final TaskSupervisor supervisor;
    private final Retrier startupRetrier;
    private final ClaimPause claimPause;

    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final Object lifecycle = new Object();
    private boolean running;
    private volatile boolean forced;
    private volatile boolean resultsGiveUp;
    private final CountDownLatch terminated = new CountDownLatch(1);

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
        metrics = RunnerMetrics.guarded(metrics);
        this.config = config;
        this.executor = executor;
        this.client = client;
        this.settings = settings;
        this.slots = new SlotPool(config.maxConcurrentJobs());
        this.startupRetrier = new Retrier(settings.backoff(), settings.sleeper());
        this.registrar = new RunnerRegistrar(client, registration, startupRetrier);
        this.heartbeater = new Heartbeater(heartbeatClient, registrar, this::heartbeatState, active,
                config.heartbeatInterval(), settings.clock(), metrics);
        this.workers = new ThreadPoolExecutor(config.maxConcurrentJobs(), config.maxConcurrentJobs(), 0, TimeUnit.MILLISECONDS,
                new LinkedBlockingQueue<>(), new NamedThreadFactory("task-worker"));
        ResultSender results = new ResultSender(client, registrar, settings.backoff(), settings.sleeper(),
                () -> !resultsGiveUp, metrics);
        this.supervisor = new TaskSupervisor(executor, client, registrar::runnerId, active, results, settings,
                config.docker() == null ? Duration.ofSeconds(600) : config.docker().timeout(), config.logLimitBytes(),
                SecretMasker.of(List.of(config.token())), metrics);
        this.claimPause = new ClaimPause(executor.claimGate());
        this.pollLoop = new PollLoop(client, registrar, slots, this::dispatch, config.pollInterval(), config.pollWait(),
                settings.backoff(), settings.sleeper(), settings.random(), metrics, claimPause);
        int pooled = executor.readyPoolContainers();
        metrics.bind(new RunnerMetrics.Gauges(config.maxConcurrentJobs(), this::busySlots,
                () -> config.maxConcurrentJobs() - busySlots(), this::secondsSinceHeartbeat,
                pooled < 0 ? null : executor::readyPoolContainers));
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
     * (retrying with backoff) unless a stop is requested meanwhile.
     */
    public void start() throws StartupException, InterruptedException {
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("already started");
        }
        Secrets.register(config.token());
        log.info("starting runner {} ({}), {} slot(s), server {}", config.name(), RunnerVersion.userAgent(), config.maxConcurrentJobs(), config.serverUrl());
        try {
            executor.start();
            registrar.describeEngine(executor.engineVersion(), executor.apiVersion());
        } catch (Exception e) {
            terminated.countDown();
            throw new StartupException("the executor could not start: " + e.getMessage(), e);
        }
        try {
            startupRetrier.run(Retrier.policy("health check of " + config.serverUrl()).keepGoing(() -> !stopping.get()), () -> {
                client.health();
                return null;
            }).orThrow();
            startupRetrier.run(Retrier.policy("register").keepGoing(() -> !stopping.get()), () -> {
                registrar.register();
                return null;
            }).orThrow();
        } catch (ServerException e) {
            executor.close();
            terminated.countDown();
            if (stopping.get() && e.errorClass() == ErrorClass.RETRYABLE) {
                log.info("stopped before the runner could register");
                return;
            }
            if (e.errorClass() == ErrorClass.UNAUTHORIZED) {
                throw new StartupException("the server refused the runner token (HTTP " + e.httpStatus() + " on "
                        + e.call().name().toLowerCase() + "): check RUNNER_TOKEN", e);
            }
            throw new StartupException(e.getMessage(), e);
        } catch (InterruptedException e) {
            executor.close();
            terminated.countDown();
            throw e;
        }
        log.info("registered as runner {}", registrar.runnerId());
        synchronized (lifecycle) {
            if (stopping.get()) {
                executor.close();
                terminated.countDown();
                return;
            }
            running = true;
            heartbeater.start();
            pollLoop.start();
        }
    }

    /** Begins the graceful stop on a background thread; a second call escalates to {@link #stopNow()}. */
    public void stopGracefully() {
        if (!stopping.compareAndSet(false, true)) {
            stopNow();
            return;
        }
        Thread t = new Thread(this::shutdownSequence, "runner-shutdown");
        t.setDaemon(false);
        t.start();
    }

    /** Cancels every running task at once (runner_shutdown) and finishes the stop. */
    public void stopNow() {
        if (stopping.compareAndSet(false, true)) {
            forced = true;
            Thread t = new Thread(this::shutdownSequence, "runner-shutdown");
            t.start();
        }
        if (!forced) {
            log.warn("second stop request: cancelling running tasks now");
        }
        forced = true;
        active.cancelAll(CancelReason.RUNNER_SHUTDOWN);
        slots.wakeUp();
    }

    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        return terminated.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    public boolean isStopping() {
        return stopping.get();
    }

    public boolean isTerminated() {
        return terminated.getCount() == 0;
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
        boolean registered;
        synchronized (lifecycle) {
            registered = running;
        }
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
            if (last == null) {
                reason = "no successful heartbeat yet";
            } else if (age > staleAfter) {
                reason = "last successful heartbeat was " + age + " ms ago (limit " + staleAfter + " ms)";
            }
        }
        return new HealthReport(reason == null, status, registered ? registrar.runnerId() : null, config.name(),
                RunnerVersion.get(), last, age, config.maxConcurrentJobs(), Math.min(active.size(), config.maxConcurrentJobs()),
                active.ids(), reason, registered && !isTerminated() ? claimPause.check() : null);
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

    private void dispatch(ClaimedTask task, boolean holdsSlot) {
        CancelReason preCancel = stopping.get() ? CancelReason.RUNNER_SHUTDOWN : null;
        Runnable job = () -> {
            try {
                supervisor.run(task, preCancel);
            } finally {
                if (holdsSlot) {
                    slots.release(1);
                }
            }
        };
        try {
            workers.execute(job);
        } catch (RejectedExecutionException e) {
            log.error("task {} could not be scheduled on a worker; reporting it from its own thread", task.id());
            Thread t = new Thread(() -> {
                try {
                    supervisor.run(task, CancelReason.RUNNER_SHUTDOWN);
                } finally {
                    if (holdsSlot) {
                        slots.release(1);
                    }
                }
            }, "task-late-" + task.id());
            t.start();
        }
    }

    private Heartbeat heartbeatState() {
        int running = active.size();
        RunnerStatus status;
        if (isTerminated()) {
            status = RunnerStatus.OFFLINE;
        } else if (stopping.get()) {
            return Heartbeat.draining(running, config.maxConcurrentJobs(), active.ids());
        } else if (running >= config.maxConcurrentJobs()) {
            status = RunnerStatus.BUSY;
        } else {
            status = RunnerStatus.ONLINE;
        }
        return new Heartbeat(status, running, config.maxConcurrentJobs(), active.ids(),
                status == RunnerStatus.OFFLINE ? null : claimPause.check());
    }

    private void shutdownSequence() {
        try {
            log.info("stopping: no new tasks will be claimed");
            boolean wasRunning;
            synchronized (lifecycle) {
                wasRunning = running;
            }
            if (wasRunning) {
                pollLoop.stop(Duration.ofSeconds(10));
                heartbeater.beatNow();
                int running = slots.inUse();
                if (running > 0 && !forced) {
                    log.info("draining: waiting up to {} ms for {} running task(s) {}", config.shutdownGrace().toMillis(), running, active.ids());
                    boolean idle = slots.awaitIdle(config.shutdownGrace(), () -> forced);
                    if (!idle) {
                        log.warn("{}: cancelling {} task(s) {}", forced ? "stop forced" : "shutdown grace period over",
                                active.size(), active.ids());
                    }
                }
                active.cancelAll(CancelReason.RUNNER_SHUTDOWN);
                Duration finish = settings.cancelGrace().plus(settings.logFlushTimeout()).plus(settings.resultGrace());
                if (!slots.awaitIdle(finish.minus(settings.resultGrace()), () -> false)) {
                    log.warn("tasks still reporting; results are retried for up to {} ms more", settings.resultGrace().toMillis());
                }
                if (!slots.awaitIdle(settings.resultGrace(), () -> false)) {
                    resultsGiveUp = true;
                    log.error("giving up on {} task(s) still reporting: {}", slots.inUse(), active.ids());
                }
                workers.shutdown();
                workers.awaitTermination(5, TimeUnit.SECONDS);
                heartbeater.stop();
                heartbeater.sendFinal(new Heartbeat(RunnerStatus.OFFLINE, 0, config.maxConcurrentJobs(), List.of()));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            log.warn("shutdown interrupted");
        } catch (RuntimeException e) {
            log.error("shutdown failed", e);
        } finally {
            try {
                executor.close();
            } catch (RuntimeException e) {
                log.warn("executor close failed: {}", e.getMessage());
            }
            workers.shutdownNow();
            log.info("runner stopped");
            terminated.countDown();
        }
    }
}
