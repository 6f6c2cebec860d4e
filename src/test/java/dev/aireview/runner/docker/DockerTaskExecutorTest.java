package dev.aireview.runner.docker;

import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Container;
import dev.aireview.runner.config.DockerConfig;
import dev.aireview.runner.config.PullPolicy;
import dev.aireview.runner.execution.CancelReason;
import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskPhase;
import dev.aireview.runner.model.TaskResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Docker executor against the real engine: clone, review, limits, outcomes, cancel; nothing left behind. Every
 * deadline is generous (the machine may be busy with other work): a task's wall time is well above what its clone
 * and container start take on a loaded machine, and no test waits for a fixed time.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class DockerTaskExecutorTest {
    private static final String FLOOD_LINE =
            "0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 abcdefghijklmnopqrstuv";

    private ExecutorFixture fixture;
    private GitFixture git;
    private String runner;
    private DockerTaskExecutor executor;

    @BeforeAll
    void setUp() throws Exception {
        fixture = ExecutorFixture.start("exec", 0, c -> c);
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

    private TaskResult run(DockerTaskExecutor ex, ReviewTask task, RecordingContext ctx) {
        TaskResult result = ex.execute(task, ctx);
        assertEquals(List.of(), DockerTestSupport.containersOfTask(task.id()), "containers of the task removed");
        return result;
    }

    private void assertNoWorkspaces(String runnerName) {
        assertEquals(List.of(), new Workspaces(DockerTestSupport.WORKSPACE_BASE, runnerName).existing(), "workspaces deleted");
    }

    @Test
    void shouldCloneAtHeadShaWithDepthOneAndReturnTheContainersResult() {
        RecordingContext ctx = new RecordingContext(Duration.ofSeconds(60));
        ReviewTask task = DockerTestSupport.task(null, git);

        TaskResult result = run(executor, task, ctx);

        assertEquals(ResultStatus.COMPLETED, result.status(), () -> result + "\n" + ctx.lines());
        assertTrue(result.summary().contains("head=" + git.head()), result.summary());
        assertTrue(result.summary().contains("depth=1 "), "shallow clone of depth 1: " + result.summary());
        assertTrue(result.summary().contains("base=yes"), "baseSha fetched too: " + result.summary());
        assertEquals(1, result.comments().size());
        assertEquals(2, result.stats().filesReviewed());
        assertEquals(0, result.stats().exitCode());
        assertTrue(result.stats().durationMs() > 0);
        assertNull(result.error());
        assertEquals(List.of(TaskPhase.PREPARING, TaskPhase.CLONING, TaskPhase.REVIEWING, TaskPhase.SUBMITTING), ctx.phases);
        assertTrue(ctx.logged("review running"), "container output reached the context: " + ctx.lines());
        assertTrue(ctx.logged("checked out " + git.head()), "clone output reached the context: " + ctx.lines());
        assertNoWorkspaces(runner);
    }

    @Test
    void shouldHandTheResultOverBeforeRemovingTheContainerAndDeletingTheWorkspace() {
        RecordingContext ctx = new RecordingContext(Duration.ofSeconds(60));
        ReviewTask task = DockerTestSupport.task(null, git);
        Workspaces workspaces = new Workspaces(DockerTestSupport.WORKSPACE_BASE, runner);
        dev.aireview.runner.execution.DirectoryClaimJournal marks =
                new dev.aireview.runner.execution.DirectoryClaimJournal(workspaces.cleaningDir());
        List<String> seenAtReport = new java.util.concurrent.CopyOnWriteArrayList<>();
        ctx.onReport = r -> {
            seenAtReport.add("workspace=" + java.nio.file.Files.isDirectory(workspaces.workspaceOf(task.id())));
            seenAtReport.add("containers=" + DockerTestSupport.containersOfTask(task.id()).size());
            seenAtReport.add("marked=" + marks.list().contains(task.id()));
        };

        TaskResult result = run(executor, task, ctx);

        assertEquals(ResultStatus.COMPLETED, result.status(), () -> result + "\n" + ctx.lines());
        assertEquals(1, ctx.reports.size(), "handed over once: " + ctx.reports);
        assertEquals(result, ctx.reports.get(0), "what was handed over is what execute returns");
        assertEquals(List.of("workspace=true", "containers=1", "marked=true"), seenAtReport,
                "handed over before the clean-up, the task marked cleaning first");
        assertEquals(List.of(), marks.list(), "the mark goes with the clean-up");
        assertTrue(!java.nio.file.Files.exists(workspaces.cleaningDir()), "an idle runner keeps no marks directory");
        assertNoWorkspaces(runner);
    }

    @Test
    void shouldFetchAShaThatIsNotTheBranchTip() {
        RecordingContext ctx = new RecordingContext(Duration.ofSeconds(60));
        ReviewTask task = DockerTestSupport.task(null, git.url(), "feature/x", git.middle(), null, null);

        TaskResult result = run(executor, task, ctx);

        assertEquals(ResultStatus.COMPLETED, result.status(), () -> result + "\n" + ctx.lines());
        assertTrue(result.summary().contains("head=" + git.middle()), result.summary());
        assertTrue(ctx.logged("not in the fetched history"), ctx.lines().toString());
    }

    @Test
    void shouldReportCloneFailedWithGitsMessageForAMissingRepository() {
        RecordingContext ctx = new RecordingContext(Duration.ofSeconds(60));
        ReviewTask task = DockerTestSupport.task(null, git.missingUrl(), "feature/x", git.head(), null, null);

        TaskResult result = run(executor, task, ctx);

        assertEquals(ResultStatus.FAILED, result.status());
        assertEquals(ErrorKind.CLONE_FAILED, result.error().kind());
        assertTrue(result.error().message().contains("not exported"), result.error().message());
        assertEquals(List.of(TaskPhase.PREPARING, TaskPhase.CLONING), ctx.phases);
        assertNoWorkspaces(runner);
    }

    /** The roles of the containers the engine created for a task (its own record, read after the task ended). */
    private static List<String> createdRoles(ReviewTask task, long sinceEpochSecond) throws InterruptedException {
        List<String> roles = new java.util.concurrent.CopyOnWriteArrayList<>();
        DockerTestSupport.docker().eventsCmd().withLabelFilter(Labels.TASK + "=" + task.id()).withEventFilter("create")
                .withSince(Long.toString(sinceEpochSecond - 1))
                .withUntil(Long.toString(java.time.Instant.now().getEpochSecond() + 1))
                .exec(new com.github.dockerjava.api.async.ResultCallback.Adapter<com.github.dockerjava.api.model.Event>() {
                    @Override
                    public void onNext(com.github.dockerjava.api.model.Event e) {
                        roles.add(e.getActor() == null ? null : e.getActor().getAttributes().get(Labels.ROLE));
                    }
                }).awaitCompletion(30, TimeUnit.SECONDS);
        return roles;
    }

    @Test
    void shouldCreateNoContainerForARepositoryThatCannotBeFetched() throws Exception {
        // issue 18: a repeated clone failure costs no review container: the trusted fetch runs before any container
        String runnerName = DockerTestSupport.runnerName("clonefirst");
        try (DockerTaskExecutor ex = new DockerTaskExecutor(DockerTestSupport.config(runnerName, "host", 0))) {
            ex.start();
            String gone = git.missingUrl().replace("nope.git", "gone-" + System.nanoTime() + ".git");
            for (int i = 0; i < 2; i++) {
                long t = java.time.Instant.now().getEpochSecond();
                ReviewTask task = DockerTestSupport.task(null, gone, "feature/x", git.head(), null, null);
                TaskResult failed = run(ex, task, new RecordingContext(Duration.ofSeconds(60)));
                assertEquals(ErrorKind.CLONE_FAILED, failed.error().kind());
                assertTrue(failed.error().message().contains("not exported"), failed.error().message());
                assertEquals(List.of(), createdRoles(task, t), "a failing fetch: no container at all");
            }
            ReviewTask lacking = DockerTestSupport.task(null, git.url(), "feature/x", "0123456789abcdef0123456789abcdef01234567", null, null);
            long t1 = java.time.Instant.now().getEpochSecond();
            assertEquals(ErrorKind.CLONE_FAILED, run(ex, lacking, new RecordingContext(Duration.ofSeconds(60))).error().kind());
            assertEquals(List.of(), createdRoles(lacking, t1), "a commit the repository lacks: no container at all");
            long t2 = java.time.Instant.now().getEpochSecond();
            ReviewTask next = DockerTestSupport.task(null, git);
            RecordingContext ctx = new RecordingContext(Duration.ofSeconds(60));
            TaskResult ok = run(ex, next, ctx);
            assertEquals(ResultStatus.COMPLETED, ok.status(), () -> ok + "\n" + ctx.lines());
            assertTrue(ok.summary().contains("head=" + git.head()), ok.summary());
            assertEquals(List.of("review"), createdRoles(next, t2), "a cold task: one review container, the checkout inside it");
        }
        assertNoWorkspaces(runnerName);
    }

    @Test
    void shouldReportCloneFailedForAShaTheRepositoryDoesNotHave() {
        RecordingContext ctx = new RecordingContext(Duration.ofSeconds(60));
        String missing = "0123456789abcdef0123456789abcdef01234567";
        ReviewTask task = DockerTestSupport.task(null, git.url(), "feature/x", missing, null, null);

        TaskResult result = run(executor, task, ctx);

        assertEquals(ErrorKind.CLONE_FAILED, result.error().kind());
        assertTrue(result.error().message().contains("commit " + missing + " not found"), result.error().message());
    }

    @Test
    void shouldRefuseOptionInjectionWithoutStartingAContainer() {
        RecordingContext ctx = new RecordingContext(Duration.ofSeconds(60));
        ReviewTask task = DockerTestSupport.task(null, git.url(), "--upload-pack=touch /tmp/pwned", git.head(), null, null);

        TaskResult result = run(executor, task, ctx);

        assertEquals(ErrorKind.CLONE_FAILED, result.error().kind());
        assertTrue(result.error().message().contains("branch starts with '-'"), result.error().message());
        assertEquals(List.of(TaskPhase.PREPARING), ctx.phases);
    }

    @Test
    void shouldKillAtTheWallTimeAndReportTimedOut() {
        // The wall time covers the clone and the container start too: long enough for both on a busy machine, so
        // the review has started when it ends.
        RecordingContext ctx = new RecordingContext(Duration.ofSeconds(15));
        ReviewTask task = DockerTestSupport.task("sleep", git);

        TaskResult result = run(executor, task, ctx);

        assertEquals(ResultStatus.TIMED_OUT, result.status(), () -> result + "\n" + ctx.lines());
        assertEquals(ErrorKind.TIMEOUT, result.error().kind());
        assertTrue(ctx.logged("sleeping until stopped"), "the review had started: " + ctx.lines());
        assertNoWorkspaces(runner);
    }

    @Test
    void shouldStopOnCancelWithHardenedContainerAndCleanUp() throws Exception {
        RecordingContext ctx = new RecordingContext(Duration.ofSeconds(60));
        ReviewTask task = DockerTestSupport.task("sleep", git);
        CompletableFuture<TaskResult> running = CompletableFuture.supplyAsync(() -> executor.execute(task, ctx));

        await().atMost(Duration.ofSeconds(60)).until(() -> ctx.logged("sleeping until stopped"));
        // the review container (the clone's may still be being removed beside the review)
        List<Container> containers = DockerTestSupport.containersOfTask(task.id()).stream()
                .filter(c -> "review".equals(c.getLabels().get(Labels.ROLE))).toList();
        assertEquals(1, containers.size());
        InspectContainerResponse info = DockerTestSupport.docker().inspectContainerCmd(containers.get(0).getId()).exec();
        assertTrue(info.getState().getRunning());
        DockerTestSupport.assertHardened(info, runner, task.id(), "host");
        assertTrue(info.getConfig().getEnv() != null
                && List.of(info.getConfig().getEnv()).contains("AI_REVIEW_TASK_FILE=/workspace/task.json"));
        ctx.cancel().cancel(CancelReason.SERVER_CANCELLED);
        TaskResult result = running.get(60, TimeUnit.SECONDS);

        assertEquals(ResultStatus.CANCELLED, result.status());
        assertEquals(ErrorKind.CANCELLED, result.error().kind());
        assertEquals(List.of(), DockerTestSupport.containersOfTask(task.id()));
        assertNoWorkspaces(runner);
    }

    @Test
    void shouldTreatAnInterruptOfTheWorkerAsShutdownAndStillCleanUp() throws Exception {
        RecordingContext ctx = new RecordingContext(Duration.ofSeconds(60));
        ReviewTask task = DockerTestSupport.task("sleep", git);
        CompletableFuture<TaskResult> result = new CompletableFuture<>();
        CompletableFuture<Boolean> flagAfter = new CompletableFuture<>();
        Thread worker = new Thread(() -> {
            result.complete(executor.execute(task, ctx));
            flagAfter.complete(Thread.currentThread().isInterrupted());
        }, "test-worker");
        worker.start();
        await().atMost(Duration.ofSeconds(60)).until(() -> ctx.logged("sleeping until stopped"));

        worker.interrupt();

        TaskResult r = result.get(60, TimeUnit.SECONDS);
        assertEquals(ResultStatus.CANCELLED, r.status());
        assertEquals(ErrorKind.RUNNER_SHUTDOWN, r.error().kind());
        assertTrue(flagAfter.get(10, TimeUnit.SECONDS), "the interrupt flag is restored for the caller");
        assertEquals(List.of(), DockerTestSupport.containersOfTask(task.id()));
        assertNoWorkspaces(runner);
    }

    @Test
    void shouldReportRunnerShutdownWhenCancelledForShutdown() {
        RecordingContext ctx = new RecordingContext(Duration.ofSeconds(60));
        ctx.cancel().cancel(CancelReason.RUNNER_SHUTDOWN);
        ReviewTask task = DockerTestSupport.task(null, git);

        TaskResult result = run(executor, task, ctx);

        assertEquals(ResultStatus.CANCELLED, result.status());
        assertEquals(ErrorKind.RUNNER_SHUTDOWN, result.error().kind());
        assertNoWorkspaces(runner);
    }

    @Test
    void shouldReportExecutorFailedWithTheLastLinesOnNonZeroExit() {
        RecordingContext ctx = new RecordingContext(Duration.ofSeconds(60));
        TaskResult result = run(executor, DockerTestSupport.task("fail", git), ctx);

        assertEquals(ResultStatus.FAILED, result.status());
        assertEquals(ErrorKind.EXECUTOR_FAILED, result.error().kind());
        assertTrue(result.error().message().contains("exited with code 3"), result.error().message());
        assertTrue(result.error().message().contains("last words"), result.error().message());
        assertEquals(3, result.stats().exitCode());
    }

    @Test
    void shouldReportAnUnseenCheckoutAsAnInfrastructureFailureNotAJudgedExit() {
        assertEquals(dev.aireview.runner.review.ReviewExecution.EXIT_CHECKOUT_UNSEEN, DockerTaskExecutor.EXIT_CHECKOUT_UNSEEN,
                "the runner and the review engine speak the same contract");
        RecordingContext ctx = new RecordingContext(Duration.ofSeconds(60));
        TaskResult result = run(executor, DockerTestSupport.task("unseen", git), ctx);

        assertEquals(ErrorKind.EXECUTOR_FAILED, result.error().kind());
        assertTrue(result.error().message().startsWith("infrastructure failure, not a review"), result.error().message());
        assertTrue(result.error().message().contains("not visible"), result.error().message());
        assertEquals(5, result.stats().exitCode());
    }

    @Test
    void shouldReportExecutorFailedWhenNoResultFileIsWritten() {
        RecordingContext ctx = new RecordingContext(Duration.ofSeconds(60));
        TaskResult result = run(executor, DockerTestSupport.task("noresult", git), ctx);

        assertEquals(ErrorKind.EXECUTOR_FAILED, result.error().kind());
        assertTrue(result.error().message().contains("no result file"), result.error().message());
    }

    @Test
    void shouldContainAForkBombWithThePidsLimit() {
        // The bomb's own work is bounded (each process forks twice, then sleeps) and its watcher gives up after 45 s,
        // so the review ends well within this wall time even when the machine is busy.
        RecordingContext ctx = new RecordingContext(Duration.ofSeconds(150), 200, line -> line.contains("fork"));
        TaskResult result = run(executor, DockerTestSupport.task("forkbomb", git), ctx);

        assertEquals(ResultStatus.COMPLETED, result.status(), () -> result + "\n" + ctx.lines());
        assertTrue(result.summary().contains("pids.max=" + DockerTestSupport.PIDS), result.summary());
        long peak = Long.parseLong(result.summary().replaceAll(".*pids.current=(\\d+).*", "$1"));
        assertTrue(peak <= DockerTestSupport.PIDS, "processes stayed within the limit: " + result.summary());
        assertTrue(peak > DockerTestSupport.PIDS / 2, "the bomb did run into the limit's neighbourhood: " + result.summary());
    }

    @Test
    void shouldPumpFiftyMegabytesLineByLineWithLongLinesCut() {
        RecordingContext ctx = new RecordingContext(Duration.ofSeconds(240), 1000, FLOOD_LINE::equals);

        TaskResult result = run(executor, DockerTestSupport.task("flood", git), ctx);

        assertEquals(ResultStatus.COMPLETED, result.status(), () -> result.toString());
        assertEquals(524_288, ctx.countedLines(), "every 99-character line delivered once");
        assertTrue(ctx.maxLength() <= LogPump.DEFAULT_MAX_LINE_BYTES, "long lines cut: " + ctx.maxLength());
        long xs = ctx.lines().stream().filter(l -> l.matches("stdout: x+")).mapToLong(l -> l.length() - "stdout: ".length()).sum();
        assertEquals(100_000, xs, "the 100000-byte line delivered in pieces");
    }

    @Test
    void shouldReportOomKilledWhenTheReviewExceedsTheMemoryLimit() {
        String oomRunner = DockerTestSupport.runnerName("oom");
        DockerConfig config = DockerTestSupport.config(oomRunner, "host", 0, 96L * 1024 * 1024, DockerTestSupport.IMAGE, PullPolicy.NEVER);
        try (DockerTaskExecutor small = new DockerTaskExecutor(config)) {
            small.start();
            RecordingContext ctx = new RecordingContext(Duration.ofSeconds(60));
            TaskResult result = run(small, DockerTestSupport.task("oom", git), ctx);

            assertEquals(ResultStatus.FAILED, result.status(), () -> result + "\n" + ctx.lines());
            assertEquals(ErrorKind.OOM_KILLED, result.error().kind(), () -> result + "\n" + ctx.lines());
            assertEquals(137, result.stats().exitCode());
            assertNoWorkspaces(oomRunner);
        }
    }

    @Test
    void shouldWorkWithApi141() {
        String oldRunner = DockerTestSupport.runnerName("api141");
        try (DockerTaskExecutor old = new DockerTaskExecutor(DockerTestSupport.config(oldRunner, "host", 0), "1.41")) {
            old.start();
            assertEquals("1.41", old.apiVersion());
            RecordingContext ctx = new RecordingContext(Duration.ofSeconds(60));
            TaskResult result = run(old, DockerTestSupport.task(null, git), ctx);
            assertEquals(ResultStatus.COMPLETED, result.status(), () -> result + "\n" + ctx.lines());
            assertTrue(result.summary().contains("head=" + git.head()));
        }
    }

    @Test
    void shouldReportImageMissingWhenTheImageVanishesAfterStart() {
        String tag = "gone-" + java.util.UUID.randomUUID().toString().substring(0, 8);
        String image = "ai-review-test/executor:" + tag;
        DockerTestSupport.docker().tagImageCmd(DockerTestSupport.IMAGE, "ai-review-test/executor", tag).exec();
        String goneRunner = DockerTestSupport.runnerName("gone");
        try (DockerTaskExecutor ex = new DockerTaskExecutor(DockerTestSupport.config(goneRunner, "host", 0,
                DockerTestSupport.MEMORY, image, PullPolicy.NEVER))) {
            ex.start();
            DockerTestSupport.docker().removeImageCmd(image).exec();
            RecordingContext ctx = new RecordingContext(Duration.ofSeconds(60));

            TaskResult result = run(ex, DockerTestSupport.task(null, git), ctx);

            assertEquals(ResultStatus.FAILED, result.status());
            assertEquals(ErrorKind.IMAGE_MISSING, result.error().kind());
            assertTrue(result.error().message().contains("DOCKER_EXECUTOR_IMAGE='" + image + "'"), result.error().message());
            assertNoWorkspaces(goneRunner);
        }
    }

    @Test
    void shouldNegotiateTheEnginesApiVersion() {
        String engineApi = DockerTestSupport.docker().versionCmd().exec().getApiVersion();
        assertEquals(engineApi, executor.apiVersion());
        assertTrue(DockerConnection.compare(executor.apiVersion(), DockerConnection.MIN_API_VERSION) >= 0);
    }

    @Test
    void shouldFailStartNamingTheImageWhenItIsMissingAndPullPolicyIsNever() {
        DockerConfig config = DockerTestSupport.config(DockerTestSupport.runnerName("noimg"), "host", 0, DockerTestSupport.MEMORY,
                "ai-review-test/absent:none", PullPolicy.NEVER);
        try (DockerTaskExecutor ex = new DockerTaskExecutor(config)) {
            DockerExecutorException e = assertThrows(DockerExecutorException.class, ex::start);
            assertTrue(e.getMessage().contains("DOCKER_EXECUTOR_IMAGE='ai-review-test/absent:none'"), e.getMessage());
        }
    }

    @Test
    void shouldFailStartNamingTheImageWhenThePullFails() {
        DockerConfig config = DockerTestSupport.config(DockerTestSupport.runnerName("pullfail"), "host", 0, DockerTestSupport.MEMORY,
                "127.0.0.1:1/ai-review-test/absent:none", PullPolicy.IF_NOT_PRESENT);
        try (DockerTaskExecutor ex = new DockerTaskExecutor(config)) {
            DockerExecutorException e = assertThrows(DockerExecutorException.class, ex::start);
            assertTrue(e.getMessage().contains("DOCKER_EXECUTOR_IMAGE") && e.getMessage().contains("pulling it failed"), e.getMessage());
        }
    }

    @Test
    void shouldFailStartNamingDockerHostWhenTheDaemonIsUnreachable() {
        DockerConfig base = DockerTestSupport.config(DockerTestSupport.runnerName("nohost"), "host", 0);
        DockerConfig config = new DockerConfig("unix:///nonexistent/docker.sock", base.executorImage(), base.pullPolicy(),
                base.memoryBytes(), base.cpus(), base.networkMode(), base.workspaceBase(), base.timeout(), 0, 1,
                base.pidsLimit(), base.user(), base.stopGrace(), base.runnerName());
        try (DockerTaskExecutor ex = new DockerTaskExecutor(config)) {
            DockerExecutorException e = assertThrows(DockerExecutorException.class, ex::start);
            assertTrue(e.getMessage().contains("DOCKER_HOST 'unix:///nonexistent/docker.sock'"), e.getMessage());
        }
    }
}
