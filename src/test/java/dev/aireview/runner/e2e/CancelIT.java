package dev.aireview.runner.e2e;

import com.github.dockerjava.api.model.Container;
import dev.aireview.runner.devserver.DevServer;
import dev.aireview.runner.devserver.TaskSnapshot;
import dev.aireview.runner.docker.DockerTestSupport;
import dev.aireview.runner.docker.GitFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.time.Duration;
import java.util.List;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A review cancelled through the admin API while its container runs: stopped, removed, reported cancelled. */
class CancelIT {
    private static GitFixture git;
    private static DevServer server;

    @BeforeAll
    static void setUp() throws Exception {
        DockerTestSupport.buildImage();
        git = GitFixture.start();
        server = E2e.server(Duration.ofSeconds(10));
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (server != null) {
            server.close();
        }
        if (git != null) {
            git.close();
        }
        E2e.assertNothingLeft();
    }

    @Test
    void cancelFromTheAdminApiStopsTheContainerAndEndsTheTaskCancelled() throws Exception {
        String name = DockerTestSupport.runnerName("cancel");
        try (var runner = E2e.inProcess(E2e.env(server, name, DockerTestSupport.IMAGE, 1))) {
            String id = server.enqueue(E2e.task(git, "sleep").build()); // sleeps until stopped
            server.awaitTask(id, t -> "reviewing".equals(t.phase()), Duration.ofSeconds(60));
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() ->
                    E2e.containersOfTask(name, id).stream().anyMatch(c -> "running".equals(c.getState())));
            List<Container> containers = E2e.containersOfTask(name, id);
            assertEquals(1, containers.size(), "one review container: " + containers);
            assertTrue(Files.isDirectory(E2e.workspace(name, id)), "workspace exists while the review runs");

            server.cancel(id);
            TaskSnapshot t = server.awaitTerminal(id, Duration.ofSeconds(60));
            assertEquals("cancelled", t.resultStatus(), t.errorKind() + " " + t.errorMessage() + "\n" + E2e.logText(t));
            assertEquals("cancelled", t.errorKind());
            assertEquals(1, t.resultCalls());
            assertEquals(0, t.secretLeaks());
            assertEquals(List.of(), E2e.containersOfTask(name, id), "container stopped and removed");
            assertFalse(Files.exists(E2e.workspace(name, id)), "workspace removed");
            await().atMost(Duration.ofSeconds(10)).until(() -> runner.daemon().runningTaskIds().isEmpty());

            // The slot is free again: the next review runs normally.
            String next = server.enqueue(E2e.task(git, null).build());
            assertEquals("completed", server.awaitTerminal(next, Duration.ofSeconds(60)).resultStatus());
        }
    }
}
