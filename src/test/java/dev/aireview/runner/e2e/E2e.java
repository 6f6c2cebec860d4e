package dev.aireview.runner.e2e;

import dev.aireview.runner.testsupport.TestJvm;
import com.github.dockerjava.api.model.Container;
import dev.aireview.runner.config.ConfigLoader;
import dev.aireview.runner.config.RunnerConfig;
import dev.aireview.runner.devserver.DevServer;
import dev.aireview.runner.devserver.DevServerOptions;
import dev.aireview.runner.devserver.LogLine;
import dev.aireview.runner.devserver.NewTask;
import dev.aireview.runner.devserver.TaskSnapshot;
import dev.aireview.runner.docker.DockerTaskExecutor;
import dev.aireview.runner.docker.DockerTestSupport;
import dev.aireview.runner.docker.GitFixture;
import dev.aireview.runner.docker.Labels;
import dev.aireview.runner.scheduler.RunnerDaemon;
import dev.aireview.runner.testsupport.ExecutorImages;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Building blocks of the end-to-end tests: a dev server on a free port, runner settings for the real Docker executor
 * (network {@code host}, so containers reach the git daemon and test servers on 127.0.0.1), in-process runners and
 * runner processes ({@code java -jar runner.jar run}), tasks for the shell test image, and the leftovers check.
 * Runner names start with {@link DockerTestSupport#RUNNER_PREFIX}, so {@link DockerTestSupport#leftovers()} sees
 * everything they create.
 */
public final class E2e {
    private E2e() {
    }

    static DevServer server(Duration heartbeatTimeout) throws IOException {
        String token = "e2e-token-" + UUID.randomUUID();
        return DevServer.start(DevServerOptions.builder(token).port(0).bindAddress("127.0.0.1")
                .heartbeatTimeout(heartbeatTimeout).maxPollWait(Duration.ofSeconds(30)).build());
    }

    /** Runner settings (as environment variables) for a runner of {@code server} with the given image and slots. */
    public static Map<String, String> env(DevServer server, String runnerName, String image, int slots) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("RUNNER_SERVER_URL", server.baseUrl());
        env.put("RUNNER_TOKEN", server.token());
        env.put("RUNNER_NAME", runnerName);
        env.put("RUNNER_MAX_CONCURRENT_JOBS", Integer.toString(slots));
        env.put("RUNNER_HEARTBEAT_INTERVAL_MS", "250");
        env.put("RUNNER_POLL_TIMEOUT_MS", "3000");
        env.put("RUNNER_POLL_INTERVAL_MS", "200");
        env.put("RUNNER_REQUEST_TIMEOUT_MS", "3000");
        env.put("RUNNER_SHUTDOWN_GRACE_MS", "5000");
        env.put("DOCKER_HOST", DockerTestSupport.dockerHost());
        env.put("DOCKER_EXECUTOR_IMAGE", image);
        env.put("DOCKER_PULL_POLICY", "never");
        env.put("DOCKER_NETWORK_MODE", "host");
        env.put("DOCKER_WORKSPACE_BASE", DockerTestSupport.WORKSPACE_BASE.toString());
        env.put("DOCKER_MEMORY_LIMIT", "256m");
        env.put("DOCKER_CPU_LIMIT", "1");
        env.put("DOCKER_PIDS_LIMIT", "128");
        env.put("DOCKER_STOP_GRACE_SECONDS", "1");
        env.put("DOCKER_TIMEOUT_SECONDS", "120");
        env.put("DOCKER_POOL_SIZE", "0");
        return env;
    }

    /** A runner in this JVM: the production daemon with the Docker executor, built from {@code env} by ConfigLoader. */
    static InProcessRunner inProcess(Map<String, String> env) throws Exception {
        ConfigLoader.Result loaded = ConfigLoader.load(env, Map.of());
        assertTrue(loaded.ok(), "configuration problems: " + loaded.problems());
        RunnerConfig config = loaded.config();
        RunnerDaemon daemon = RunnerDaemon.create(config, new DockerTaskExecutor(config.docker()));
        daemon.start();
        return new InProcessRunner(config.name(), daemon);
    }

    record InProcessRunner(String name, RunnerDaemon daemon) implements AutoCloseable {
        /** Graceful stop (drains within RUNNER_SHUTDOWN_GRACE_MS); asserts the daemon terminated. */
        @Override
        public void close() throws InterruptedException {
            daemon.stopGracefully();
            assertTrue(daemon.awaitTermination(Duration.ofSeconds(60)), "runner " + name + " did not stop");
        }
    }

    /** {@code java [jvmArgs] -jar runner.jar run} with {@code env} (and no other RUNNER_/DOCKER_ variable). */
    public static RunnerProcess process(Map<String, String> env, String... jvmArgs) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(jvmArgs));
        cmd.addAll(List.of("-jar", ExecutorImages.runnerJar().toString(), "run"));
        cmd = TestJvm.command(cmd);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().keySet().removeIf(k -> k.startsWith("RUNNER_") || k.startsWith("DOCKER_"));
        pb.environment().putAll(env);
        Path out = Files.createTempFile("e2e-runner-" + env.get("RUNNER_NAME"), ".log");
        pb.redirectErrorStream(true).redirectOutput(out.toFile());
        return new RunnerProcess(env.get("RUNNER_NAME"), pb.start(), out);
    }

    /** {@link #process} with {@code env}, once the server sees it online; it is added to {@code toClose}. */
    static RunnerProcess startOnline(DevServer server, Map<String, String> env, List<AutoCloseable> toClose) throws Exception {
        String name = env.get("RUNNER_NAME");
        RunnerProcess p = process(env);
        toClose.add(p);
        server.awaitRunners(rs -> rs.stream().anyMatch(r -> r.id().equals(name) && r.online()), Duration.ofSeconds(60));
        return p;
    }

    /**
     * Enqueues a slow task, waits until {@code runner} reviews it in a running container, then kills the runner
     * with SIGKILL (no shutdown hook, no clean-up); the task's id.
     */
    static String killNineWhileReviewing(DevServer server, GitFixture git, RunnerProcess runner) throws Exception {
        String id = server.enqueue(task(git, "slow").build());
        server.awaitTask(id, t -> "reviewing".equals(t.phase()) && runner.name().equals(t.runnerId()), Duration.ofSeconds(60));
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() ->
                containersOfTask(runner.name(), id).stream().anyMatch(c -> "running".equals(c.getState())));
        assertEquals(137, runner.kill9(), "killed by SIGKILL");
        return id;
    }

    public record RunnerProcess(String name, Process process, Path outputFile) implements AutoCloseable {
        public String output() {
            try {
                return Files.readString(outputFile, StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "cannot read " + outputFile + ": " + e;
            }
        }

        /** SIGKILL: no shutdown hook, no clean-up. Returns the exit status (137). */
        public int kill9() throws InterruptedException {
            process.destroyForcibly();
            assertTrue(process.waitFor(30, TimeUnit.SECONDS), "runner " + name + " survived SIGKILL");
            return process.exitValue();
        }

        /** SIGTERM, then waits for the drain; returns the exit status. */
        public int terminate() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError("runner " + name + " did not stop on SIGTERM:\n" + output());
            }
            return process.exitValue();
        }

        /** Safety net for @AfterAll: a still running process is stopped; the output file is removed. */
        @Override
        public void close() throws Exception {
            if (process.isAlive()) {
                process.destroy();
                if (!process.waitFor(60, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            }
            Files.deleteIfExists(outputFile);
        }
    }

    /** A review of the fixture repository's {@code feature/x}; {@code mode} is the shell test image's switch. */
    public static NewTask.Builder task(GitFixture git, String mode) {
        NewTask.Builder b = NewTask.forRepository(git.url()).fullName("acme/shop").branch("feature/x")
                .headSha(git.head()).baseSha(git.base()).cloneToken("ghp_e2e" + UUID.randomUUID().toString().replace("-", ""));
        if (mode != null) {
            b.prompt(mode);
        }
        return b;
    }

    /**
     * Containers of one task of one runner. Task ids ({@code task_<n>}) repeat across dev servers, and other runners
     * may use this engine, so the runner label is part of the filter.
     */
    static List<Container> containersOfTask(String runnerName, String taskId) {
        return DockerTestSupport.docker().listContainersCmd().withShowAll(true)
                .withLabelFilter(List.of(Labels.RUNNER + "=" + runnerName, Labels.TASK + "=" + taskId)).exec();
    }

    /** The task's {@code <base>/<runner>/<task prefix>-<hash>} workspace directory. */
    static Path workspace(String runnerName, String taskId) {
        return new dev.aireview.runner.docker.Workspaces(DockerTestSupport.WORKSPACE_BASE, runnerName).workspaceOf(taskId);
    }

    /** Workspaces left in a runner's directory (none when it does not exist); its claim journal and repository cache are not. */
    static List<Path> workspacesOf(String runnerName) throws IOException {
        Path dir = DockerTestSupport.WORKSPACE_BASE.resolve(runnerName);
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> !p.getFileName().toString().equals(dev.aireview.runner.docker.Workspaces.CLAIMS_DIR)
                    && !p.getFileName().toString().equals(dev.aireview.runner.docker.Workspaces.REPO_CACHE_DIR)
                    && !p.getFileName().toString().equals(dev.aireview.runner.docker.Workspaces.CLEANING_DIR)).toList();
        }
    }

    /** Every log line of a task as one string, for failure messages. */
    static String logText(TaskSnapshot t) {
        return t.logs().stream().map(l -> l.stream() + "| " + l.text()).collect(Collectors.joining("\n"));
    }

    /** Bytes of log text the server holds for a task (UTF-8, plus one per line for the newline). */
    static long logBytes(TaskSnapshot t) {
        long n = 0;
        for (LogLine l : t.logs()) {
            n += l.text().getBytes(StandardCharsets.UTF_8).length + 1;
        }
        return n;
    }

    /** The @AfterAll check of every class: no container, volume or workspace of any runner of this JVM remains. */
    static void assertNothingLeft() throws IOException {
        assertEquals(List.of(), DockerTestSupport.leftovers(), "left behind");
        DockerTestSupport.removeRunnerDirs();
    }
}
