package dev.aireview.runner.docker;

import com.github.dockerjava.api.DockerClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a killed runner left (running and stopped containers, a volume, workspaces) is removed when it starts again. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class OrphanReaperTest {

    @BeforeAll
    void setUp() {
        DockerTestSupport.buildImage();
    }

    @AfterAll
    void tearDown() throws Exception {
        assertEquals(List.of(), DockerTestSupport.leftovers(), "containers, volumes or workspaces left behind");
        DockerTestSupport.removeRunnerDirs();
    }

    @Test
    void shouldEmptyAWorkspaceThroughAContainerRunningAsTheContainerUser() throws Exception {
        DockerClient docker = DockerTestSupport.docker();
        String runner = DockerTestSupport.runnerName("cleanup");
        try (DockerTaskExecutor executor = new DockerTaskExecutor(DockerTestSupport.config(runner, "none", 0))) {
            executor.start();
            Workspaces workspaces = new Workspaces(DockerTestSupport.WORKSPACE_BASE, runner);
            Path ws = workspaces.create("task-files");
            String writer = new ContainerSpecs(DockerTestSupport.config(runner, "none", 0)).script(docker, ws, "task-files",
                    "review", "mkdir -p /workspace/repo/.git/objects && echo x > /workspace/repo/.git/objects/a && chmod 555 /workspace/repo/.git/objects", List.of()).exec().getId();
            try {
                docker.startContainerCmd(writer).exec();
                assertEquals(0, docker.waitContainerCmd(writer).start().awaitStatusCode(30, TimeUnit.SECONDS));
            } finally {
                docker.removeContainerCmd(writer).withForce(true).exec();
            }
            assertEquals(10001, Files.getAttribute(ws.resolve("repo"), "unix:uid"), "written by the container user");

            executor.emptyViaContainer(ws);

            try (var left = Files.list(ws)) {
                assertEquals(List.of(), left.toList(), "content deleted by the cleanup container");
            }
            assertTrue(workspaces.delete(ws));
            assertEquals(List.of(), DockerTestSupport.containersOfRunner(runner), "cleanup container removed");
        }
    }

    @Test
    void shouldCleanButNotReportATaskWhoseResultWasHandedOverBeforeTheCrash() throws Exception {
        DockerClient docker = DockerTestSupport.docker();
        String runner = DockerTestSupport.runnerName("cleaning");
        // killed while cleaning up after the result: its review container, its workspace and its mark are left
        String review = docker.createContainerCmd(DockerTestSupport.IMAGE).withEntrypoint("true")
                .withLabels(Labels.of(runner, "task-sent-1", "review")).exec().getId();
        String other = docker.createContainerCmd(DockerTestSupport.IMAGE).withEntrypoint("true")
                .withLabels(Labels.of(runner, "task-running-2", "review")).exec().getId();
        Workspaces workspaces = new Workspaces(DockerTestSupport.WORKSPACE_BASE, runner);
        Path ws = workspaces.create("task-sent-1");
        Files.writeString(ws.resolve(Workspaces.TASK_FILE), "{\"id\":\"task-sent-1\",\"headSha\":\"abc\"}");
        new dev.aireview.runner.execution.DirectoryClaimJournal(workspaces.cleaningDir()).record("task-sent-1");
        try (DockerTaskExecutor executor = new DockerTaskExecutor(DockerTestSupport.config(runner, "none", 0))) {
            executor.start();

            assertEquals(List.of(), DockerTestSupport.containersOfRunner(runner), "containers reaped");
            assertFalse(Files.exists(ws), "workspace reaped");
            assertEquals(List.of("task-running-2"), executor.leftoverTaskIds(),
                    "the task whose result was handed over is not reported again; the other one is");
            assertFalse(Files.exists(workspaces.cleaningDir()), "the mark goes once its leftovers are gone");
        } finally {
            for (String id : List.of(review, other)) {
                try {
                    docker.removeContainerCmd(id).withForce(true).exec();
                } catch (com.github.dockerjava.api.exception.NotFoundException ignored) {
                    // reaped, as it should be
                }
            }
        }
    }

    @Test
    void shouldRemoveWhatAKilledRunnerLeftBehind() throws Exception {
        DockerClient docker = DockerTestSupport.docker();
        String runner = DockerTestSupport.runnerName("reap");
        String other = DockerTestSupport.runnerName("other");
        String running = docker.createContainerCmd(DockerTestSupport.IMAGE).withEntrypoint("sleep", "300")
                .withLabels(Labels.of(runner, "task-old-1", "review")).exec().getId();
        docker.startContainerCmd(running).exec();
        String stopped = docker.createContainerCmd(DockerTestSupport.IMAGE).withEntrypoint("true")
                .withLabels(Labels.of(runner, "task-old-2", "clone")).exec().getId();
        String volume = docker.createVolumeCmd().withLabels(Map.of(Labels.RUNNER, runner, Labels.TASK, "task-old-1",
                Labels.MANAGED, "true")).exec().getName();
        String foreign = docker.createContainerCmd(DockerTestSupport.IMAGE).withEntrypoint("true")
                .withLabels(Labels.of(other, "task-x", "review")).exec().getId();
        Workspaces workspaces = new Workspaces(DockerTestSupport.WORKSPACE_BASE, runner);
        Path old = workspaces.create("task-old-1");
        Files.createDirectories(old.resolve("repo/.git"));
        Files.writeString(old.resolve("repo/.git/HEAD"), "ref: refs/heads/main\n");
        Path pool = workspaces.create("pool-abc");
        // a pre-warmed container's task is known only from its task.json
        Files.writeString(pool.resolve(Workspaces.TASK_FILE), "{\"id\":\"task-pooled-3\",\"headSha\":\"abc\"}");
        Path checkDir = workspaces.create("pool-empty");
        // the scheduler's claim journal lives beside the workspaces: the reaper must leave it alone
        new dev.aireview.runner.execution.DirectoryClaimJournal(workspaces.claimsDir()).record("task-claimed-4");
        try {
            assertEquals(2, DockerTestSupport.containersOfRunner(runner).size());

            try (DockerTaskExecutor executor = new DockerTaskExecutor(DockerTestSupport.config(runner, "none", 0))) {
                executor.start();

                assertEquals(List.of(), DockerTestSupport.containersOfRunner(runner), "containers reaped");
                assertTrue(docker.listVolumesCmd().exec().getVolumes().stream().noneMatch(v -> v.getName().equals(volume)),
                        "volume reaped");
                assertFalse(Files.exists(old), "workspace reaped");
                assertFalse(Files.exists(pool), "pool workspace reaped");
                assertFalse(Files.exists(checkDir));
                assertEquals(java.util.Set.of("task-old-1", "task-old-2", "task-pooled-3"),
                        java.util.Set.copyOf(executor.leftoverTaskIds()), "the tasks to report runner_shutdown, once each");
                assertEquals(3, executor.leftoverTaskIds().size());
                assertEquals(1, DockerTestSupport.containersOfRunner(other).size(), "another runner's containers are left alone");
                assertEquals(List.of("task-claimed-4"), executor.claimJournal().list(), "the claim journal survives the reaper");
                executor.claimJournal().remove("task-claimed-4");
                assertFalse(Files.exists(workspaces.claimsDir()), "its directory goes with its last entry");
            }
        } finally {
            docker.removeContainerCmd(foreign).withForce(true).exec();
            for (String id : List.of(running, stopped)) {
                try {
                    docker.removeContainerCmd(id).withForce(true).exec();
                } catch (com.github.dockerjava.api.exception.NotFoundException ignored) {
                    // reaped, as it should be
                }
            }
        }
    }
}
