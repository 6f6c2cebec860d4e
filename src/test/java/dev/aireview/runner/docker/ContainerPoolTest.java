package dev.aireview.runner.docker;

import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Container;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pre-warmed pool: containers started ahead with every limit, handed to a task, refilled, emptied on close. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ContainerPoolTest {
    private GitFixture git;

    @BeforeAll
    void setUp() throws Exception {
        DockerTestSupport.buildImage();
        git = GitFixture.start();
    }

    @AfterAll
    void tearDown() throws Exception {
        git.close();
        assertEquals(List.of(), DockerTestSupport.leftovers(), "containers, volumes or workspaces left behind");
        DockerTestSupport.removeRunnerDirs();
    }

    private static List<Container> pooled(String runner) {
        return DockerTestSupport.containersOfRunner(runner).stream()
                .filter(c -> Labels.POOL_TASK.equals(c.getLabels().get(Labels.TASK))).toList();
    }

    @Test
    void shouldHandOutAPreStartedContainerAndRefill() {
        String runner = DockerTestSupport.runnerName("pool");
        DockerTaskExecutor executor = new DockerTaskExecutor(DockerTestSupport.config(runner, "host", 1));
        try {
            executor.start();
            await().atMost(Duration.ofSeconds(60)).until(() -> executor.readyPoolContainers() == 1);
            List<Container> ready = pooled(runner);
            assertEquals(1, ready.size());
            InspectContainerResponse info = DockerTestSupport.docker().inspectContainerCmd(ready.get(0).getId()).exec();
            assertTrue(info.getState().getRunning(), "pooled container is running, waiting for task.json");
            DockerTestSupport.assertHardened(info, runner, Labels.POOL_TASK, "host");
            assertEquals(ContainerPool.WARMING_CPU_SHARES, info.getHostConfig().getCpuShares(),
                    "a warming pooled container yields the CPU to running tasks");
            Instant created = Instant.parse(info.getCreated());
            Instant startedAt = Instant.parse(info.getState().getStartedAt());

            Instant claim = Instant.now();
            RecordingContext ctx = new RecordingContext(Duration.ofSeconds(60));
            ReviewTask task = DockerTestSupport.task(null, git);
            TaskResult result = executor.execute(task, ctx);

            assertEquals(ResultStatus.COMPLETED, result.status(), () -> result + "\n" + ctx.lines());
            assertTrue(result.summary().contains("container=" + info.getId()),
                    "the review ran in the pooled container: " + result.summary());
            assertTrue(result.summary().contains("head=" + git.head()), result.summary());
            assertTrue(created.isBefore(claim) && startedAt.isBefore(claim),
                    "created " + created + " and started " + startedAt + " before the claim at " + claim);
            assertTrue(ctx.logged("using pre-warmed container " + info.getId().substring(0, 12)), ctx.lines().toString());
            assertTrue(DockerTestSupport.containersOfRunner(runner).stream().noneMatch(c -> c.getId().equals(info.getId())),
                    "a pooled container serves one task and is destroyed");

            await().atMost(Duration.ofSeconds(60)).until(() -> pooled(runner).stream()
                    .anyMatch(c -> !c.getId().equals(info.getId()) && "running".equals(c.getState())));
            await().atMost(Duration.ofSeconds(60)).until(() -> executor.readyPoolContainers() == 1);
            assertNotEquals(info.getId(), pooled(runner).get(0).getId());
        } finally {
            executor.close();
        }
        assertEquals(List.of(), DockerTestSupport.containersOfRunner(runner), "close() empties the pool");
        assertEquals(List.of(), new Workspaces(DockerTestSupport.WORKSPACE_BASE, runner).existing(), "pool workspaces deleted");
        assertFalse(java.nio.file.Files.exists(new Workspaces(DockerTestSupport.WORKSPACE_BASE, runner).runnerDir(),
                java.nio.file.LinkOption.NOFOLLOW_LINKS), "a clean close leaves no runner directory");
    }

    @Test
    void shouldRunConcurrentTasksPooledAndColdAndSpendNoPooledContainerOnACloneFailure() throws Exception {
        String runner = DockerTestSupport.runnerName("poolmix");
        try (DockerTaskExecutor executor = new DockerTaskExecutor(DockerTestSupport.config(runner, "host", 1))) {
            executor.start();
            await().atMost(Duration.ofSeconds(60)).until(() -> executor.readyPoolContainers() == 1);
            RecordingContext a = new RecordingContext(Duration.ofSeconds(60));
            RecordingContext b = new RecordingContext(Duration.ofSeconds(60));
            var first = java.util.concurrent.CompletableFuture.supplyAsync(() -> executor.execute(DockerTestSupport.task(null, git), a));
            var second = java.util.concurrent.CompletableFuture.supplyAsync(() -> executor.execute(DockerTestSupport.task(null, git), b));
            TaskResult ra = first.get(90, TimeUnit.SECONDS);
            TaskResult rb = second.get(90, TimeUnit.SECONDS);
            assertEquals(ResultStatus.COMPLETED, ra.status(), () -> ra + "\n" + a.lines());
            assertEquals(ResultStatus.COMPLETED, rb.status(), () -> rb + "\n" + b.lines());
            assertEquals(1, List.of(a, b).stream().filter(c -> c.logged("using pre-warmed container")).count(),
                    "one task took the pooled container, the other started cold");

            await().atMost(Duration.ofSeconds(60)).until(() -> executor.readyPoolContainers() == 1);
            String pooledId = pooled(runner).get(0).getId();
            RecordingContext ctx = new RecordingContext(Duration.ofSeconds(60));
            ReviewTask bad = DockerTestSupport.task(null, git.missingUrl(), "feature/x", git.head(), null, null);
            TaskResult result = executor.execute(bad, ctx);
            assertEquals(dev.aireview.runner.model.ErrorKind.CLONE_FAILED, result.error().kind(), () -> result + "\n" + ctx.lines());
            assertTrue(result.error().message().contains("not exported"), result.error().message());
            // the trusted fetch fails before any container is taken: the pooled container stays ready for the next task
            assertFalse(ctx.logged("using pre-warmed container"), ctx.lines().toString());
            assertEquals(List.of(pooledId), pooled(runner).stream().map(Container::getId).toList(),
                    "the pooled container was not spent on a task whose repository cannot be fetched");
        }
        assertEquals(List.of(), DockerTestSupport.containersOfRunner(runner));
        assertEquals(List.of(), new Workspaces(DockerTestSupport.WORKSPACE_BASE, runner).existing());
    }

    @Test
    void shouldApplyTheConfiguredNetworkModeToPooledContainers() {
        String runner = DockerTestSupport.runnerName("poolnone");
        try (DockerTaskExecutor executor = new DockerTaskExecutor(DockerTestSupport.config(runner, "none", 2))) {
            executor.start();
            await().atMost(Duration.ofSeconds(60)).until(() -> executor.readyPoolContainers() == 2);
            List<Container> ready = pooled(runner);
            assertEquals(2, ready.size());
            for (Container c : ready) {
                DockerTestSupport.assertHardened(DockerTestSupport.docker().inspectContainerCmd(c.getId()).exec(),
                        runner, Labels.POOL_TASK, "none");
            }
        }
        assertEquals(List.of(), DockerTestSupport.containersOfRunner(runner), "close() empties the pool");
    }
}
