package dev.aireview.runner.e2e;

import dev.aireview.runner.devserver.TaskSnapshot;
import dev.aireview.runner.docker.DockerTestSupport;
import dev.aireview.runner.docker.HostileExecutorTest;
import dev.aireview.runner.docker.Workspaces;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole runner (dev server, scheduler, Docker executor) with the hostile executor image and a pre-warmed pool:
 * each hostile trick ends its task with exactly one failed result naming it, the server receives nothing of the
 * planted host file, the host files stay as they were, and the same runner then completes a normal review.
 */
class HostileImageIT {
    @RegisterExtension
    static final E2eFixture fixture = E2eFixture.withoutTestImage(Duration.ofSeconds(10));
    private static final Path HOST = HostileExecutorTest.HOST;
    private static final String SECRET = "HOST-SECRET-" + UUID.randomUUID();

    @BeforeAll
    static void setUp() throws Exception {
        HostileExecutorTest.buildImage();
        Workspaces.deleteTree(HOST);
        Files.createDirectory(HOST, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Files.writeString(HOST.resolve("target"), "original host file\n");
        Files.setPosixFilePermissions(HOST.resolve("target"), PosixFilePermissions.fromString("rw-------"));
        Files.writeString(HOST.resolve("secret.json"), "{\"status\":\"completed\",\"summary\":\"" + SECRET + "\"}");
        Files.setPosixFilePermissions(HOST.resolve("secret.json"), PosixFilePermissions.fromString("rw-------"));
    }

    @AfterAll
    static void tearDown() throws Exception {
        Workspaces.deleteTree(HOST);
    }

    @Test
    void eachHostileResultFailsItsTaskOnceAndTheRunnerKeepsServing() throws Exception {
        String name = DockerTestSupport.runnerName("hostile-e2e");
        Map<String, String> env = E2e.env(fixture.server(), name, HostileExecutorTest.IMAGE, 1);
        env.put("DOCKER_POOL_SIZE", "1");
        env.put("DOCKER_WORKSPACE_LIMIT", "32m");
        Map<String, List<String>> expected = Map.of(
                "link-result", List.of("executor_failed", "result.json is not a regular file (it is a symbolic link)"),
                "fifo-result", List.of("executor_failed", "result.json is not a regular file (it is a FIFO)"),
                "huge-result", List.of("executor_failed", "result.json is larger than DOCKER_RESULT_LIMIT_BYTES"),
                "malformed", List.of("executor_failed", "result.json is not valid JSON"),
                "fill-disk", List.of("disk_limit", "DOCKER_WORKSPACE_LIMIT"));
        try (var runner = E2e.inProcess(env)) {
            for (String mode : List.of("link-result", "fifo-result", "huge-result", "malformed", "fill-disk")) {
                String id = fixture.server().enqueue(E2e.task(fixture.git(), mode).build());
                TaskSnapshot t = fixture.server().awaitTerminal(id, Duration.ofSeconds(120));
                String log = E2e.logText(t);
                assertEquals("failed", t.resultStatus(), mode + ": " + t.errorKind() + " " + t.errorMessage() + "\n" + log);
                assertEquals(expected.get(mode).get(0), t.errorKind(), mode + ": " + t.errorMessage());
                assertTrue(t.errorMessage().contains(expected.get(mode).get(1)), mode + ": " + t.errorMessage());
                assertEquals(1, t.resultCalls(), mode + ": exactly one result");
                assertEquals(0, t.secretLeaks(), mode);
                assertFalse(String.valueOf(t.result()).contains(SECRET), mode + ": the planted host file reached the server");
                assertFalse(log.contains(SECRET), mode + ": the planted host file reached the log");
                // the result is sent before the clean-up (docs/docker-executor.md): wait for it to end
                org.awaitility.Awaitility.await(mode + ": containers removed and workspace deleted").atMost(Duration.ofSeconds(60))
                        .until(() -> E2e.containersOfTask(name, id).isEmpty() && !Files.exists(E2e.workspace(name, id)));
            }
            String ok = fixture.server().enqueue(E2e.task(fixture.git(), "ok").build());
            TaskSnapshot done = fixture.server().awaitTerminal(ok, Duration.ofSeconds(120));
            assertEquals("completed", done.resultStatus(), done.errorKind() + " " + done.errorMessage() + "\n" + E2e.logText(done));
            assertTrue(fixture.server().runner(name).orElseThrow().online());
        }
        assertEquals("original host file\n", Files.readString(HOST.resolve("target")));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(HOST.resolve("target"))));
        assertEquals(0, (Integer) Files.getAttribute(HOST.resolve("target"), "unix:uid"));
        try (var s = Files.list(HOST)) {
            assertEquals(2, s.count(), "nothing created next to the host files");
        }
    }
}
