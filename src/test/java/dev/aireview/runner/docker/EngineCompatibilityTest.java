package dev.aireview.runner.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.WaitContainerResultCallback;
import dev.aireview.runner.config.DockerConfig;
import dev.aireview.runner.config.FreeDiskThreshold;
import dev.aireview.runner.config.PullPolicy;
import dev.aireview.runner.execution.CancelSignal;
import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Opt-in compatibility checks against real engines other than the default one: Podman's Docker API
 * ({@code AI_REVIEW_PODMAN_HOST}, e.g. {@code unix:///run/podman/podman.sock}) and Docker 20.10
 * ({@code AI_REVIEW_DOCKER_2010_HOST}). Skipped when neither is set; {@code bash src/test/engines/compat.sh} sets them
 * up (docs/operations.md "Engines"). Each engine needs the images {@code debian:bookworm-slim} and
 * {@code local/debian-git:bookworm}; the test executor image is built on it. The workspace base is
 * {@code AI_REVIEW_COMPAT_WORKSPACES} (default {@code /tmp/ai-review-compat-ws}): an engine in a container must see it
 * at the same path.
 */
class EngineCompatibilityTest {
    static final String RUNNER_PREFIX = "it-compat-" + UUID.randomUUID().toString().substring(0, 6) + "-";
    static final Path BASE = Path.of(System.getenv().getOrDefault("AI_REVIEW_COMPAT_WORKSPACES", "/tmp/ai-review-compat-ws"));
    static final String IMAGE = "ai-review-compat/executor:test";
    static final long MEMORY = 256L * 1024 * 1024;
    static final Set<String> BUILT = Collections.synchronizedSet(new java.util.HashSet<>());
    static final List<String> HOSTS_USED = Collections.synchronizedList(new ArrayList<>());

    static Stream<Arguments> engines() {
        List<Arguments> out = new ArrayList<>();
        for (String var : List.of("AI_REVIEW_PODMAN_HOST", "AI_REVIEW_DOCKER_2010_HOST")) {
            String host = System.getenv(var);
            if (host != null && !host.isBlank()) {
                out.add(Arguments.of(var, host.trim()));
            }
        }
        if (out.isEmpty()) {
            out.add(Arguments.of("none", ""));
        }
        return out.stream();
    }

    static DockerConfig config(String host, String image, String runtime, String network) {
        return new DockerConfig(host, image, PullPolicy.NEVER, MEMORY, 1.5, network, BASE, Duration.ofSeconds(120), 0, 1, 128,
                "10001:10001", Duration.ofSeconds(2), RUNNER_PREFIX + UUID.randomUUID().toString().substring(0, 6),
                1024 * 1024, 0, FreeDiskThreshold.OFF, runtime, null);
    }

    static DockerConnection open(String var, String host) {
        assumeTrue(!host.isEmpty(), "set AI_REVIEW_PODMAN_HOST and/or AI_REVIEW_DOCKER_2010_HOST (bash src/test/engines/compat.sh)");
        HOSTS_USED.add(host);
        DockerConnection c = DockerConnection.open(host);
        if (var.equals("AI_REVIEW_PODMAN_HOST")) {
            assertTrue(c.isPodman(), "AI_REVIEW_PODMAN_HOST is not a Podman engine: " + c.engineLabel());
        } else {
            assertFalse(c.isPodman());
            assertEquals("1.41", c.apiVersion(), "Docker 20.10 speaks API 1.41: " + c.engineLabel());
        }
        return c;
    }

    static synchronized void buildImage(DockerClient docker, String host) {
        if (BUILT.add(host)) {
            File dir = new File(EngineCompatibilityTest.class.getResource("/docker/executor-test/Dockerfile").getFile()).getParentFile();
            docker.buildImageCmd(dir).withTags(Set.of(IMAGE)).withLabels(Map.of("ai-review.managed", "true"))
                    .withPull(false).start().awaitImageId(10, TimeUnit.MINUTES);
        }
    }

    @AfterAll
    static void nothingLeftBehind() throws Exception {
        for (String host : Set.copyOf(HOSTS_USED)) {
            try (DockerConnection c = DockerConnection.open(host)) {
                var left = c.client().listContainersCmd().withShowAll(true).withLabelFilter(List.of(Labels.MANAGED + "=true")).exec()
                        .stream().filter(x -> String.valueOf(x.getLabels().get(Labels.RUNNER)).startsWith(RUNNER_PREFIX)).toList();
                assertEquals(List.of(), left, "containers left behind on " + host);
            }
        }
        if (Files.isDirectory(BASE)) {
            try (Stream<Path> dirs = Files.list(BASE)) {
                for (Path d : dirs.filter(p -> p.getFileName().toString().startsWith(RUNNER_PREFIX)).toList()) {
                    try (Stream<Path> inside = Files.list(d)) {
                        assertEquals(List.of(), inside.toList(), "workspaces left behind in " + d);
                    }
                    Files.deleteIfExists(d);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("engines")
    void startUpVerifiesEverySettingOfTheProbeContainer(String var, String host) {
        try (DockerConnection c = open(var, host)) {
            buildImage(c.client(), host);
        }
        DockerTaskExecutor executor = new DockerTaskExecutor(config(host, IMAGE, null, "bridge"));
        try {
            executor.start();
            assertNotNull(executor.engineVersion());
        } finally {
            executor.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("engines")
    void aRuntimeTheEngineDoesNotApplyRefusesTheStart(String var, String host) {
        try (DockerConnection c = open(var, host)) {
            buildImage(c.client(), host);
        }
        DockerTaskExecutor executor = new DockerTaskExecutor(config(host, IMAGE, "runsc", "none"));
        try {
            DockerExecutorException e = assertThrows(DockerExecutorException.class, executor::start);
            assertTrue(e.getMessage().contains("DOCKER_RUNTIME"), e.getMessage());
        } finally {
            executor.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("engines")
    void hostDockerInternalIsTheBridgeGateway(String var, String host) throws Exception {
        try (DockerConnection c = open(var, host)) {
            DockerClient docker = c.client();
            DockerConfig config = config(host, "debian:bookworm-slim", null, "bridge");
            ContainerSpecs specs = new ContainerSpecs(config);
            if (c.isPodman()) {
                String gateway = docker.inspectNetworkCmd().withNetworkId("bridge").exec().getIpam().getConfig().get(0).getGateway();
                specs.useGatewayAddresses(n -> gateway);
            }
            Path ws = workspace(config);
            // the container's default route is its bridge gateway (Docker 20.10's bridge inspect may report no Gateway)
            List<String> out = run(c, specs, ws, "getent hosts host.docker.internal || echo unresolved; "
                    + "awk '$2 == \"00000000\" { print $3 }' /proc/net/route");
            String route = out.get(out.size() - 1);
            String gateway = (Integer.parseInt(route.substring(6, 8), 16)) + "." + Integer.parseInt(route.substring(4, 6), 16) + "."
                    + Integer.parseInt(route.substring(2, 4), 16) + "." + Integer.parseInt(route.substring(0, 2), 16);
            assertTrue(out.get(0).startsWith(gateway + " "), "expected " + gateway + ", got " + out);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("engines")
    void theReviewContainerHasItsLimitsInsideAndTheVerifierAgrees(String var, String host) throws Exception {
        try (DockerConnection c = open(var, host)) {
            DockerConfig config = config(host, "debian:bookworm-slim", null, "none");
            ContainerSpecs specs = new ContainerSpecs(config);
            Path ws = workspace(config);
            // the limits as the kernel sees them from inside (cgroup v1 or v2), not only as the engine reports them
            List<String> out = run(c, specs, ws, "id -u; "
                    + "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max; "
                    + "cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max; "
                    + "grep CapEff /proc/self/status; grep NoNewPrivs /proc/self/status; touch /x 2>/dev/null && echo rw || echo ro");
            String text = String.join("\n", out);
            assertEquals("10001", out.get(0), text);
            assertEquals(String.valueOf(MEMORY), out.get(1), text);
            assertEquals("128", out.get(2), text);
            assertTrue(text.contains("CapEff:\t0000000000000000"), text);
            assertTrue(text.contains("NoNewPrivs:\t1"), text);
            assertTrue(text.endsWith("ro"), text);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("engines")
    void aTakenPooledContainerGetsATasksCpuWeight(String var, String host) throws Exception {
        try (DockerConnection c = open(var, host)) {
            DockerClient docker = c.client();
            DockerConfig config = config(host, "debian:bookworm-slim", null, "none");
            ContainerSpecs specs = new ContainerSpecs(config);
            Path ws = workspace(config);
            ContainerRunner runner = new ContainerRunner(docker, Duration.ofSeconds(1));
            var cmd = specs.script(docker, ws, Labels.POOL_TASK, "review", "sleep 120", List.of());
            cmd.getHostConfig().withCpuShares(ContainerPool.WARMING_CPU_SHARES);
            String id = cmd.exec().getId();
            try {
                docker.startContainerCmd(id).exec();
                String read = "cat /sys/fs/cgroup/cpu/cpu.shares 2>/dev/null || cat /sys/fs/cgroup/cpu,cpuacct/cpu.shares 2>/dev/null || cat /sys/fs/cgroup/cpu.weight";
                String before = exec(docker, id, read);
                ContainerPool pool = new ContainerPool(docker, specs, null, runner, p -> true, 0);
                if (c.isPodman()) {
                    pool.useCpuWeightFallback((cid, shares) -> {
                        var r = c.post("/v4.0.0/libpod/containers/" + cid + "/update", "{\"cpu\":{\"shares\":" + shares + "}}");
                        return r.status() / 100 == 2 ? null : "HTTP " + r.status() + " " + r.body();
                    });
                }
                assertTrue(pool.promote(id));
                String after = exec(docker, id, read);
                assertNotEquals(before, after, "the weight changed inside the container");
                if (before.equals("256")) {
                    assertEquals("1024", after);
                }
            } finally {
                runner.remove(id);
                Files.deleteIfExists(ws);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("engines")
    void anImageThatExitsAtOnceFailsNamingTheContract(String var, String host) throws Exception {
        try (DockerConnection c = open(var, host)) {
            assertNotNull(c.engineVersion());
        }
        DockerTaskExecutor executor = new DockerTaskExecutor(config(host, "debian:bookworm-slim", null, "none"));
        // a repository the runner's trusted fetch reaches (it runs before any container: issue 19)
        try (GitFixture git = GitFixture.start()) {
            executor.start();
            ReviewTask task = DockerTestSupport.task(null, git);
            TaskResult result = executor.execute(task, new RecordingContext(Duration.ofSeconds(60)));
            assertEquals(ErrorKind.EXECUTOR_FAILED, result.error().kind(), result::toString);
            assertTrue(result.error().message().contains("docs/executor-contract.md"), result.error().message());
            assertFalse(executor.checkoutFallbackInUse());
        } finally {
            executor.close();
        }
    }

    /**
     * One task on the test image through an executor with a pool of {@code poolSize} (filled first) on the engine at
     * {@code host}: it completes at the repository's head without the checkout-container fallback; its log lines.
     */
    private static RecordingContext completedTask(String var, String host, int poolSize) throws Exception {
        try (DockerConnection c = open(var, host)) {
            buildImage(c.client(), host);
        }
        DockerTaskExecutor executor = new DockerTaskExecutor(config(host, IMAGE, null, "none").withPoolSize(poolSize));
        try (GitFixture git = GitFixture.start()) {
            executor.start();
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(120)).until(() -> executor.readyPoolContainers() == poolSize);
            RecordingContext ctx = new RecordingContext(Duration.ofSeconds(90));

            TaskResult result = executor.execute(DockerTestSupport.task(null, git), ctx);

            assertEquals(dev.aireview.runner.model.ResultStatus.COMPLETED, result.status(), () -> result + "\n" + ctx.lines());
            assertTrue(result.summary().contains("head=" + git.head()), result.summary());
            assertTrue(ctx.logged("checked out " + git.head() + " from the runner's repository cache"), ctx.lines().toString());
            assertFalse(executor.checkoutFallbackInUse());
            return ctx;
        } finally {
            executor.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("engines")
    void aColdTaskIsCheckedOutByItsReviewContainerAsItStarts(String var, String host) throws Exception {
        RecordingContext ctx = completedTask(var, host, 0);
        // after the wrapper's checkout line, the image's own entrypoint (its first line once task.json is there)
        assertTrue(ctx.logged("review running in container"), ctx.lines().toString());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("engines")
    void aPooledTaskChecksOutThroughTheCheckoutWaitingInItsContainer(String var, String host) throws Exception {
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(StreamedCheckout.class);
        var appender = new ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent>();
        ch.qos.logback.classic.Level level = logger.getLevel();
        logger.setLevel(ch.qos.logback.classic.Level.DEBUG);
        appender.start();
        logger.addAppender(appender);
        try {
            RecordingContext ctx = completedTask(var, host, 1);

            assertTrue(ctx.logged("using pre-warmed container"), ctx.lines().toString());
            List<String> how = appender.list.stream().map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
                    .filter(m -> m.startsWith("checkout in pre-warmed container")).toList();
            assertEquals(1, how.size(), how::toString);
            assertTrue(how.get(0).endsWith("by its waiting checkout"), how.get(0));
        } finally {
            logger.detachAppender(appender);
            logger.setLevel(level);
        }
    }

    private static Path workspace(DockerConfig config) throws Exception {
        Workspaces w = new Workspaces(config.workspaceBase(), config.runnerName(), config.user(), config.resultLimitBytes());
        w.ensureRunnerDir();
        return w.create("compat-" + UUID.randomUUID().toString().substring(0, 6));
    }

    /** Runs {@code script} in a hardened script container; its output lines (the container and workspace removed). */
    private static List<String> run(DockerConnection c, ContainerSpecs specs, Path ws, String script) throws Exception {
        DockerClient docker = c.client();
        ContainerRunner runner = new ContainerRunner(docker, Duration.ofSeconds(1));
        List<String> lines = Collections.synchronizedList(new ArrayList<>());
        String id = new ContainerVerifier(docker, c.engineLabel(), runner).create(specs.script(docker, ws, "compat", "check", script, List.of()));
        try {
            var outcome = runner.run(id, false, new LogPump((s, l) -> lines.add(l)), Instant.now().plusSeconds(120), new CancelSignal());
            assertEquals(0, outcome.exitCode(), () -> String.join("\n", lines));
            return List.copyOf(lines);
        } finally {
            runner.remove(id);
            Files.deleteIfExists(ws);
        }
    }

    private static String exec(DockerClient docker, String id, String script) throws Exception {
        String execId = docker.execCreateCmd(id).withCmd("sh", "-c", script).withAttachStdout(true).withAttachStderr(true).exec().getId();
        StringBuilder out = new StringBuilder();
        docker.execStartCmd(execId).exec(new com.github.dockerjava.api.async.ResultCallback.Adapter<com.github.dockerjava.api.model.Frame>() {
            @Override
            public void onNext(com.github.dockerjava.api.model.Frame f) {
                out.append(new String(f.getPayload(), java.nio.charset.StandardCharsets.UTF_8));
            }
        }).awaitCompletion(60, TimeUnit.SECONDS);
        return out.toString().strip();
    }
}
