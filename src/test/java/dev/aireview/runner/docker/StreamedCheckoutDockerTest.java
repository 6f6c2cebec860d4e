package dev.aireview.runner.docker;

import com.github.dockerjava.api.async.ResultCallback;
import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A pre-warmed task's checkout without a checkout container: the runner streams the task's commits from its cache
 * entry by exec into the pooled container, whose own git indexes them ({@link StreamedCheckout}). No container of role
 * {@code checkout} is ever created (counted from the engine's events), and a link the pooled container planted in its
 * workspace does not make the runner write outside it (the runner writes nothing there).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class StreamedCheckoutDockerTest {
    private ExecutorFixture fixture;
    private GitFixture git;
    private String runner;
    private DockerTaskExecutor executor;

    @BeforeAll
    void setUp() throws Exception {
        fixture = ExecutorFixture.start("streamed", 1, c -> c);
        git = fixture.git;
        runner = fixture.runner;
        executor = fixture.executor;
    }

    @AfterAll
    void tearDown() throws Exception {
        if (fixture != null) {
            fixture.close();
        }
    }

    /** The containers of role {@code role} this runner created between {@code since} and now (the engine's events). */
    private List<String> created(String role, Instant since) throws InterruptedException {
        return created(runner, role, since);
    }

    private static List<String> created(String runner, String role, Instant since) throws InterruptedException {
        return DockerTestSupport.eventIds("create", java.util.Map.of(Labels.RUNNER, runner, Labels.ROLE, role), since);
    }

    /** How many execs were created in container {@code containerId} between {@code since} and now. */
    private long execsCreated(String containerId, Instant since) throws InterruptedException {
        return DockerTestSupport.eventIds("exec_create", java.util.Map.of(Labels.RUNNER, runner), since).stream()
                .filter(containerId::equals).count();
    }

    /** The running pooled container (once the pool is full). */
    private String pooledContainer() {
        pooledWorkspace();
        return DockerTestSupport.containersOfRunner(runner).stream()
                .filter(c -> Labels.POOL_TASK.equals(c.getLabels().get(Labels.TASK))).findFirst().orElseThrow().getId();
    }

    private Path pooledWorkspace() {
        await().atMost(Duration.ofSeconds(60)).until(() -> executor.readyPoolContainers() == 1);
        List<Path> pool = new Workspaces(DockerTestSupport.WORKSPACE_BASE, runner).existing().stream()
                .filter(p -> p.getFileName().toString().startsWith("pool-")).toList();
        assertEquals(1, pool.size(), pool.toString());
        return pool.get(0);
    }

    @Test
    void shouldCheckOutAPooledTaskWithoutACheckoutContainer() throws Exception {
        String pooled = pooledContainer();
        Instant since = Instant.now();
        RecordingContext ctx = new RecordingContext(Duration.ofSeconds(90));
        ReviewTask task = DockerTestSupport.task(null, git);

        TaskResult result = executor.execute(task, ctx);

        assertEquals(ResultStatus.COMPLETED, result.status(), () -> result + "\n" + ctx.lines());
        assertTrue(ctx.logged("using pre-warmed container"), ctx.lines().toString());
        assertTrue(result.summary().contains("head=" + git.head()), result.summary());
        assertTrue(result.summary().contains("base=yes"), "the base commit came with the stream: " + result.summary());
        assertTrue(ctx.logged("checked out " + git.head() + " from the runner's repository cache"), ctx.lines().toString());
        assertEquals(List.of(), created("checkout", since), "no checkout container for a pre-warmed task");
        assertEquals(0, execsCreated(pooled, since), "the checkout process was waiting in the container: no exec on the task's path");
        assertEquals(List.of(), DockerTestSupport.containersOfTask(task.id()));
    }

    @Test
    void shouldCheckOutByAnExecOfItsOwnWhenThePooledContainerKilledItsWaitingCheckout() throws Exception {
        String pooled = pooledContainer();
        // what the image's own code could do: kill every process of its user that waits with GIT_ENV_STDIN=1
        String kill = "for p in /proc/[0-9]*; do tr '\\0' '\\n' < $p/environ 2>/dev/null | grep -qx GIT_ENV_STDIN=1 && kill -9 ${p#/proc/}; done; true";
        var docker = DockerTestSupport.docker();
        String killer = docker.execCreateCmd(pooled).withCmd("sh", "-c", kill).withUser("10001:10001")
                .withAttachStdout(true).withAttachStderr(true).exec().getId();
        docker.execStartCmd(killer).exec(new ResultCallback.Adapter<>()).awaitCompletion(30, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(30)).until(() -> docker.inspectContainerCmd(pooled).exec().getExecIds() == null
                || docker.inspectContainerCmd(pooled).exec().getExecIds().stream()
                .noneMatch(e -> Boolean.TRUE.equals(docker.inspectExecCmd(e).exec().isRunning())));
        Instant since = Instant.now();
        RecordingContext ctx = new RecordingContext(Duration.ofSeconds(90));
        ReviewTask task = DockerTestSupport.task(null, git);

        TaskResult result = executor.execute(task, ctx);

        assertEquals(ResultStatus.COMPLETED, result.status(), () -> result + "\n" + ctx.lines());
        assertTrue(ctx.logged("using pre-warmed container " + ContainerRunner.shortId(pooled)), ctx.lines().toString());
        assertTrue(result.summary().contains("head=" + git.head()), result.summary());
        assertEquals(1, execsCreated(pooled, since), "one exec of its own made the checkout");
        assertEquals(List.of(), created("checkout", since), "no checkout container");
    }

    @Test
    void shouldEndTheWaitingCheckoutsWhenThePoolIsEmptied() throws Exception {
        pooledWorkspace();
        // the class's pooled container's waiting checkout gets its stdin-copy thread asynchronously (docker-java starts
        // an exec's stream on a thread of its own): counted before, not among the new executor's
        await().atMost(Duration.ofSeconds(30)).until(() -> hijackingThreads().size() == 1);
        java.util.Set<Thread> before = hijackingThreads();
        java.util.Set<Thread> added = new java.util.HashSet<>();
        String other = DockerTestSupport.runnerName("streamed-close");
        try (DockerTaskExecutor ex = new DockerTaskExecutor(DockerTestSupport.config(other, "host", 2))) {
            ex.start();
            await().atMost(Duration.ofSeconds(60)).until(() -> ex.readyPoolContainers() == 2);
            // each pooled container's waiting checkout has its input open: a thread of the Docker client copies it
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                added.clear();
                added.addAll(hijackingThreads());
                added.removeAll(before);
                return added.size() == 2;
            });
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> added.stream().noneMatch(Thread::isAlive));
        assertEquals(List.of(), DockerTestSupport.containersOfRunner(other));
    }

    /** The Docker client's threads copying a standard input to an exec or a container (one per open input). */
    private static java.util.Set<Thread> hijackingThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith("docker-java-httpclient5-hijacking-stream-"))
                .collect(java.util.stream.Collectors.toSet());
    }

    @Test
    void shouldKeepTheCheckoutContainerWhenTheCachesGitRunsInAHelperContainer() throws Exception {
        // the helper container's output is a log, not a byte stream: the self-contained copy is made in a checkout container
        String other = DockerTestSupport.runnerName("streamed-gitbox");
        Instant before = Instant.now();
        try (DockerTaskExecutor ex = new DockerTaskExecutor(DockerTestSupport.config(other, "host", 1)
                .withRepoCacheGit("container", ContainerGitDockerTest.GIT_IMAGE))) {
            ex.start();
            await().atMost(Duration.ofSeconds(60)).until(() -> ex.readyPoolContainers() == 1);
            Instant since = Instant.now();
            RecordingContext ctx = new RecordingContext(Duration.ofSeconds(90));

            TaskResult result = ex.execute(DockerTestSupport.task(null, git), ctx);

            assertEquals(ResultStatus.COMPLETED, result.status(), () -> result + "\n" + ctx.lines());
            assertTrue(ctx.logged("using pre-warmed container"), ctx.lines().toString());
            assertTrue(result.summary().contains("head=" + git.head()), result.summary());
            assertEquals(1, created(other, "checkout", since).size(), "one checkout container made the self-contained copy");
            assertEquals(List.of(), DockerTestSupport.eventIds("exec_create", java.util.Map.of(Labels.RUNNER, other), before),
                    "no checkout waits in a pooled container when nothing can be streamed to it");
        }
    }

    @Test
    void shouldNotWriteThroughALinkThePooledContainerPlantedInItsWorkspace() throws Exception {
        Path workspace = pooledWorkspace();
        // what a hostile pooled container could plant before its task: its repository directory as a link to a
        // directory outside its workspace (a host directory for anything that writes on the runner's side)
        Path outside = Files.createTempDirectory("ai-review-streamed-outside");
        Files.createSymbolicLink(workspace.resolve("repo"), outside);
        Instant since = Instant.now();
        RecordingContext ctx = new RecordingContext(Duration.ofSeconds(90));

        TaskResult result;
        try {
            result = executor.execute(DockerTestSupport.task(null, git), ctx);
            try (var written = Files.list(outside)) {
                assertEquals(List.of(), written.toList(), "the runner wrote through the planted link");
            }
        } finally {
            Workspaces.deleteTree(outside);
        }
        // the container's own git meets its own link (dangling inside it): its checkout fails, the runner's side is untouched
        assertEquals(ErrorKind.CLONE_FAILED, result.error() == null ? null : result.error().kind(), () -> result + "\n" + ctx.lines());
        assertTrue(result.error().message().contains("cannot create /workspace/repo"), result.error().message());
        assertEquals(List.of(), created("checkout", since), "no checkout container for a pre-warmed task");

        // the next task gets a fresh pooled container and the commit (the entry marked broken is fetched anew)
        RecordingContext next = new RecordingContext(Duration.ofSeconds(90));
        TaskResult ok = executor.execute(DockerTestSupport.task(null, git), next);
        assertEquals(ResultStatus.COMPLETED, ok.status(), () -> ok + "\n" + next.lines());
        assertTrue(ok.summary().contains("head=" + git.head()), ok.summary());
    }
}
