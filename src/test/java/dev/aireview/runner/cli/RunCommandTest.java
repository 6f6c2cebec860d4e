package dev.aireview.runner.cli;

import com.github.tomakehurst.wiremock.WireMockServer;
import dev.aireview.runner.config.ConfigOption;
import dev.aireview.runner.execution.TaskExecutor;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.execution.TaskContext;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import static com.github.tomakehurst.wiremock.client.WireMock.*;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.junit.jupiter.api.Assertions.*;

class RunCommandTest {
    static final String TOKEN = "cli-token-SECRET-99";

    record Run(int exit, String err, String out) {
    }

    private static Run run(RunCommand cmd, Map<String, String> env, String... args) {
        cmd.environment = env;
        cmd.installSignals = false;
        CommandLine cl = new CommandLine(cmd);
        StringWriter err = new StringWriter();
        StringWriter out = new StringWriter();
        cl.setErr(new PrintWriter(err, true));
        cl.setOut(new PrintWriter(out, true));
        int exit = cl.execute(args);
        return new Run(exit, err.toString(), out.toString());
    }

    private static Map<String, String> env(String serverUrl) {
        Map<String, String> env = new HashMap<>();
        env.put("RUNNER_SERVER_URL", serverUrl);
        env.put("RUNNER_TOKEN", TOKEN);
        env.put("RUNNER_NAME", "cli-runner");
        env.put("DOCKER_EXECUTOR_IMAGE", "img:1");
        return env;
    }

    @Test
    void shouldExitWith2AndPrintEveryProblemWithoutTheToken() {
        Map<String, String> env = new HashMap<>();
        env.put("RUNNER_TOKEN", TOKEN);
        env.put("RUNNER_MAX_CONCURRENT_JOBS", "zero");
        Run r = run(new RunCommand(), env, "--memory-limit", "huge", "--server-url", "not a url");
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("RUNNER_SERVER_URL='not a url'"), r.err());
        assertTrue(r.err().contains("RUNNER_NAME: required"), r.err());
        assertTrue(r.err().contains("DOCKER_EXECUTOR_IMAGE: required"), r.err());
        assertTrue(r.err().contains("RUNNER_MAX_CONCURRENT_JOBS='zero'"), r.err());
        assertTrue(r.err().contains("DOCKER_MEMORY_LIMIT='huge'"), r.err());
        assertTrue(r.err().contains("(5 problem(s))"), r.err());
        assertFalse(r.err().contains(TOKEN));
    }

    @Test
    void shouldLetFlagsWinOverVariables() {
        RunCommand cmd = new RunCommand();
        Map<String, String> env = env("http://127.0.0.1:1");
        env.put("RUNNER_MAX_CONCURRENT_JOBS", "bad");
        cmd.environment = env;
        new CommandLine(cmd).parseArgs("--max-concurrent-jobs", "4", "--name", "flag-name", "--memory-limit", "1.5g");
        var config = cmd.loadConfig(new PrintWriter(new StringWriter()));
        assertNotNull(config);
        assertEquals(4, config.maxConcurrentJobs());
        assertEquals("flag-name", config.name());
        assertEquals((long) (1.5 * (1L << 30)), config.docker().memoryBytes());
    }

    @Test
    void shouldExit1NamingDockerRuntimeWhenTheEngineDoesNotListIt() {
        // the real Docker executor: its start-up asks the engine (docker info) before anything else
        Map<String, String> env = env("http://127.0.0.1:1");
        env.put("DOCKER_RUNTIME", "no-such-runtime");
        env.put("DOCKER_WORKSPACE_BASE", System.getProperty("java.io.tmpdir") + "/ai-review-cli-runtime-test");
        Run r = run(new RunCommand(), env);
        assertEquals(1, r.exit(), r.err());
        assertTrue(r.err().contains("DOCKER_RUNTIME='no-such-runtime' is not a runtime of the Docker engine"), r.err());
    }

    @Test
    void shouldExit1WhenNoExecutorCanBeCreated() {
        RunCommand cmd = new RunCommand();
        cmd.executorFactory = c -> {
            throw new IllegalStateException("Docker executor not available in this build");
        };
        Run r = run(cmd, env("http://127.0.0.1:1"));
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("cannot create the task executor: Docker executor not available in this build"), r.err());
    }

    @Test
    void shouldExit1WithAClearMessageWhenTheServerRefusesTheToken() {
        WireMockServer wm = new WireMockServer(options().dynamicPort());
        wm.start();
        try {
            wm.stubFor(get("/api/health").willReturn(okJson("{\"data\":{\"status\":\"ok\"}}")));
            wm.stubFor(post("/api/runners/register").willReturn(aResponse().withStatus(403)));
            AtomicBoolean closed = new AtomicBoolean();
            RunCommand cmd = new RunCommand();
            cmd.executorFactory = c -> new TaskExecutor() {
                @Override
                public TaskResult execute(ReviewTask task, TaskContext context) {
                    throw new AssertionError("no task expected");
                }

                @Override
                public void close() {
                    closed.set(true);
                }
            };
            Run r = run(cmd, env(wm.baseUrl()));
            assertEquals(1, r.exit(), r.err());
            assertTrue(r.err().contains("the server refused the runner token (HTTP 403"), r.err());
            assertFalse(r.err().contains(TOKEN));
            assertTrue(closed.get());
            wm.verify(1, postRequestedFor(urlEqualTo("/api/runners/register")).withHeader("Authorization", equalTo("Bearer " + TOKEN)));
        } finally {
            wm.stop();
        }
    }

    @Test
    void shouldExit1WhenTheExecutorCannotStart() {
        RunCommand cmd = new RunCommand();
        cmd.executorFactory = c -> new TaskExecutor() {
            @Override
            public void start() {
                throw new IllegalStateException("Docker daemon not reachable at unix:///nope.sock");
            }

            @Override
            public TaskResult execute(ReviewTask task, TaskContext context) {
                throw new AssertionError();
            }
        };
        Run r = run(cmd, env("http://127.0.0.1:1"));
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("the executor could not start: Docker daemon not reachable"), r.err());
    }

    @Test
    void shouldDocumentEveryOptionInHelpWithItsVariable() {
        Run r = run(new RunCommand(), Map.of(), "--help");
        assertEquals(0, r.exit());
        for (ConfigOption o : ConfigOption.values()) {
            assertTrue(r.out().contains(o.flag()), o.flag());
            assertTrue(r.out().contains("[" + o.env() + "]"), o.env());
        }
    }
}
