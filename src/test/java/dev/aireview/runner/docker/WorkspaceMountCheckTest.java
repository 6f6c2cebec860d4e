package dev.aireview.runner.docker;

import com.github.dockerjava.api.DockerClient;
import dev.aireview.runner.config.DockerConfig;
import dev.aireview.runner.config.PullPolicy;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** The start-up check of the Docker-out-of-Docker workspace rule, against the real engine. */
class WorkspaceMountCheckTest {
    static final String RUNNER = "it-mountcheck-" + UUID.randomUUID().toString().substring(0, 8);
    static Path base;

    @BeforeAll
    static void createWorkspace() throws Exception {
        base = Files.createTempDirectory("ai-review-mountcheck");
    }

    @AfterAll
    static void cleanUp() throws Exception {
        DockerClient docker = DockerTestSupport.docker();
        assertTrue(docker.listContainersCmd().withShowAll(true).withLabelFilter(Map.of(Labels.RUNNER, RUNNER)).exec().isEmpty(),
                "the check container is always removed");
        Workspaces.deleteTree(base);
    }

    static DockerConfig config() {
        return new DockerConfig("unix:///var/run/docker.sock", "debian:bookworm-slim", PullPolicy.NEVER, 64L * 1024 * 1024, 0.5,
                "bridge", base, Duration.ofSeconds(60), 0, 1, 64, "10001:10001", Duration.ofSeconds(1), RUNNER);
    }

    @Test
    void shouldPassWhenTheEngineSeesTheRunnersDirectoryAndLeaveNothingBehind() throws Exception {
        DockerClient docker = DockerTestSupport.docker();
        Workspaces workspaces = new Workspaces(base, RUNNER);
        WorkspaceMountCheck.verify(docker, new ContainerSpecs(config()), new ContainerRunner(docker, Duration.ofSeconds(1)), workspaces);
        try (Stream<Path> left = Files.list(workspaces.runnerDir())) {
            assertEquals(0, left.count(), "the check directory is deleted");
        }
    }

    @Test
    void shouldFailNamingTheRuleWhenTheEngineMountsAnotherDirectory() throws Exception {
        DockerClient docker = DockerTestSupport.docker();
        Path runnerSide = Files.createDirectories(base.resolve("runner-side"));
        Path daemonSide = Files.createDirectories(base.resolve("daemon-side"));
        Files.setPosixFilePermissions(runnerSide, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        DockerExecutorException e = assertThrows(DockerExecutorException.class, () -> WorkspaceMountCheck.verify(docker,
                new ContainerSpecs(config()), new ContainerRunner(docker, Duration.ofSeconds(1)), runnerSide, daemonSide));
        assertTrue(e.getMessage().contains("does not see the runner's workspace directory"), e.getMessage());
        assertTrue(e.getMessage().contains("DOCKER_WORKSPACE_BASE"), e.getMessage());
        assertTrue(e.getMessage().contains("identical path"), e.getMessage());
    }
}
