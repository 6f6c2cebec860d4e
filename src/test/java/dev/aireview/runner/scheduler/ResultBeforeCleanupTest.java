package dev.aireview.runner.scheduler;

import dev.aireview.runner.config.RunnerConfig;
import dev.aireview.runner.execution.DirectoryClaimJournal;
import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.TaskResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The result before the clean-up: an executor that hands its result over ({@code TaskContext.report}) gets it sent at
 * once, while its slot stays taken until {@code execute} returns; exactly one result whatever it does next.
 */
class ResultBeforeCleanupTest {
    @TempDir
    Path dir;

    FakeServer server;
    final FakeExecutor executor = new FakeExecutor();
    RunnerDaemon daemon;

    private void start(int slots, long graceMs) throws Exception {
        server = new FakeServer(slots);
        RunnerConfig c = SchedulerTest.config(slots, graceMs);
        daemon = new RunnerDaemon(c, executor, server, server, RunnerDaemon.registration(c), SchedulerTest.settings());
        daemon.start();
    }

    @AfterEach
    void stop() throws Exception {
        executor.gate.countDown();
        executor.cleanup.countDown();
        if (daemon != null) {
            daemon.stopNow();
            assertTrue(daemon.awaitTermination(Duration.ofSeconds(20)), "daemon stops");
        }
    }

    private TaskResult onlyResult(String id) {
        List<TaskResult> rs = server.results.get(id);
        assertNotNull(rs, "result for " + id);
        assertEquals(1, rs.size(), "exactly one result for " + id + ": " + rs);
        return rs.get(0);
    }

    @Test
    void shouldSendTheResultWhileTheExecutorCleansUpAndHoldTheSlotUntilItReturns() throws Exception {
        executor.journal = new DirectoryClaimJournal(dir.resolve("claims"));
        start(1, 60_000);
        server.enqueue(FakeServer.task("reports-1"));
        server.enqueue(FakeServer.task("ok-2"));

        await().atMost(Duration.ofSeconds(10)).until(() -> server.results.containsKey("reports-1"));
        assertTrue(executor.cleaning.contains("reports-1"), "the result arrived while the executor still cleaned up");
        TaskResult r = onlyResult("reports-1");
        assertEquals(ResultStatus.COMPLETED, r.status(), r.toString());
        assertEquals("handed over", r.summary());
        assertEquals(3, r.stats().filesReviewed());
        assertNotNull(r.stats().durationMs());
        assertTrue(executor.journaledAtStart.contains("reports-1"), "recorded in the claim journal at the claim");
        assertEquals(List.of(), executor.journal.list(), "the claim journal entry goes with the delivered result");
        await().atMost(Duration.ofSeconds(5)).until(() -> daemon.runningTaskIds().isEmpty());

        // the slot is still taken: the next task is neither claimed nor run while the clean-up lasts
        int polls = server.pollSizes.size();
        await("no claim while the only slot cleans up").during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2))
                .until(() -> !executor.executed.contains("ok-2") && server.pollSizes.size() == polls);

        executor.cleanup.countDown();
        await().atMost(Duration.ofSeconds(10)).until(() -> server.results.containsKey("ok-2"));
        assertEquals(ResultStatus.COMPLETED, onlyResult("ok-2").status());
        assertEquals("handed over", onlyResult("reports-1").summary(), "what execute returned later is not sent");
        assertEquals(List.of(), server.violations);
    }

    @Test
    void shouldIgnoreASecondReportAndAThrowAfterTheReport() throws Exception {
        start(2, 60_000);
        server.enqueue(FakeServer.task("reports-twice-1"));
        server.enqueue(FakeServer.task("reports-throw-1"));
        await().atMost(Duration.ofSeconds(10)).until(() -> server.resultCount() == 2);
        await().atMost(Duration.ofSeconds(5)).until(() -> executor.cleaning.size() == 2);
        executor.cleanup.countDown();
        await().atMost(Duration.ofSeconds(10)).until(() -> executor.running.get() == 0);
        server.enqueue(FakeServer.task("ok-3"));
        await().atMost(Duration.ofSeconds(10)).until(() -> server.results.containsKey("ok-3"));

        for (String id : List.of("reports-twice-1", "reports-throw-1")) {
            TaskResult r = onlyResult(id);
            assertEquals(ResultStatus.COMPLETED, r.status(), id + ": " + r);
            assertEquals("handed over", r.summary(), id);
        }
        daemon.stopGracefully();
        assertTrue(daemon.awaitTermination(Duration.ofSeconds(10)));
        assertEquals(3, server.resultCount(), "nothing more sent at the stop: " + server.results);
        assertEquals(List.of(), server.violations);
    }

    @Test
    void shouldWaitForTheCleanUpWhenDraining() throws Exception {
        start(1, 30_000);
        server.enqueue(FakeServer.task("reports-drain"));
        await().atMost(Duration.ofSeconds(10)).until(() -> server.results.containsKey("reports-drain"));
        daemon.stopGracefully();
        await("the drain waits for the clean-up").during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2))
                .until(() -> !daemon.isTerminated() && executor.cleaning.contains("reports-drain"));
        executor.cleanup.countDown();
        assertTrue(daemon.awaitTermination(Duration.ofSeconds(10)));
        assertTrue(executor.closed.get());
        TaskResult r = onlyResult("reports-drain");
        assertEquals(ResultStatus.COMPLETED, r.status(), "not reported runner_shutdown on top: " + r);
    }

    @Test
    void shouldSendTheReasonWhenCancelledBeforeTheReport() throws Exception {
        start(1, 60_000);
        server.enqueue(FakeServer.task("hang-c"));
        await().atMost(Duration.ofSeconds(10)).until(() -> executor.executed.contains("hang-c"));
        server.cancelOnNextHeartbeat.add("hang-c");
        await().atMost(Duration.ofSeconds(10)).until(() -> server.results.containsKey("hang-c"));
        TaskResult r = onlyResult("hang-c");
        assertEquals(ErrorKind.CANCELLED, r.error().kind(), "an executor that never reports is judged by its return: " + r);
        assertFalse(executor.cleaning.contains("hang-c"));
    }
}
