package dev.aireview.runner.e2e;

import com.github.dockerjava.api.model.Container;
import dev.aireview.runner.devserver.TaskSnapshot;
import dev.aireview.runner.docker.DockerTestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.time.Duration;
import java.util.List;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A review cancelled through the admin API while its container runs: stopped, removed, reported cancelled. */
class CancelIT {
    @RegisterExtension
    static final E2eFixture fixture = E2eFixture.withTestImage(Duration.ofSeconds(10));

    @Test
    void cancelFromTheAdminApiStopsTheContainerAndEndsTheTaskCancelled() throws Exception {
        String name = DockerTestSupport.runnerName("cancel");
        try (var runner = E2e.inProcess(E2e.env(fixture.server(), name, DockerTestSupport.IMAGE, 1))) {
            String id = fixture.server().enqueue(E2e.task(fixture.git(), "sleep").build()); // sleeps until stopped
            fixture.server().awaitTask(id, t -> "reviewing".equals(t.phase()), Duration.ofSeconds(60));
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(100)).until(() ->
                    E2e.containersOfTask(name, id).stream().anyMatch(c -> "running".equals(c.getState())));
            List<Container> containers = E2e.containersOfTask(name, id);
            assertEquals(1, containers.size(), "one review container: " + containers);
            assertTrue(Files.isDirectory(E2e.workspace(name, id)), "workspace exists while the review runs");

            fixture.server().cancel(id);
            TaskSnapshot t = fixture.server().awaitTerminal(id, Duration.ofSeconds(60));
            assertEquals("cancelled", t.resultStatus(), t.errorKind() + " " + t.errorMessage() + "\n" + E2e.logText(t));
            assertEquals("cancelled", t.errorKind());
            assertEquals(1, t.resultCalls());
            assertEquals(0, t.secretLeaks());
            // the result is sent before the clean-up (docs/docker-executor.md): wait for it to end
            await("container stopped and removed, workspace deleted").atMost(Duration.ofSeconds(60))
                    .until(() -> E2e.containersOfTask(name, id).isEmpty() && !Files.exists(E2e.workspace(name, id)));
            await().atMost(Duration.ofSeconds(60)).until(() -> runner.daemon().runningTaskIds().isEmpty());

            // The slot is free again: the next review runs normally.
            String next = fixture.server().enqueue(E2e.task(fixture.git(), null).build());
            assertEquals("completed", fixture.server().awaitTerminal(next, Duration.ofSeconds(60)).resultStatus());
        }
    }
}
