package dev.aireview.runner.docker;

import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Container;
import dev.aireview.runner.config.DockerConfig;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The second wall: DOCKER_RUNTIME (gVisor's runsc as the engine registers it here) for the review container only,
 * checked at start-up, and DOCKER_CLONE_NETWORK_MODE, so an offline review (network none) still gets its repository: the
 * runner's trusted fetch reaches the git host, the checkout container and the review run offline.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class IsolationTest {
    private GitFixture git;

    @BeforeAll
    void setUp() throws Exception {
        DockerTestSupport.buildImage();
        git = GitFixture.start();
    }

    @AfterAll
    void tearDown() throws Exception {
        if (git != null) {
            git.close();
        }
        assertEquals(List.of(), DockerTestSupport.leftovers(), "containers, volumes or workspaces left behind");
        DockerTestSupport.removeRunnerDirs();
    }

    private static boolean engineHasRunsc() {
        Map<String, ?> runtimes = DockerTestSupport.docker().infoCmd().exec().getRuntimes();
        return runtimes != null && runtimes.containsKey("runsc");
    }

    @Test
    void shouldRunAnOfflineReviewUnderRunscWhileTheCloneUsesTheHostNetwork() throws Exception {
        assumeTrue(engineHasRunsc(), "assumes the Docker engine lists gVisor as runtime 'runsc' "
                + "(../shared/tools/ensure-docker.sh registers it); this engine does not, so the runsc review is not tested");
        String runner = DockerTestSupport.runnerName("runsc");
        DockerConfig config = DockerTestSupport.config(runner, "none", 0).withIsolation("runsc", "host");
        try (DockerTaskExecutor ex = new DockerTaskExecutor(config)) {
            ex.start();
            RunscAttempt first = runscReview(ex);
            // once in CI (2026-12-07) the sandboxed test script exited 2 after its last line with no result and no
            // stderr, not reproduced in more than ten runs here: the runner reported exactly what the container did, so the
            // review is tried once more; a second failure fails the test
            boolean again = first.result().status() != ResultStatus.COMPLETED && first.containerFailedAlone();
            if (again) {
                System.out.println("IsolationTest: the runsc review failed once, trying again: " + first.result() + "\n" + first.lines());
            }
            RunscAttempt done = again ? runscReview(ex) : first;
            TaskResult result = done.result();
            assertEquals(ResultStatus.COMPLETED, result.status(), () -> result + "\n" + done.lines()
                    + (done == first ? "" : "\nfirst attempt: " + first.result() + "\n" + first.lines()));
            assertTrue(result.summary().contains("head=" + git.head()), "the clone reached the git host: " + result.summary());
            assertEquals(List.of(), new Workspaces(DockerTestSupport.WORKSPACE_BASE, runner).existing());
        }
    }

    /** One offline review under runsc: its result and log lines; the isolation it ran under is asserted here. */
    private record RunscAttempt(TaskResult result, List<String> lines) {
        /** The review container itself exited non-zero after the runner ran every step: not a runner failure. */
        boolean containerFailedAlone() {
            return result.error() != null && result.error().kind() == dev.aireview.runner.model.ErrorKind.EXECUTOR_FAILED
                    && result.stats() != null && result.stats().exitCode() != null && result.stats().exitCode() != 0
                    && lines.stream().anyMatch(l -> l.contains("slow review started"));
        }
    }

    private RunscAttempt runscReview(DockerTaskExecutor ex) throws Exception {
        ReviewTask task = DockerTestSupport.task("slow", git);
        RecordingContext ctx = new RecordingContext(Duration.ofSeconds(150));
        List<String> seen = new CopyOnWriteArrayList<>();
        // the engine's own record of the task's containers, in order: the review must be created after the clone died
        List<String> events = new CopyOnWriteArrayList<>();
        com.github.dockerjava.api.async.ResultCallback.Adapter<com.github.dockerjava.api.model.Event> listener =
                DockerTestSupport.docker().eventsCmd().withLabelFilter(Labels.TASK + "=" + task.id())
                        .withEventFilter("create", "start", "die")
                        .exec(new com.github.dockerjava.api.async.ResultCallback.Adapter<>() {
                            @Override
                            public void onNext(com.github.dockerjava.api.model.Event e) {
                                Map<String, String> attrs = e.getActor() == null ? Map.of() : e.getActor().getAttributes();
                                events.add(attrs.get(Labels.ROLE) + " " + e.getAction());
                            }
                        });
        CompletableFuture<TaskResult> running = CompletableFuture.supplyAsync(() -> ex.execute(task, ctx));
        await().atMost(Duration.ofSeconds(120)).until(() -> {
            for (Container c : DockerTestSupport.containersOfTask(task.id())) {
                InspectContainerResponse info;
                try {
                    info = DockerTestSupport.docker().inspectContainerCmd(c.getId()).exec();
                } catch (com.github.dockerjava.api.exception.NotFoundException gone) {
                    continue; // removed between the listing and the inspection
                }
                String role = info.getConfig().getLabels().get(Labels.ROLE);
                String entry = role + " runtime=" + info.getHostConfig().getRuntime() + " network=" + info.getHostConfig().getNetworkMode();
                if (!seen.contains(entry)) {
                    seen.add(entry);
                }
            }
            return seen.stream().anyMatch(s -> s.startsWith("review")) || running.isDone();
        });
        TaskResult result = running.get(150, TimeUnit.SECONDS);
        await("the engine reported the review container's end").atMost(Duration.ofSeconds(30))
                .until(() -> events.contains("review die"));
        listener.close();
        assertTrue(events.indexOf("checkout die") >= 0 && events.indexOf("checkout die") < events.indexOf("review create"),
                "under gVisor the review sandbox starts only once the checkout has finished, so it sees the whole checkout: "
                        + events);
        assertTrue(seen.contains("review runtime=runsc network=none"), seen.toString());
        assertTrue(seen.stream().filter(s -> s.startsWith("checkout")).allMatch(s -> s.equals("checkout runtime=runc network=none")
                || s.equals("checkout runtime=null network=none")), "the checkout runs offline under the default runtime: " + seen);
        assertTrue(seen.stream().noneMatch(s -> s.startsWith("clone")), "no clone container of the executor image: " + seen);
        return new RunscAttempt(result, ctx.lines());
    }

    @Test
    void shouldCheckOutForAnOfflinePooledReview() throws Exception {
        String runner = DockerTestSupport.runnerName("offline-pool");
        DockerConfig config = DockerTestSupport.config(runner, "none", 1).withIsolation(null, "host");
        try (DockerTaskExecutor ex = new DockerTaskExecutor(config)) {
            ex.start();
            await().atMost(Duration.ofSeconds(60)).until(() -> ex.readyPoolContainers() >= 1);
            RecordingContext ctx = new RecordingContext(Duration.ofSeconds(90));

            TaskResult result = ex.execute(DockerTestSupport.task(null, git), ctx);

            assertEquals(ResultStatus.COMPLETED, result.status(), () -> result + "\n" + ctx.lines());
            assertTrue(ctx.logged("using pre-warmed container"), ctx.lines().toString());
            assertTrue(result.summary().contains("head=" + git.head()), result.summary());
        }
    }

    @Test
    void shouldRefuseToStartWithARuntimeTheEngineDoesNotList() {
        String runner = DockerTestSupport.runnerName("noruntime");
        DockerConfig config = DockerTestSupport.config(runner, "none", 0).withIsolation("no-such-runtime", null);
        DockerTaskExecutor ex = new DockerTaskExecutor(config);

        DockerExecutorException e = assertThrows(DockerExecutorException.class, ex::start);

        assertTrue(e.getMessage().startsWith("DOCKER_RUNTIME='no-such-runtime' is not a runtime of the Docker engine (it lists: "),
                e.getMessage());
        assertTrue(e.getMessage().contains("runc"), e.getMessage());
        ex.close();
    }

    @Test
    void shouldGiveTheCloneItsOwnNetworkModeByDefaultTheReviews() {
        DockerConfig same = DockerTestSupport.config("x", "bridge", 0);
        assertEquals("bridge", same.cloneNetworkMode());
        DockerConfig split = same.withIsolation(null, "host");
        assertEquals("host", split.cloneNetworkMode());
    }
}
