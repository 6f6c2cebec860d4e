package dev.aireview.runner.docker;

import dev.aireview.runner.config.PullPolicy;
import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A cold task's checkout made by its review container as it starts ({@code CachedCheckout.WRAPPER}): beside the image's
 * entrypoint, with no {@code docker exec} (counted from the engine's events); a checkout that fails in it (the image's
 * own git) kills the container and fails the task {@code clone_failed} with git's words, leaving nothing behind.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class SelfCheckoutDockerTest {
    static final String BROKEN_GIT_IMAGE = dev.aireview.runner.testsupport.CheckoutTag.image("ai-review-test/broken-git-executor:test");
    private ExecutorFixture fixture;

    @BeforeAll
    void setUp() throws Exception {
        fixture = ExecutorFixture.start("selfcheckout", 0, c -> c);
        File dir = new File(getClass().getResource("/docker/broken-git-executor/Dockerfile").getFile()).getParentFile();
        DockerTestSupport.docker().buildImageCmd(dir).withTags(Set.of(BROKEN_GIT_IMAGE)).withBuildArg("BASE", DockerTestSupport.IMAGE)
                .withLabels(Map.of("ai-review.managed", "true")).withPull(false).start().awaitImageId(5, TimeUnit.MINUTES);
    }

    @AfterAll
    void tearDown() throws Exception {
        if (fixture != null) {
            fixture.close();
        }
    }

    @Test
    void aColdTaskIsCheckedOutByItsReviewContainerAsItStartsWithoutAnExec() throws Exception {
        Instant since = Instant.now();
        RecordingContext ctx = new RecordingContext(Duration.ofSeconds(90));
        ReviewTask task = DockerTestSupport.task(null, fixture.git);

        TaskResult result = fixture.executor.execute(task, ctx);

        assertEquals(ResultStatus.COMPLETED, result.status(), () -> result + "\n" + ctx.lines());
        assertTrue(result.summary().contains("head=" + fixture.git.head()), result.summary());
        assertTrue(ctx.logged("checked out " + fixture.git.head() + " from the runner's repository cache"), ctx.lines().toString());
        assertEquals(List.of(), DockerTestSupport.eventIds("exec_create", Map.of(Labels.TASK, task.id()), since), "the checkout ran as the container started: no exec");
        assertEquals(List.of(), DockerTestSupport.containersOfTask(task.id()));
    }

    @Test
    void aCheckoutThatFailsInTheColdContainerFailsTheTaskWithGitsWords() throws Exception {
        String runner = DockerTestSupport.runnerName("selfcheckout-broken");
        try (DockerTaskExecutor broken = new DockerTaskExecutor(DockerTestSupport.config(runner, "host", 0, DockerTestSupport.MEMORY,
                BROKEN_GIT_IMAGE, PullPolicy.NEVER))) {
            broken.start();
            RecordingContext ctx = new RecordingContext(Duration.ofSeconds(90));
            ReviewTask task = DockerTestSupport.task(null, fixture.git);
            Instant started = Instant.now();

            TaskResult result = broken.execute(task, ctx);

            assertEquals(ErrorKind.CLONE_FAILED, result.error() == null ? null : result.error().kind(), () -> result + "\n" + ctx.lines());
            String message = result.error().message();
            assertTrue(message.startsWith("clone failed: the checkout from the runner's repository cache failed (exit 1)"), message);
            assertTrue(message.contains("fatal: this git cannot init") && message.contains("git init failed"), message);
            assertTrue(Duration.between(started, Instant.now()).compareTo(Duration.ofSeconds(60)) < 0,
                    "the container was killed when its checkout failed, not left to the task's deadline");
            assertEquals(List.of(), DockerTestSupport.containersOfTask(task.id()));
        }
        assertEquals(List.of(), DockerTestSupport.containersOfRunner(runner));
    }
}
