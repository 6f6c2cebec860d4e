package dev.aireview.runner.e2e;

import dev.aireview.runner.devserver.RunnerSnapshot;
import dev.aireview.runner.devserver.TaskSnapshot;
import dev.aireview.runner.docker.DockerTestSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A runner process killed with SIGKILL in the middle of a review: the server re-queues its task after the heartbeat
 * timeout, another runner completes it, and the killed runner, started again under its name, reaps what it left.
 */
class KillNineIT {
    @RegisterExtension
    static final E2eFixture fixture = E2eFixture.withTestImage(Duration.ofSeconds(8)); // long enough that a busy machine never silences the survivor

    private static final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterAll
    static void tearDown() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    @Test
    void killedRunnersTaskIsCompletedByTheOtherAndItsLeftoversAreReapedOnRestart() throws Exception {
        String a = DockerTestSupport.runnerName("kill-a");
        String b = DockerTestSupport.runnerName("kill-b");
        Map<String, String> envA = E2e.env(fixture.server(), a, DockerTestSupport.IMAGE, 1);
        E2e.RunnerProcess first = E2e.startOnline(fixture.server(), envA, toClose);
        String id = E2e.killNineWhileReviewing(fixture.server(), fixture.git(), first);

        // The other runner starts only now, so the task can reach it only through the re-queue.
        try (var other = E2e.inProcess(E2e.env(fixture.server(), b, DockerTestSupport.IMAGE, 1))) {
            TaskSnapshot done = fixture.server().awaitTerminal(id, Duration.ofSeconds(90));
            assertEquals("completed", done.resultStatus(), done.errorKind() + " " + done.errorMessage() + "\n" + E2e.logText(done));
            assertEquals(b, done.runnerId());
            assertEquals(2, done.claimCount(), "claimed by the killed runner, then by the other");
            assertEquals(1, done.requeues());
            assertEquals(List.of(a), done.formerRunners());
            assertEquals(1, done.resultCalls(), "only the surviving runner reported a result");
            assertEquals(0, done.secretLeaks());
            assertTrue(done.phaseNames().contains("requeued"), done.phaseNames().toString());
            RunnerSnapshot dead = fixture.server().runner(a).orElseThrow();
            assertEquals("offline", dead.status());
            assertTrue(dead.timeouts() >= 1, "marked offline by the heartbeat timeout: " + dead);
        }

        // What the killed process left: its review container (exited or still running) and the task's workspace.
        assertFalse(DockerTestSupport.containersOfRunner(a).isEmpty(), "the killed runner's container is still there");
        assertTrue(Files.isDirectory(E2e.workspace(a, id)), "the killed runner's workspace is still there");

        E2e.RunnerProcess again = E2e.process(envA);
        toClose.add(again);
        // The reaper runs before the runner registers: its second registration means the reaping is done.
        fixture.server().awaitRunners(rs -> rs.stream().anyMatch(r -> r.id().equals(a) && r.registrations() >= 2 && r.online()),
                Duration.ofSeconds(60));
        assertEquals(List.of(), DockerTestSupport.containersOfRunner(a), "reaper removed the leftover container");
        assertEquals(List.of(), E2e.workspacesOf(a), "reaper removed the leftover workspace");
        // its claim journal still named the task: reported after registering (the server answers 409, the other
        // runner completed it), then removed, and the journal's directory with it
        java.nio.file.Path claims = new dev.aireview.runner.docker.Workspaces(DockerTestSupport.WORKSPACE_BASE, a).claimsDir();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> !Files.exists(claims));
        String out = again.output();
        assertTrue(Pattern.compile("removed [1-9]\\d* container\\(s\\), \\d+ volume\\(s\\), [1-9]\\d* workspace\\(s\\)").matcher(out).find(),
                "the reaper logs what it removed:\n" + out);
        assertEquals(0, again.terminate(), again.output());
        assertFalse(again.output().contains(fixture.server().token()), "the runner token never appears in the runner's log");
    }
}
