package dev.aireview.runner.docker;

import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Container;
import dev.aireview.runner.config.DockerConfig;
import dev.aireview.runner.config.PullPolicy;
import dev.aireview.runner.execution.TaskContext;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskPhase;
import dev.aireview.runner.model.TaskResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Issue 19: the clone token never reaches a container of the executor image, in any mode. A hostile executor image
 * (src/test/resources/docker/thief-executor) records every git it runs (a wrapper ahead of git on PATH: the checkout
 * inside it included), watches /proc/*&#47;environ and cmdline from its start, sweeps its environment, /workspace, /tmp
 * and the cache mount, tries to write into the cache, and prints all it found hex-encoded. For a cold task (cache on and
 * off), a pre-warmed one, and a gVisor (runsc) one with the clone network other than the review's: the token is in none
 * of it, nor in the engine's record of the task's containers and execs ({@code docker inspect}); the server did get it
 * (the repository refuses a clone without it); the cache mount stayed read-only.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class TokenThiefExecutorTest {
    static final String IMAGE = dev.aireview.runner.testsupport.CheckoutTag.image("ai-review-test/thief-executor:test");
    private static final String TOKEN = "ghs_Th1efBait+Token/42qq";

    private GitFixture git;
    private GitHttpServer origin;

    @BeforeAll
    void setUp() throws Exception {
        File dir = new File(TokenThiefExecutorTest.class.getResource("/docker/thief-executor/Dockerfile").getFile()).getParentFile();
        DockerTestSupport.docker().buildImageCmd(dir).withTags(Set.of(IMAGE)).withLabels(Map.of("ai-review.managed", "true"))
                .withPull(false).start().awaitImageId();
        git = GitFixture.start();
        origin = GitHttpServer.start(git.root(), TOKEN, true);
    }

    @AfterAll
    void tearDown() throws Exception {
        if (origin != null) {
            origin.close();
        }
        if (git != null) {
            git.close();
        }
        assertEquals(List.of(), DockerTestSupport.leftovers(), "containers, volumes or workspaces left behind");
        DockerTestSupport.removeRunnerDirs();
    }

    private static DockerConfig config(String purpose, int poolSize, long cacheLimit) {
        DockerConfig c = DockerTestSupport.config(DockerTestSupport.runnerName(purpose), "host", poolSize, DockerTestSupport.MEMORY,
                IMAGE, PullPolicy.NEVER);
        return new DockerConfig(c.host(), c.executorImage(), c.pullPolicy(), c.memoryBytes(), c.cpus(), c.networkMode(),
                c.workspaceBase(), c.timeout(), c.poolSize(), c.cloneDepth(), c.pidsLimit(), c.user(), c.stopGrace(),
                c.runnerName(), c.resultLimitBytes(), c.workspaceLimitBytes(), c.minFreeDisk(), c.runtime(), c.cloneNetworkMode(),
                cacheLimit);
    }

    @Test
    void aColdTaskWithTheCacheOffLeaksNoToken() throws Exception {
        Stolen s = steal(config("thief-cold", 0, 0));
        assertTrue(s.result.summary().contains("cache=read-only"), s.result.summary());
    }

    @Test
    void aColdTaskWithTheCacheOnLeaksNoToken() throws Exception {
        steal(config("thief-cache", 0, 1L << 30));
    }

    @Test
    void aPreWarmedTaskLeaksNoToken() throws Exception {
        Stolen s = steal(config("thief-pool", 1, 0));
        assertTrue(s.ctx.logged("using pre-warmed container"), s.ctx.lines().toString());
    }

    @Test
    void aSandboxedTaskOnAnotherCloneNetworkLeaksNoToken() throws Exception {
        Map<String, ?> runtimes = DockerTestSupport.docker().infoCmd().exec().getRuntimes();
        assumeTrue(runtimes != null && runtimes.containsKey("runsc"), "assumes the engine lists gVisor as runtime 'runsc'");
        DockerConfig c = config("thief-runsc", 0, 0);
        // the review offline under gVisor, the clone network host (the git server is on 127.0.0.1); a higher pids limit:
        // gVisor's own threads count against it, and the thief forks a few processes at its end
        c = new DockerConfig(c.host(), c.executorImage(), c.pullPolicy(), c.memoryBytes(), c.cpus(), "none", c.workspaceBase(),
                c.timeout(), 0, c.cloneDepth(), 1024, c.user(), c.stopGrace(), c.runnerName(), c.resultLimitBytes(),
                c.workspaceLimitBytes(), c.minFreeDisk(), "runsc", "host", 0);
        steal(c);
    }

    private record Stolen(TaskResult result, RecordingContext ctx) {
    }

    private Stolen steal(DockerConfig config) throws Exception {
        try (DockerTaskExecutor ex = new DockerTaskExecutor(config)) {
            ex.start();
            if (config.poolSize() > 0) {
                await().atMost(Duration.ofSeconds(60)).until(() -> ex.readyPoolContainers() == config.poolSize());
            }
            ReviewTask task = DockerTestSupport.task(null, origin.url("shop.git"), "feature/x", git.head(), git.base(), TOKEN);
            List<String> inspected = new CopyOnWriteArrayList<>();
            RecordingContext recording = new RecordingContext(Duration.ofSeconds(200));
            recording.onPhase = phase -> {
                if (phase == TaskPhase.REVIEWING) {
                    inspected.add(engineRecord(config.runnerName()));
                }
            };
            TaskContext ctx = recording;

            TaskResult result = ex.execute(task, ctx);

            assertEquals(ResultStatus.COMPLETED, result.status(), () -> result + "\n" + recording.lines());
            assertTrue(result.summary().contains("head=" + git.head()), result.summary());
            assertTrue(origin.authorizations().contains(GitHttpServer.basic("x-access-token", TOKEN)),
                    "the repository got the token (from the runner's trusted fetch): " + origin.seen);
            assertFalse(result.summary().contains("cache=WRITTEN"), "the image wrote into the cache: " + result.summary());
            String loot = loot(recording.lines());
            assertTrue(loot.contains("== git runs") && loot.contains("GIT_HEAD_SHA=" + git.head()),
                    "the thief saw the checkout's git and its environment (so a token there would be in its loot): "
                            + loot.substring(0, Math.min(2000, loot.length())));
            assertFalse(loot.contains(TOKEN), "the executor image read the token: " + around(loot, TOKEN));
            assertEquals(1, inspected.size(), "the task's containers were inspected while it ran");
            assertTrue(inspected.get(0).contains("role=review"), inspected.get(0));
            assertFalse(inspected.get(0).contains(TOKEN), "token in the engine's record of a container: " + inspected.get(0));
            assertFalse(String.join("\n", recording.lines()).contains(TOKEN), "token in the task's log");
            return new Stolen(result, recording);
        }
    }

    /**
     * What the engine records about the runner's containers (the task's, and pre-warmed ones) and the processes executed
     * in them ({@code docker inspect}).
     */
    private static String engineRecord(String runnerName) {
        StringBuilder seen = new StringBuilder();
        for (Container c : DockerTestSupport.containersOfRunner(runnerName)) {
            InspectContainerResponse info;
            try {
                info = DockerTestSupport.docker().inspectContainerCmd(c.getId()).exec();
            } catch (com.github.dockerjava.api.exception.NotFoundException gone) {
                continue; // a checkout container removed meanwhile
            }
            seen.append("role=").append(c.getLabels().get(Labels.ROLE)).append('\n')
                    .append(String.join("\n", Arrays.asList(info.getConfig().getEnv()))).append('\n')
                    .append(Arrays.toString(info.getConfig().getEntrypoint())).append(Arrays.toString(info.getConfig().getCmd()))
                    .append(info.getPath()).append(Arrays.toString(info.getArgs())).append('\n');
            for (String execId : info.getExecIds() == null ? List.<String>of() : info.getExecIds()) {
                var process = DockerTestSupport.docker().inspectExecCmd(execId).exec().getProcessConfig();
                seen.append("exec ").append(process.getEntryPoint()).append(' ').append(process.getArguments()).append('\n');
            }
        }
        return seen.toString();
    }

    /** The thief's hex-encoded loot from its output lines ({@code LOOT:<hex>}), decoded. */
    private static String loot(List<String> lines) {
        StringBuilder hex = new StringBuilder();
        for (String l : lines) {
            int i = l.indexOf("LOOT:");
            if (i >= 0) {
                hex.append(l.substring(i + 5).strip());
            }
        }
        assertTrue(hex.length() > 0 && hex.length() % 2 == 0, "the thief printed its loot: " + hex.length() + " hex digits");
        return new String(HexFormat.of().parseHex(hex), StandardCharsets.ISO_8859_1);
    }

    private static String around(String s, String needle) {
        int i = s.indexOf(needle);
        return s.substring(Math.max(0, i - 300), Math.min(s.length(), i + 300));
    }
}
