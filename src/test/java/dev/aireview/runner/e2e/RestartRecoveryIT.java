package dev.aireview.runner.e2e;

import dev.aireview.runner.devserver.Attempt;
import dev.aireview.runner.devserver.Fault;
import dev.aireview.runner.devserver.TaskSnapshot;
import dev.aireview.runner.docker.DockerTestSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Crash, then a quick restart: a runner killed with SIGKILL mid-review and started again under its name (well
 * before the server's heartbeat timeout) reports the task it lost as {@code failed/runner_shutdown}, once, instead of
 * leaving it in {@code reviewing} until the server notices. The dev server takes that report as a retry request
 * (docs/dev-server.md): the task goes back to the queue as a second attempt, which the restarted runner completes.
 * That holds too when nothing of the task is left for the reaper to find (killed while delivering the result, after
 * its container and workspace were gone): the claim journal names it.
 */
class RestartRecoveryIT {
    /** Long enough that the server never re-queues the task by itself during the test. */
    @RegisterExtension
    static final E2eFixture fixture = E2eFixture.withTestImage(Duration.ofMinutes(10));

    private static final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterAll
    static void tearDown() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    @Test
    void shouldReportTheTaskAKilledRunnerLostOnceWhenItRestarts() throws Exception {
        String a = DockerTestSupport.runnerName("restart");
        Map<String, String> env = E2e.env(fixture.server(), a, DockerTestSupport.IMAGE, 1);
        E2e.RunnerProcess first = E2e.startOnline(fixture.server(), env, toClose);
        String id = E2e.killNineWhileReviewing(fixture.server(), fixture.git(), first);

        try (var again = E2e.inProcess(env)) {
            TaskSnapshot done = fixture.server().awaitTerminal(id, Duration.ofSeconds(60));
            Attempt lost = done.attempts().get(0);
            assertEquals("failed", lost.resultStatus(), done.toString());
            assertEquals("runner_shutdown", lost.errorKind());
            assertEquals("the runner restarted while this review ran", lost.errorMessage());
            assertEquals(1, lost.resultCalls(), "reported once");
            assertEquals("requeued", lost.end(), "the report re-queued the task");
            assertEquals(1, done.shutdownRequeues());
            assertEquals(2, done.claimCount(), "claimed again after the report");
            assertEquals("completed", done.resultStatus(), "the retry completed: " + done.errorKind() + " " + done.errorMessage());
            assertEquals(2, done.resultCalls(), "the report and the retry's result");
            // the reaper removed the first attempt's container before registering; the retry's own container goes
            // after its result was sent (the result before the clean-up), so wait for that clean-up to end
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() ->
                    DockerTestSupport.containersOfRunner(a).isEmpty());
        }
        E2e.assertNothingLeft();
    }

    @Test
    void shouldReportATaskWhoseResultCallWasInFlightWhenTheRunnerWasKilled() throws Exception {
        String b = DockerTestSupport.runnerName("journal");
        Map<String, String> env = E2e.env(fixture.server(), b, DockerTestSupport.IMAGE, 1);
        E2e.RunnerProcess first = E2e.startOnline(fixture.server(), env, toClose);
        // the result call gets its headers, then its body stalls: the runner is killed while delivering
        fixture.server().injectFault(Fault.stall("result", null, 1));
        String id = fixture.server().enqueue(E2e.task(fixture.git(), null).build());
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100)).until(() ->
                fixture.server().injectedFaults().getOrDefault("result:stall", 0) >= 1);
        // nothing of the task is left for the reaper: its containers and workspace go before the result is sent
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() ->
                E2e.containersOfTask(b, id).isEmpty() && !java.nio.file.Files.exists(E2e.workspace(b, id)));
        assertEquals(137, first.kill9(), "killed by SIGKILL");

        try (var again = E2e.inProcess(env)) {
            TaskSnapshot done = fixture.server().awaitTerminal(id, Duration.ofSeconds(90));
            Attempt lost = done.attempts().get(0);
            assertEquals("failed", lost.resultStatus(), done.toString());
            assertEquals("runner_shutdown", lost.errorKind());
            assertEquals("the runner restarted while this review ran", lost.errorMessage());
            assertEquals("requeued", lost.end(), "the report re-queued the task");
            assertEquals(1, done.shutdownRequeues());
            assertEquals(2, done.claimCount(), "claimed again after the report");
            assertEquals("completed", done.resultStatus(), "the retry completed: " + done.errorKind() + " " + done.errorMessage());
        } finally {
            fixture.server().clearFaults(); // the stalled call of the killed process is then answered 409
        }
        E2e.assertNothingLeft();
    }
}
