package dev.aireview.runner.scheduler;

import dev.aireview.runner.config.RunnerConfig;
import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.observability.HealthServer;
import dev.aireview.runner.observability.RunnerMetrics;
import dev.aireview.runner.server.Backoff;
import dev.aireview.runner.server.ErrorClass;
import dev.aireview.runner.server.ServerCall;
import dev.aireview.runner.server.ServerException;
import dev.aireview.runner.server.ClaimedTask;
import dev.aireview.runner.server.Heartbeat;
import dev.aireview.runner.server.HeartbeatAnswer;
import dev.aireview.runner.server.RunnerStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The daemon's life cycle against the in-memory {@link FakeServer} and the {@link FakeExecutor}: slot permits and
 * executor escalation, task-id identity, tasks beyond maxTasks, the shutdown steps and their deadlines, threads
 * that fail, and the reports of tasks an earlier process left behind.
 */
class LifecycleTest {
    /**
     * The leftover reports' head start is one request timeout (10 s by default): 1 s here, so the tests that hold a
     * leftover's report see the runner claim meanwhile without waiting the default out.
     */
    static final Map<String, String> SHORT_HEAD_START = Map.of("RUNNER_REQUEST_TIMEOUT_MS", "1000");

    FakeServer server;
    FakeExecutor executor = new FakeExecutor();
    RecordingMetrics metrics = new RecordingMetrics();
    RunnerDaemon daemon;

    /** Counts what the lifecycle code records. */
    static final class RecordingMetrics implements RunnerMetrics {
        final Map<String, AtomicInteger> deaths = new ConcurrentHashMap<>();
        final Map<String, AtomicInteger> escalations = new ConcurrentHashMap<>();
        volatile Gauges gauges;

        @Override
        public void bind(Gauges g) {
            gauges = g;
        }

        @Override
        public void threadDied(String thread) {
            deaths.computeIfAbsent(thread, k -> new AtomicInteger()).incrementAndGet();
        }

        @Override
        public void executorEscalated(String step) {
            escalations.computeIfAbsent(step, k -> new AtomicInteger()).incrementAndGet();
        }

        int deaths(String thread) {
            AtomicInteger n = deaths.get(thread);
            return n == null ? 0 : n.get();
        }

        int escalations(String step) {
            AtomicInteger n = escalations.get(step);
            return n == null ? 0 : n.get();
        }
    }

    RunnerDaemon start(FakeServer s, int slots, long graceMs) throws Exception {
        server = s;
        RunnerConfig c = SchedulerTest.config(slots, graceMs);
        daemon = new RunnerDaemon(c, executor, server, server, RunnerDaemon.registration(c), SchedulerTest.settings(), metrics);
        daemon.start();
        return daemon;
    }

    @AfterEach
    void stop() throws Exception {
        executor.gate.countDown();
        executor.unstick.countDown();
        if (executor.closeBlocker != null) {
            executor.closeBlocker.countDown();
        }
        if (daemon != null) {
            daemon.stopNow();
            assertTrue(daemon.awaitTermination(Duration.ofSeconds(30)), "daemon stops");
            assertEquals(RunnerState.STOPPED, daemon.state());
        }
    }

    private TaskResult onlyResult(String id) {
        List<TaskResult> rs = server.results.get(id);
        assertNotNull(rs, "result for " + id);
        assertEquals(1, rs.size(), "exactly one result for " + id + ": " + rs);
        return rs.get(0);
    }

    @Test
    void shouldOnlyMoveForwardAlongLegalSteps() {
        assertTrue(RunnerState.STARTING.canMoveTo(RunnerState.RUNNING));
        assertTrue(RunnerState.RUNNING.canMoveTo(RunnerState.DRAINING));
        assertTrue(RunnerState.RUNNING.canMoveTo(RunnerState.CANCELLING));
        assertTrue(RunnerState.DRAINING.canMoveTo(RunnerState.CANCELLING));
        assertTrue(RunnerState.CANCELLING.canMoveTo(RunnerState.STOPPED));
        assertFalse(RunnerState.DRAINING.canMoveTo(RunnerState.RUNNING));
        assertFalse(RunnerState.RUNNING.canMoveTo(RunnerState.STOPPED), "a running runner stops through its steps");
        assertFalse(RunnerState.STOPPED.canMoveTo(RunnerState.STARTING));
        Lifecycle l = new Lifecycle();
        assertFalse(l.moveTo(RunnerState.DRAINING), "illegal: refused");
        assertEquals(RunnerState.STARTING, l.current());
        assertTrue(l.moveTo(RunnerState.RUNNING));
        assertTrue(l.moveTo(RunnerState.DRAINING));
        assertFalse(l.moveIf(RunnerState.RUNNING, RunnerState.CANCELLING, null), "not from the state it is in");
        assertTrue(l.moveTo(RunnerState.CANCELLING));
        assertFalse(l.isStopped());
        assertTrue(l.moveTo(RunnerState.STOPPED));
        assertTrue(l.isStopped());
        assertTrue(l.wasRunning());
    }

    @Test
    void shouldGoThroughEveryStateAndReportEveryShutdownStep() throws Exception {
        start(new FakeServer(1), 1, 30_000);
        assertEquals(RunnerState.RUNNING, daemon.state());
        server.enqueue(FakeServer.task("gate-1"));
        await().atMost(Duration.ofSeconds(10)).until(() -> executor.running.get() == 1);
        daemon.stopGracefully();
        assertEquals(RunnerState.DRAINING, daemon.state());
        assertFalse(daemon.awaitTermination(Duration.ofMillis(200)), "drains");
        executor.gate.countDown();
        assertTrue(daemon.awaitTermination(Duration.ofSeconds(20)));
        assertEquals(RunnerState.STOPPED, daemon.state());
        assertEquals(ResultStatus.COMPLETED, onlyResult("gate-1").status());
        List<String> steps = daemon.shutdownReport().stream().map(ShutdownCoordinator.StepReport::step).toList();
        assertEquals(List.of(ShutdownCoordinator.STOP_CLAIMING, ShutdownCoordinator.DRAIN, ShutdownCoordinator.CANCEL,
                ShutdownCoordinator.FLUSH_RESULTS, ShutdownCoordinator.GO_OFFLINE, ShutdownCoordinator.CLOSE_EXECUTOR), steps);
        assertTrue(daemon.shutdownReport().stream().noneMatch(r -> r.outcome() == ShutdownCoordinator.Outcome.TIMED_OUT
                || r.outcome() == ShutdownCoordinator.Outcome.FAILED), daemon.shutdownReport().toString());
    }

    @Test
    void shouldExitWhenTheFinalHeartbeatStallsAndTheExecutorCloseHangs() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        FakeServer stalling = new FakeServer(1) {
            @Override
            public HeartbeatAnswer heartbeat(String runnerId, Heartbeat heartbeat) {
                if (heartbeat.status() == RunnerStatus.OFFLINE) {
                    // a body that never comes; the interrupt of the step is ignored too
                    while (never.getCount() > 0) {
                        try {
                            never.await();
                        } catch (InterruptedException ignored) {
                            // keeps hanging
                        }
                    }
                }
                return super.heartbeat(runnerId, heartbeat);
            }
        };
        executor.closeBlocker = new CountDownLatch(1);
        start(stalling, 1, 30_000);
        daemon.overrideShutdownDeadline(ShutdownCoordinator.GO_OFFLINE, Duration.ofSeconds(1));
        daemon.overrideShutdownDeadline(ShutdownCoordinator.CLOSE_EXECUTOR, Duration.ofSeconds(1));
        try {
            daemon.stopGracefully();
            assertTrue(daemon.awaitTermination(Duration.ofSeconds(20)), "stops although two steps hang");
            Map<String, ShutdownCoordinator.Outcome> outcomes = new java.util.HashMap<>();
            daemon.shutdownReport().forEach(r -> outcomes.put(r.step(), r.outcome()));
            assertEquals(ShutdownCoordinator.Outcome.TIMED_OUT, outcomes.get(ShutdownCoordinator.GO_OFFLINE));
            assertEquals(ShutdownCoordinator.Outcome.TIMED_OUT, outcomes.get(ShutdownCoordinator.CLOSE_EXECUTOR));
            assertTrue(executor.closed.get(), "the close was attempted");
        } finally {
            never.countDown();
        }
    }

    @Test
    void shouldKillAnExecutorThatIgnoresItsCancelWithoutInterruptingIt() throws Exception {
        start(new FakeServer(1), 1, 30_000);
        server.enqueue(FakeServer.task("stubborn-1", 1, null));
        await().atMost(Duration.ofSeconds(20)).until(() -> server.results.containsKey("stubborn-1"));
        TaskResult r = onlyResult("stubborn-1");
        assertEquals(ResultStatus.TIMED_OUT, r.status(), r.toString());
        assertEquals(ErrorKind.TIMEOUT, r.error().kind());
        assertEquals(java.util.Set.of("stubborn-1"), executor.killed, "escalated to a kill");
        assertEquals(java.util.Set.of(), executor.interrupted, "the executor thread is never interrupted");
        assertEquals(1, metrics.escalations("kill"));
        assertEquals(0, metrics.escalations("stuck"));
        server.enqueue(FakeServer.task("ok-after"));
        await().atMost(Duration.ofSeconds(10)).until(() -> server.results.containsKey("ok-after"));
    }

    @Test
    void shouldReportAStuckExecutorButKeepItsSlotUntilItReallyReturns() throws Exception {
        start(new FakeServer(1), 1, 30_000);
        server.enqueue(FakeServer.task("stuck-1", 1, null));
        await().atMost(Duration.ofSeconds(20)).until(() -> server.results.containsKey("stuck-1"));
        TaskResult r = onlyResult("stuck-1");
        assertEquals(ResultStatus.TIMED_OUT, r.status());
        assertEquals(1, metrics.escalations("stuck"));
        assertFalse(daemon.runningTaskIds().contains("stuck-1"), "reported: no longer listed as running");

        // its slot is still taken: the next task is not claimed while the executor runs
        server.enqueue(FakeServer.task("ok-next"));
        int polls = server.pollSizes.size();
        await("no claim while the stuck executor holds the slot").during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(3))
                .until(() -> server.pollSizes.size() == polls && !executor.executed.contains("ok-next"));
        assertEquals(1, executor.running.get(), "the stuck executor is still there, not abandoned");

        executor.unstick.countDown();
        await().atMost(Duration.ofSeconds(10)).until(() -> server.results.containsKey("ok-next"));
        assertEquals(ResultStatus.COMPLETED, onlyResult("ok-next").status());
        assertEquals(1, onlyResult("stuck-1") == null ? 0 : server.results.get("stuck-1").size(), "the late return sends nothing");
        assertEquals(java.util.Set.of(), executor.interrupted, "never interrupted");
        assertEquals(1, executor.maxRunning.get(), "never two executors for one slot");
    }

    @Test
    void shouldRunATaskIdOnceWhenTheServerHandsItOverTwice() throws Exception {
        start(new FakeServer(3), 3, 30_000);
        Instant now = Instant.now();
        // one poll answer holding the same id twice
        server.queue.add(ClaimedTask.parsed(FakeServer.task("gate-dup"), now));
        server.queue.add(ClaimedTask.parsed(FakeServer.task("gate-dup"), now));
        await().atMost(Duration.ofSeconds(10)).until(() -> executor.running.get() == 1);
        // handed over again while it runs
        server.enqueue(FakeServer.task("gate-dup"));
        await().atMost(Duration.ofSeconds(10)).until(() -> server.queue.isEmpty());
        executor.gate.countDown();
        await().atMost(Duration.ofSeconds(10)).until(() -> server.results.containsKey("gate-dup"));
        // and once more after it finished
        server.enqueue(FakeServer.task("gate-dup"));
        server.enqueue(FakeServer.task("ok-marker"));
        await().atMost(Duration.ofSeconds(10)).until(() -> server.results.containsKey("ok-marker"));
        assertEquals(1, executor.executionsOf("gate-dup"), "ran once");
        assertEquals(ResultStatus.COMPLETED, onlyResult("gate-dup").status());
    }

    @Test
    void shouldTrackAndCancelTasksTheServerSentBeyondMaxTasks() throws Exception {
        FakeServer s = new FakeServer(1);
        s.overdeliver = true;
        Instant now = Instant.now();
        s.queue.add(ClaimedTask.parsed(FakeServer.task("hang-first"), now));
        s.queue.add(ClaimedTask.parsed(FakeServer.task("gate-extra"), now));
        s.queue.add(ClaimedTask.parsed(FakeServer.task("ok-extra"), now));
        start(s, 1, 30_000); // the first poll gets all three
        await().atMost(Duration.ofSeconds(10)).until(() -> executor.running.get() == 1);
        await().atMost(Duration.ofSeconds(5)).until(() -> server.heartbeats.stream().anyMatch(h ->
                h.runningTaskIds().equals(List.of("gate-extra", "hang-first", "ok-extra"))));
        // cancelled while it waits for a slot: reported, never run
        server.cancelOnNextHeartbeat.add("gate-extra");
        await().atMost(Duration.ofSeconds(10)).until(() -> server.results.containsKey("gate-extra"));
        assertEquals(ResultStatus.CANCELLED, onlyResult("gate-extra").status());
        assertFalse(executor.executed.contains("gate-extra"));
        server.cancelOnNextHeartbeat.add("hang-first");
        await().atMost(Duration.ofSeconds(10)).until(() -> server.results.containsKey("ok-extra"));
        assertEquals(ResultStatus.CANCELLED, onlyResult("hang-first").status());
        assertEquals(ResultStatus.COMPLETED, onlyResult("ok-extra").status(), "ran once a slot was free");
        assertEquals(1, executor.maxRunning.get());
    }

    @Test
    void shouldTakeOverTheTasksOfAPollInFlightAtAGracefulStop() throws Exception {
        HeldPollServer held = new HeldPollServer(1);
        start(held, 1, 30_000);
        await().atMost(Duration.ofSeconds(10)).until(() -> held.inPoll.getCount() == 0);
        daemon.stopGracefully();
        held.queue.add(ClaimedTask.parsed(FakeServer.task("ok-in-flight"), Instant.now()));
        held.release.countDown();
        assertTrue(daemon.awaitTermination(Duration.ofSeconds(20)));
        assertEquals(ResultStatus.COMPLETED, onlyResult("ok-in-flight").status(), "run while draining, not dropped");
        assertEquals(0, held.interruptedPolls.get(), "the poll in flight was not interrupted");
    }

    @Test
    void shouldReportTheTasksOfAPollInFlightAtAForcedStopAsRunnerShutdown() throws Exception {
        HeldPollServer held = new HeldPollServer(1);
        start(held, 1, 30_000);
        await().atMost(Duration.ofSeconds(10)).until(() -> held.inPoll.getCount() == 0);
        daemon.stopNow();
        await().atMost(Duration.ofSeconds(5)).until(() -> daemon.state() == RunnerState.CANCELLING);
        held.queue.add(ClaimedTask.parsed(FakeServer.task("ok-too-late"), Instant.now()));
        held.release.countDown();
        assertTrue(daemon.awaitTermination(Duration.ofSeconds(20)));
        TaskResult r = onlyResult("ok-too-late");
        assertEquals(ErrorKind.RUNNER_SHUTDOWN, r.error().kind(), r.toString());
        assertFalse(executor.executed.contains("ok-too-late"));
        assertEquals(0, held.interruptedPolls.get());
    }

    /** Holds the first poll until {@link #release} opens, even when interrupted (counting the interrupts). */
    static final class HeldPollServer extends FakeServer {
        final CountDownLatch inPoll = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final AtomicInteger interruptedPolls = new AtomicInteger();

        HeldPollServer(int slots) {
            super(slots);
        }

        @Override
        public List<ClaimedTask> poll(String runnerId, int maxTasks, Duration wait) throws InterruptedException {
            if (release.getCount() > 0) {
                inPoll.countDown();
                while (release.getCount() > 0) {
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        interruptedPolls.incrementAndGet();
                    }
                }
            }
            return super.poll(runnerId, maxTasks, wait);
        }
    }

    @Test
    void shouldKeepHeartbeatingAfterAnErrorEscapedOneBeat() throws Exception {
        AtomicInteger beats = new AtomicInteger();
        FakeServer failingOnce = new FakeServer(1) {
            @Override
            public HeartbeatAnswer heartbeat(String runnerId, Heartbeat heartbeat) {
                if (beats.incrementAndGet() == 2) {
                    throw new AssertionError("an Error in one heartbeat");
                }
                return super.heartbeat(runnerId, heartbeat);
            }
        };
        start(failingOnce, 1, 30_000);
        await().atMost(Duration.ofSeconds(10)).until(() -> beats.get() >= 6);
        assertTrue(failingOnce.heartbeats.size() >= 4, "heartbeats go on after the Error");
        assertEquals(1, metrics.deaths(Heartbeater.THREAD));
        assertTrue(daemon.health().healthy(), daemon.health().toString());
    }

    @Test
    void shouldReportWhatAnEarlierProcessLeftRunningOnceAfterRegistering() throws Exception {
        executor.leftovers = List.of("old-1", "old-2", "old-1");
        start(new FakeServer(1), 1, 30_000);
        await().atMost(Duration.ofSeconds(10)).until(() -> server.results.keySet().containsAll(List.of("old-1", "old-2")));
        for (String id : List.of("old-1", "old-2")) {
            TaskResult r = onlyResult(id);
            assertEquals(ResultStatus.FAILED, r.status());
            assertEquals(ErrorKind.RUNNER_SHUTDOWN, r.error().kind());
            assertEquals("the runner restarted while this review ran", r.error().message());
        }
        List<String> events = List.copyOf(server.events);
        assertTrue(events.indexOf("register") < events.indexOf("result:old-1"), events::toString);
        await().atMost(Duration.ofSeconds(10)).until(() -> daemon.health().unreportedLeftovers() == 0);
        // the server retries it, here: it runs
        server.enqueue(FakeServer.task("ok-rerun"));
        server.enqueue(FakeServer.task("old-1"));
        await().atMost(Duration.ofSeconds(10)).until(() -> server.results.get("old-1").size() == 2);
        assertEquals(1, executor.executionsOf("old-1"), "a reported leftover is not a finished task: it runs when handed out");
    }

    /** A server that answers 503 to the restart report ({@code runner_shutdown}) of every id in {@code refused}, counting the attempts. */
    static final class RefusingServer extends FakeServer {
        final Set<String> refused = ConcurrentHashMap.newKeySet();
        final Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
        final CountDownLatch firstRefusal = new CountDownLatch(1);
        volatile CountDownLatch holdRefusals = new CountDownLatch(0);

        RefusingServer(int slots, String... refused) {
            super(slots);
            this.refused.addAll(List.of(refused));
        }

        @Override
        public void result(String runnerId, String taskId, TaskResult result) throws ServerException {
            if (refused.contains(taskId) && result.error() != null && result.error().kind() == ErrorKind.RUNNER_SHUTDOWN) {
                attempts.computeIfAbsent(taskId, k -> new AtomicInteger()).incrementAndGet();
                firstRefusal.countDown();
                try {
                    holdRefusals.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                throw new ServerException(ServerCall.RESULT, ErrorClass.RETRYABLE, 503, null, "result answered HTTP 503", null);
            }
            super.result(runnerId, taskId, result);
        }
    }

    @Test
    void shouldClaimWhileALeftoverReportIsRefusedAndKeepItForTheNextStartAfterBoundedAttempts() throws Exception {
        RunnerDaemonTest.MemoryJournal journal = new RunnerDaemonTest.MemoryJournal();
        executor.journal = journal;
        executor.leftovers = List.of("old-refused");
        RefusingServer refusing = new RefusingServer(1, "old-refused");
        refusing.holdRefusals = new CountDownLatch(1);
        server = refusing;
        RunnerConfig c = SchedulerTest.config(1, 30_000, SHORT_HEAD_START);
        daemon = new RunnerDaemon(c, executor, server, server, RunnerDaemon.registration(c),
                SchedulerTest.settings().withBackoff(new Backoff(Duration.ofMillis(5), Duration.ofMillis(20), 2.0, new Random(1))), metrics);
        daemon.start();

        // while the server holds (then refuses) the leftover's report, a new task is claimed, run and reported: claiming
        // starts once the reports are through or, as here, one request timeout (1 s here) after the start at the latest
        assertTrue(refusing.firstRefusal.await(10, TimeUnit.SECONDS));
        server.enqueue(FakeServer.task("new-1"));
        await().atMost(Duration.ofSeconds(40)).until(() -> server.results.containsKey("new-1"));
        assertEquals(1, daemon.health().unreportedLeftovers(), "health says a leftover report is still owed");
        assertTrue(HealthServer.toJson(daemon.health()).contains("\"unreportedLeftovers\":1"));
        assertEquals(1, metrics.gauges.leftoverReportsPending().getAsInt());
        assertTrue(journal.list().contains("old-refused"));

        // the refusals go on: bounded attempts, then given up for this start, kept in the journal for the next
        refusing.holdRefusals.countDown();
        await().atMost(Duration.ofSeconds(10)).until(() -> daemon.health().unreportedLeftovers() == 0);
        assertEquals(LeftoverReports.ATTEMPTS, refusing.attempts.get("old-refused").get());
        assertEquals(0, metrics.gauges.leftoverReportsPending().getAsInt());
        assertEquals(List.of("old-refused"), journal.list(), "still owed: reported at the next start");
        assertFalse(server.results.containsKey("old-refused"));
    }

    @Test
    void shouldNotReportALeftoverAsLostOnceTheServerHandsItOutAgain() throws Exception {
        executor.leftovers = List.of("again-1");
        RefusingServer refusing = new RefusingServer(1, "again-1");
        refusing.holdRefusals = new CountDownLatch(1);
        server = refusing;
        RunnerConfig c = SchedulerTest.config(1, 30_000, SHORT_HEAD_START);
        daemon = new RunnerDaemon(c, executor, server, server, RunnerDaemon.registration(c),
                SchedulerTest.settings().withBackoff(new Backoff(Duration.ofMillis(50), Duration.ofMillis(100), 2.0, new Random(1))), metrics);
        daemon.start();
        assertTrue(refusing.firstRefusal.await(10, TimeUnit.SECONDS));
        // the server gives the task to this runner again (while its restart report is in flight): the new run owns it
        server.enqueue(FakeServer.task("again-1"));
        // claimed once the leftover reports' head start (one request timeout) is over
        await().atMost(Duration.ofSeconds(40)).until(() -> executor.executed.contains("again-1"));
        refusing.holdRefusals.countDown();
        await().atMost(Duration.ofSeconds(10)).until(() -> server.results.containsKey("again-1") && daemon.health().unreportedLeftovers() == 0);
        TaskResult r = onlyResult("again-1");
        assertEquals(ResultStatus.COMPLETED, r.status(), "the new run's result, not a restart report: " + r);
        assertEquals(1, executor.executionsOf("again-1"));
        assertEquals(1, refusing.attempts.get("again-1").get(), "the restart report stopped once the task was taken over again");
    }

    @Test
    void shouldStopCleanlyWhenStoppedBeforeItRegistered() throws Exception {
        FakeServer unreachable = new FakeServer(1) {
            @Override
            public void health() throws dev.aireview.runner.server.ServerException {
                throw new dev.aireview.runner.server.ServerException(dev.aireview.runner.server.ServerCall.HEALTH,
                        dev.aireview.runner.server.ErrorClass.RETRYABLE, 0, null, "connection refused", null);
            }
        };
        server = unreachable;
        RunnerConfig c = SchedulerTest.config(1, 30_000);
        RunnerDaemon d = new RunnerDaemon(c, executor, server, server, RunnerDaemon.registration(c), SchedulerTest.settings(), metrics);
        List<Throwable> failure = new CopyOnWriteArrayList<>();
        Thread starter = new Thread(() -> {
            try {
                d.start();
            } catch (Throwable t) {
                failure.add(t);
            }
        });
        starter.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> executor.started.get());
        assertEquals(RunnerState.STARTING, d.state());
        d.stopGracefully();
        assertTrue(d.awaitTermination(Duration.ofSeconds(20)));
        starter.join(10_000);
        assertEquals(List.of(), failure);
        assertEquals(RunnerState.STOPPED, d.state());
        assertTrue(executor.closed.get());
        assertEquals(0, server.registrations);
    }

    @Test
    void shouldKeepClaimingAfterADispatchFailedAndStillRunThatTask() throws Exception {
        server = new FakeServer(2);
        SlotPool slots = new SlotPool(2);
        ActiveTasks active = new ActiveTasks();
        List<String> dispatched = new CopyOnWriteArrayList<>();
        List<String> fallback = new CopyOnWriteArrayList<>();
        AtomicInteger calls = new AtomicInteger();
        SchedulerSettings st = SchedulerTest.settings();
        PollLoop loop = new PollLoop(server, new RunnerRegistrar(server, RunnerDaemon.registration(SchedulerTest.config(2, 1000))),
                slots, active, (task, cancel, permit) -> {
                    if (calls.incrementAndGet() == 1) {
                        throw new IllegalStateException("dispatch failed");
                    }
                    dispatched.add(task.id());
                    active.finish(task.id());
                    permit.release();
                }, (task, cancel, permit) -> {
                    fallback.add(task.id());
                    active.finish(task.id());
                    permit.release();
                }, Duration.ofMillis(20), Duration.ofMillis(100), st.backoff(), st.sleeper(), new java.util.Random(1), metrics);
        loop.start();
        try {
            server.queue.add(ClaimedTask.parsed(FakeServer.task("a"), Instant.now()));
            await().atMost(Duration.ofSeconds(5)).until(() -> fallback.contains("a"));
            server.queue.add(ClaimedTask.parsed(FakeServer.task("b"), Instant.now()));
            await().atMost(Duration.ofSeconds(5)).until(() -> dispatched.contains("b"));
            assertEquals(1, metrics.deaths(PollLoop.THREAD));
            assertTrue(loop.isAlive());
            int polls = server.pollSizes.size();
            await("polls again for both slots: no permit leaked").atMost(Duration.ofSeconds(5))
                    .until(() -> server.pollSizes.size() > polls && server.pollSizes.get(server.pollSizes.size() - 1) == 2);
        } finally {
            loop.stop();
            assertTrue(loop.awaitHandedOver(Duration.ofSeconds(5)));
        }
    }

    @Test
    void shouldTurnHealthRedWhenThePollLoopThreadIsGone() throws Exception {
        start(new FakeServer(1), 1, 30_000);
        await().atMost(Duration.ofSeconds(10)).until(() -> daemon.health().healthy());
        Thread loop = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals(PollLoop.THREAD))
                .findFirst().orElseThrow();
        // an interrupt that is not a stop (nothing in the runner does this): the loop ends
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            loop.interrupt();
            return !loop.isAlive();
        });
        await().atMost(Duration.ofSeconds(5)).until(() -> !daemon.health().healthy());
        assertEquals("the poll loop is not running: no tasks are claimed", daemon.health().reason());
    }
}
