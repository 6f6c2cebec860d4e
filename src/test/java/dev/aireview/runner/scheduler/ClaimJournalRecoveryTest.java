package dev.aireview.runner.scheduler;

import dev.aireview.runner.config.RunnerConfig;
import dev.aireview.runner.execution.DirectoryClaimJournal;
import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.server.ErrorClass;
import dev.aireview.runner.server.ServerCall;
import dev.aireview.runner.server.ServerException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Crash recovery through the claim journal: a runner process that dies owing a task's result (here: a daemon that is
 * abandoned, never stopped, while its executor or its result call blocks) is followed by a new process of the same
 * runner on the same journal directory, which reports that task {@code failed/runner_shutdown} exactly once, whether
 * or not the executor found leftovers of it.
 */
class ClaimJournalRecoveryTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path tmp;
    private final List<RunnerDaemon> daemons = new ArrayList<>();
    private final List<FakeExecutor> executors = new ArrayList<>();
    private final List<CountDownLatch> latches = new ArrayList<>();

    private Path journalDir() {
        return tmp.resolve("runner/claims");
    }

    /** A new process of the runner: a new executor with a new journal instance on the same directory. */
    private FakeExecutor newProcess() {
        FakeExecutor e = new FakeExecutor();
        e.journal = new DirectoryClaimJournal(journalDir());
        executors.add(e);
        return e;
    }

    private RunnerDaemon start(FakeExecutor executor, FakeServer server, SchedulerSettings settings) throws Exception {
        RunnerConfig c = SchedulerTest.config(1, 30_000);
        RunnerDaemon d = new RunnerDaemon(c, executor, server, server, RunnerDaemon.registration(c), settings);
        daemons.add(d);
        d.start();
        return d;
    }

    @AfterEach
    void stopAll() throws Exception {
        latches.forEach(CountDownLatch::countDown);
        for (FakeExecutor e : executors) {
            e.unstick.countDown();
            e.gate.countDown();
        }
        for (RunnerDaemon d : daemons) {
            d.stopNow();
        }
        for (RunnerDaemon d : daemons) {
            assertTrue(d.awaitTermination(WAIT), "daemon stopped");
        }
    }

    @Test
    void shouldReportATaskAnEarlierProcessDiedRunningExactlyOnceAfterRestart() throws Exception {
        // given a runner running a task (the executor holds it, as a pooled container cloning would), then killed
        FakeExecutor first = newProcess();
        FakeServer before = new FakeServer(1);
        start(first, before, SchedulerTest.settings());
        before.enqueue(FakeServer.task("stuck-1"));
        await().atMost(WAIT).until(() -> first.executed.contains("stuck-1"));
        assertTrue(first.journaledAtStart.contains("stuck-1"), "recorded before the executor saw it");
        assertEquals(List.of("stuck-1"), new DirectoryClaimJournal(journalDir()).list());

        // when the runner restarts (same journal, no leftovers found by its executor)
        FakeExecutor second = newProcess();
        FakeServer after = new FakeServer(1);
        start(second, after, SchedulerTest.settings());

        // then the task is reported once (in the background, while the runner claims) and leaves the journal
        await().atMost(WAIT).until(() -> after.results.containsKey("stuck-1") && after.events.contains("poll"));
        assertRunnerShutdownOnce(after, "stuck-1");
        await().atMost(WAIT).until(() -> new DirectoryClaimJournal(journalDir()).list().isEmpty());
        assertFalse(before.results.containsKey("stuck-1"), "the dead process gave no result");
        assertEquals(0, second.executionsOf("stuck-1"), "reported, not run");

        // and a further restart reports nothing again
        FakeServer third = new FakeServer(1);
        start(newProcess(), third, SchedulerTest.settings());
        await().atMost(WAIT).until(() -> third.events.contains("poll"));
        assertEquals(0, third.resultCount(), third.results::toString);
    }

    @Test
    void shouldReportATaskWhoseResultDeliveryWasCutShortByTheCrash() throws Exception {
        // given a runner killed while its result call is in flight
        CountDownLatch never = new CountDownLatch(1);
        latches.add(never);
        CountDownLatch inResult = new CountDownLatch(1);
        FakeServer before = new FakeServer(1) {
            @Override
            public void result(String runnerId, String taskId, TaskResult result) {
                inResult.countDown();
                try {
                    never.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        start(newProcess(), before, SchedulerTest.settings());
        before.enqueue(FakeServer.task("ok-1"));
        await().atMost(WAIT).until(() -> inResult.getCount() == 0);

        // when it restarts, then the task is reported once
        FakeServer after = new FakeServer(1);
        start(newProcess(), after, SchedulerTest.settings());
        await().atMost(WAIT).until(() -> after.results.containsKey("ok-1") && after.events.contains("poll"));
        assertRunnerShutdownOnce(after, "ok-1");
        assertEquals(List.of(), new DirectoryClaimJournal(journalDir()).list());
    }

    @Test
    void shouldReportJournalAndReaperIdsOnceEachWhenBothKnowATask() throws Exception {
        // given an earlier process's claims (one also found by the reaper, one only by the reaper)
        new DirectoryClaimJournal(journalDir()).record("claimed-1");
        new DirectoryClaimJournal(journalDir()).record("claimed-2");
        FakeExecutor executor = newProcess();
        executor.leftovers = List.of("claimed-1", "reaped-3");
        FakeServer server = new FakeServer(1);

        start(executor, server, SchedulerTest.settings());

        await().atMost(WAIT).until(() -> server.events.contains("poll") && server.resultCount() >= 3);
        assertEquals(3, server.resultCount(), server.results::toString);
        for (String id : List.of("claimed-1", "claimed-2", "reaped-3")) {
            assertRunnerShutdownOnce(server, id);
        }
        await().atMost(WAIT).until(() -> new DirectoryClaimJournal(journalDir()).list().isEmpty());
    }

    @Test
    void shouldLeaveNothingInTheJournalOnceResultsAreDeliveredOrRefusedForGood() throws Exception {
        List<String> refused = new CopyOnWriteArrayList<>();
        FakeServer server = new FakeServer(1) {
            @Override
            public void result(String runnerId, String taskId, TaskResult result) throws ServerException {
                if (taskId.startsWith("ok-gone-")) {
                    refused.add(taskId);
                    throw new ServerException(ServerCall.RESULT, ErrorClass.TASK_GONE, 409, null, "task already finished", null);
                }
                super.result(runnerId, taskId, result);
            }
        };
        FakeExecutor executor = newProcess();
        RunnerDaemon d = start(executor, server, SchedulerTest.settings());
        server.enqueue(FakeServer.task("ok-1"));
        server.enqueue(FakeServer.task("ok-gone-2"));
        await().atMost(WAIT).until(() -> server.results.containsKey("ok-1") && refused.contains("ok-gone-2")
                && d.runningTaskIds().isEmpty());
        assertTrue(executor.journaledAtStart.containsAll(List.of("ok-1", "ok-gone-2")), executor.journaledAtStart::toString);
        await().atMost(WAIT).until(() -> new DirectoryClaimJournal(journalDir()).list().isEmpty());
        assertFalse(Files.exists(journalDir(), LinkOption.NOFOLLOW_LINKS), "an idle runner leaves no journal directory");
    }

    @Test
    void shouldKeepATaskWhoseResultWasAbandonedAtShutdownForTheNextStart() throws Exception {
        // given a server that cannot take results while the runner stops (it gives up after its result grace)
        FakeServer down = new FakeServer(1) {
            @Override
            public void result(String runnerId, String taskId, TaskResult result) throws ServerException {
                throw new ServerException(ServerCall.RESULT, ErrorClass.RETRYABLE, 503, null, "unavailable", null);
            }
        };
        SchedulerSettings s = SchedulerTest.settings().withBackoff(
                new dev.aireview.runner.server.Backoff(Duration.ofMillis(10), Duration.ofMillis(100), 2.0, new java.util.Random(5)));
        SchedulerSettings shortGrace = new SchedulerSettings(s.random(), s.sleeper(), s.clock(), s.backoff(), s.reportBackoff(),
                s.reportAttempts(), s.timeoutMargin(), s.cancelGrace(), s.logFlushInterval(), s.logBatchBytes(),
                Duration.ofSeconds(1), Duration.ofMillis(500));
        FakeExecutor executor = newProcess();
        RunnerDaemon d = start(executor, down, shortGrace);
        down.enqueue(FakeServer.task("hang-1"));
        await().atMost(WAIT).until(() -> executor.executed.contains("hang-1"));
        d.stopNow();
        assertTrue(d.awaitTermination(Duration.ofSeconds(60)), "stopped");
        await().atMost(WAIT).until(() -> d.runningTaskIds().isEmpty()); // the delivery gave up
        assertEquals(List.of("hang-1"), new DirectoryClaimJournal(journalDir()).list(), "still owed a result");

        // when the runner starts again, then the task is reported once
        FakeServer up = new FakeServer(1);
        start(newProcess(), up, SchedulerTest.settings());
        await().atMost(WAIT).until(() -> up.results.containsKey("hang-1") && up.events.contains("poll"));
        assertRunnerShutdownOnce(up, "hang-1");
        assertEquals(List.of(), new DirectoryClaimJournal(journalDir()).list());
    }

    private static void assertRunnerShutdownOnce(FakeServer server, String id) {
        List<TaskResult> results = server.results.get(id);
        assertEquals(1, results == null ? 0 : results.size(), id + ": " + results);
        TaskResult r = results.get(0);
        assertEquals(ResultStatus.FAILED, r.status());
        assertEquals(ErrorKind.RUNNER_SHUTDOWN, r.error().kind());
        assertEquals(LeftoverReports.MESSAGE, r.error().message());
    }
}
