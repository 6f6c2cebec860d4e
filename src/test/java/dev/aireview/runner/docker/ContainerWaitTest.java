package dev.aireview.runner.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.WaitContainerCmd;
import dev.aireview.runner.execution.CancelSignal;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A lost wait is not an exit: on a real engine, with the engine's wait stream cut (as a proxy in between would), the
 * running container is followed again and judged by its real exit; when it cannot be inspected either, the outcome
 * is {@link ContainerRunner.End#LOST} and the container is killed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ContainerWaitTest {
    /** Waits (inside the container) until /tmp/go exists, then exits 7. */
    private static final String BLOCKED = "while [ ! -e /tmp/go ]; do sleep 0.05; done; echo released; exit 7";

    @BeforeAll
    void setUp() {
        DockerTestSupport.buildImage();
    }

    @AfterAll
    void tearDown() throws Exception {
        assertEquals(List.of(), DockerTestSupport.leftovers(), "containers, volumes or workspaces left behind");
        DockerTestSupport.removeRunnerDirs();
    }

    /** A wait whose stream is cut at once, without a status. */
    private static WaitContainerCmd cutWait(WaitContainerCmd real) {
        return (WaitContainerCmd) Proxy.newProxyInstance(WaitContainerCmd.class.getClassLoader(), new Class<?>[]{WaitContainerCmd.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("exec") && args != null && args.length == 1 && args[0] instanceof ResultCallback<?> cb) {
                        Thread t = new Thread(() -> cb.onError(new IOException("connection reset by a proxy")));
                        t.setDaemon(true);
                        t.start();
                        return cb;
                    }
                    return method.invoke(real, args);
                });
    }

    /**
     * The engine client with its first {@code cuts} waits cut; on each later wait {@code onRefollow} runs; every
     * inspect fails when {@code inspectFails}.
     */
    private static DockerClient cutting(DockerClient real, int cuts, AtomicInteger waits, Runnable onRefollow, boolean inspectFails) {
        return (DockerClient) Proxy.newProxyInstance(DockerClient.class.getClassLoader(), new Class<?>[]{DockerClient.class},
                (proxy, method, args) -> {
                    try {
                        if (method.getName().equals("waitContainerCmd")) {
                            WaitContainerCmd cmd = (WaitContainerCmd) method.invoke(real, args);
                            if (waits.incrementAndGet() <= cuts) {
                                return cutWait(cmd);
                            }
                            onRefollow.run();
                            return cmd;
                        }
                        if (inspectFails && method.getName().equals("inspectContainerCmd")) {
                            throw new RuntimeException("engine unreachable");
                        }
                        return method.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    private static String blockedContainer(DockerClient docker, String runner) {
        return docker.createContainerCmd(DockerTestSupport.IMAGE).withEntrypoint("sh", "-c", BLOCKED)
                .withLabels(Labels.of(runner, "task-wait-1", "review")).exec().getId();
    }

    @Test
    void shouldFollowARunningContainerAgainWhenItsWaitIsCutAndJudgeItsRealExit() {
        DockerClient docker = DockerTestSupport.docker();
        String runner = DockerTestSupport.runnerName("waitcut");
        String id = blockedContainer(docker, runner);
        AtomicInteger waits = new AtomicInteger();
        Runnable release = () -> {
            String exec = docker.execCreateCmd(id).withCmd("touch", "/tmp/go").exec().getId();
            docker.execStartCmd(exec).withDetach(true).exec(new ResultCallback.Adapter<>());
        };
        ContainerRunner containers = new ContainerRunner(cutting(docker, 2, waits, release, false), Duration.ofSeconds(5));
        try {
            LogPump pump = new LogPump((stream, line) -> { });
            ContainerRunner.Outcome outcome = containers.run(id, false, pump, Instant.now().plus(Duration.ofMinutes(2)), new CancelSignal());

            assertEquals(ContainerRunner.End.EXITED, outcome.end(), outcome.toString());
            assertEquals(7, outcome.exitCode(), "its own exit, not a kill: " + outcome);
            assertEquals(3, waits.get(), "followed again after each cut");
            assertEquals(List.of("released"), pump.tail());
        } finally {
            containers.remove(id);
        }
        assertEquals(List.of(), DockerTestSupport.containersOfRunner(runner));
    }

    @Test
    void shouldEndLostAndKillTheContainerWhenTheWaitIsCutAndItCannotBeInspected() {
        DockerClient docker = DockerTestSupport.docker();
        String runner = DockerTestSupport.runnerName("waitlost");
        String id = blockedContainer(docker, runner);
        ContainerRunner containers = new ContainerRunner(cutting(docker, Integer.MAX_VALUE, new AtomicInteger(), () -> { }, true),
                Duration.ofSeconds(5));
        try {
            ContainerRunner.Outcome outcome = containers.run(id, false, new LogPump((stream, line) -> { }),
                    Instant.now().plus(Duration.ofMinutes(2)), new CancelSignal());

            assertEquals(ContainerRunner.End.LOST, outcome.end(), outcome.toString());
            assertNull(outcome.exitCode(), "no exit code judged");
            assertTrue(outcome.lost().contains("cannot be inspected"), outcome.lost());
            assertFalse(Boolean.TRUE.equals(docker.inspectContainerCmd(id).exec().getState().getRunning()), "killed");
        } finally {
            containers.remove(id);
        }
        assertEquals(List.of(), DockerTestSupport.containersOfRunner(runner));
    }

    @Test
    void shouldEndTimedOutNotAsAnInfrastructureFailureWhenTheDeadlineComesWhileTheOutputIsAttached() {
        // a task whose wall time ran out by the time its review container is attached (a short timeoutSeconds on a
        // busy machine): a timeout, as the task's limit says, never "cannot follow the output"
        DockerClient docker = DockerTestSupport.docker();
        String runner = DockerTestSupport.runnerName("waitlate");
        String id = blockedContainer(docker, runner);
        ContainerRunner containers = new ContainerRunner(docker, Duration.ofSeconds(5));
        try {
            ContainerRunner.Outcome outcome = containers.run(id, false, new LogPump((stream, line) -> { }), Instant.now(),
                    new CancelSignal());

            assertEquals(ContainerRunner.End.TIMED_OUT, outcome.end(), outcome.toString());
            assertFalse(Boolean.TRUE.equals(docker.inspectContainerCmd(id).exec().getState().getRunning()), "killed");
        } finally {
            containers.remove(id);
        }
        assertEquals(List.of(), DockerTestSupport.containersOfRunner(runner));
    }
}
