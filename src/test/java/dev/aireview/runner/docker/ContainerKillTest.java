package dev.aireview.runner.docker;

import com.github.dockerjava.api.DockerClient;
import dev.aireview.runner.execution.CancelReason;
import dev.aireview.runner.execution.CancelSignal;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The scheduler's escalation on a real engine: a container that ignores SIGTERM, with a stop grace far longer than
 * the scheduler's patience, is ended by {@link CancelSignal#kill} from another thread while the runner's own thread
 * is still inside the (long) stop call, so the run returns and nothing is left.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ContainerKillTest {

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
    void shouldEndAContainerIgnoringSigtermWhenTheCancelIsEscalatedToAKill() throws Exception {
        DockerClient docker = DockerTestSupport.docker();
        String runner = DockerTestSupport.runnerName("kill");
        // no init: the shell is PID 1 and ignores SIGTERM; only SIGKILL ends it
        String id = docker.createContainerCmd(DockerTestSupport.IMAGE)
                .withEntrypoint("sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done")
                .withLabels(Labels.of(runner, "task-kill-1", "review")).exec().getId();
        ContainerRunner containers = new ContainerRunner(docker, Duration.ofSeconds(600));
        CancelSignal cancel = new CancelSignal();
        try {
            LogPump pump = new LogPump((stream, line) -> { });
            CompletableFuture<ContainerRunner.Outcome> run = CompletableFuture.supplyAsync(() ->
                    containers.run(id, false, pump, Instant.now().plus(Duration.ofMinutes(10)), cancel));
            await().atMost(Duration.ofSeconds(60)).until(() -> Boolean.TRUE.equals(
                    docker.inspectContainerCmd(id).exec().getState().getRunning()) && pump.tail().contains("ready"));
            cancel.cancel(CancelReason.RUNNER_SHUTDOWN);
            // the stop call now waits out its 600 s grace: the container ignores SIGTERM
            await("still running after SIGTERM").during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(10))
                    .until(() -> !run.isDone() && Boolean.TRUE.equals(docker.inspectContainerCmd(id).exec().getState().getRunning()));

            assertTrue(cancel.kill(CancelReason.RUNNER_SHUTDOWN));

            ContainerRunner.Outcome outcome = run.get(60, TimeUnit.SECONDS);
            assertEquals(ContainerRunner.End.CANCELLED, outcome.end());
            assertEquals(CancelReason.RUNNER_SHUTDOWN, outcome.cancelReason());
            assertEquals(137, outcome.exitCode(), "killed by SIGKILL");
        } finally {
            containers.remove(id);
        }
        assertEquals(List.of(), DockerTestSupport.containersOfRunner(runner));
    }
}
