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

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The executor contract is checked, not guessed (issue 17 item 15): DOCKER_EXECUTOR_IMAGE set to an image whose
 * command exits at once ({@code debian:bookworm-slim}: {@code bash} with no input) fails each task naming the contract,
 * never with a raw engine error, and the runner does not conclude from it that the engine cannot exec (which would
 * change how every later task clones). Real engine.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ExecutorContractTest {
    private GitFixture git;
    private DockerTaskExecutor executor;

    @BeforeAll
    void setUp() throws Exception {
        git = GitFixture.start();
        executor = new DockerTaskExecutor(DockerTestSupport.config(DockerTestSupport.runnerName("contract"), "host", 0,
                DockerTestSupport.MEMORY, "debian:bookworm-slim", PullPolicy.NEVER));
        executor.start();
    }

    @AfterAll
    void tearDown() throws Exception {
        if (executor != null) {
            executor.close();
        }
        if (git != null) {
            git.close();
        }
        assertEquals(List.of(), DockerTestSupport.leftovers(), "containers, volumes or workspaces left behind");
        DockerTestSupport.removeRunnerDirs();
    }

    @Test
    void shouldFailEveryTaskNamingTheContractAndKeepTheEnginesWayOfCloning() {
        for (int i = 0; i < 2; i++) {
            RecordingContext ctx = new RecordingContext(Duration.ofSeconds(60));
            ReviewTask task = DockerTestSupport.task(null, git);

            TaskResult result = executor.execute(task, ctx);

            assertEquals(ResultStatus.FAILED, result.status(), () -> result + "\n" + ctx.lines());
            assertEquals(ErrorKind.EXECUTOR_FAILED, result.error().kind(), result::toString);
            String message = result.error().message();
            assertTrue(message.contains("DOCKER_EXECUTOR_IMAGE='debian:bookworm-slim'"), message);
            assertTrue(message.contains("before task.json arrived"), message);
            assertTrue(message.contains("docs/executor-contract.md"), message);
            assertFalse(message.contains("409"), "no raw engine error: " + message);
            assertEquals(List.of(), DockerTestSupport.containersOfTask(task.id()), "containers of the task removed");
            assertFalse(executor.checkoutFallbackInUse(), "one image's behaviour says nothing about the engine");
        }
    }
}
