package dev.aireview.runner.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.dockerjava.api.exception.NotFoundException;
import dev.aireview.runner.config.ConfigLoader;
import dev.aireview.runner.config.RunnerConfig;
import dev.aireview.runner.devserver.DevServer;
import dev.aireview.runner.devserver.DevServerOptions;
import dev.aireview.runner.devserver.NewTask;
import dev.aireview.runner.devserver.PhaseChange;
import dev.aireview.runner.devserver.TaskSnapshot;
import dev.aireview.runner.docker.DockerConnection;
import dev.aireview.runner.docker.DockerTaskExecutor;
import dev.aireview.runner.docker.ExecutorImageBuilder;
import dev.aireview.runner.docker.Workspaces;
import dev.aireview.runner.scheduler.RunnerDaemon;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.BindException;
import java.net.ServerSocket;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeoutException;

/**
 * One real review end to end on this machine: executor image (built if missing), a dev server, a sample git
 * repository with a change worth reviewing, served by {@code git daemon}, and an in-process runner with the
 * Docker executor. Prints the review and removes everything it made.
 */
public final class Demo {

    /** What the demo command passes in. {@code aiKey} may be null (offline reviewer). */
    public record Options(String dockerHost, String image, int port, boolean rebuildImage, Duration timeout,
                          String aiBaseUrl, String aiModel, String aiKey, PrintStream out) {
    }

    private final Options options;
    private final PrintStream out;
    private final Deque<AutoCloseable> cleanups = new ArrayDeque<>();

    public Demo(Options options) {
        this.options = options;
        this.out = options.out();
    }

    /** Runs the demo; returns 0 when the review completed. */
    public int run() throws Exception {
        Path home = Files.createTempDirectory("ai-review-demo-");
        cleanups.push(() -> Workspaces.deleteTree(home));
        try {
            return runIn(home);
        } finally {
            closeAll();
        }
    }

    private int runIn(Path home) throws Exception {
        DockerConnection docker = DockerConnection.open(options.dockerHost());
        cleanups.push(docker);
        say("Docker engine " + docker.engineVersion() + " (API " + docker.apiVersion() + ")");

        ensureImage(docker);

        Path gitDir = Files.createDirectories(home.resolve("git"));
        Path seedDir = home.resolve("seed");
        writeFiles(seedDir.resolve("base"), SampleChange.baseFiles());
        writeFiles(seedDir.resolve("change"), SampleChange.changedFiles());
        String user = Files.getAttribute(home, "unix:uid") + ":" + Files.getAttribute(home, "unix:gid");
        DemoDocker helpers = new DemoDocker(docker.client(), options.image(), user);
        String[] shas = helpers.createSampleRepository(gitDir, seedDir);
        int gitPort = freePort();
        String gitDaemon = helpers.startGitDaemon(gitDir, gitPort);
        cleanups.push(() -> helpers.remove(gitDaemon));
        String repoUrl = "git://127.0.0.1:" + gitPort + "/sample";
        say("Sample repository " + repoUrl + ": " + SampleChange.BRANCH + " " + shas[1].substring(0, 7)
                + " on top of " + SampleChange.BASE_BRANCH + " " + shas[0].substring(0, 7));

        String token = "demo-" + HexFormat.of().formatHex(new SecureRandom().generateSeed(12));
        DevServer server = startServer(token);
        cleanups.push(server::stop);
        say("Dev server and dashboard: " + server.baseUrl() + "/  (open it while the review runs)");

        NewTask.Builder task = NewTask.forRepository(repoUrl)
                .fullName("demo/shop")
                .branch(SampleChange.BRANCH)
                .headSha(shas[1])
                .baseSha(shas[0])
                .rule("Flag leftover debug output")
                .rule("Flag credentials committed to the repository")
                .timeoutSeconds((int) options.timeout().toSeconds());
        if (options.aiBaseUrl() != null) {
            task.ai("openai", options.aiBaseUrl(), options.aiModel(), options.aiKey());
            say("Reviewer: model " + options.aiModel() + " at " + options.aiBaseUrl());
        } else {
            say("Reviewer: the executor's built-in offline reviewer (pass --ai-base-url/--ai-model for a model)");
        }
        String taskId = server.enqueue(task.build());
        say("Enqueued review task " + taskId);

        RunnerConfig config = runnerConfig(server, token, home.resolve("workspaces"));
        RunnerDaemon daemon = RunnerDaemon.create(config, new DockerTaskExecutor(config.docker()));
        cleanups.push(() -> {
            daemon.stopGracefully();
            daemon.awaitTermination(Duration.ofSeconds(60));
        });
        daemon.start();
        say("Runner " + config.name() + " started (" + config.maxConcurrentJobs() + " slot, network " + config.docker().networkMode() + ")");

        TaskSnapshot done = follow(server, taskId);
        printReview(done);
        return "completed".equals(done.resultStatus()) ? 0 : 1;
    }

    /** Label on the demo's image: the SHA-256 of the jar inside, so an image from another build is rebuilt. */
    public static final String JAR_LABEL = "ai-review.demo.jar-sha256";

    private void ensureImage(DockerConnection docker) throws IOException, InterruptedException {
        String jarHash;
        try {
            jarHash = sha256(runningJar());
        } catch (IOException e) {
            jarHash = null; // not running from the jar: a present image is used as it is, a missing one cannot be built
        }
        String builtFrom = null;
        boolean present;
        try {
            var config = docker.client().inspectImageCmd(options.image()).exec().getConfig();
            builtFrom = config == null || config.getLabels() == null ? null : config.getLabels().get(JAR_LABEL);
            present = true;
        } catch (NotFoundException e) {
            present = false;
        }
        if (present && !options.rebuildImage() && (jarHash == null || jarHash.equals(builtFrom))) {
            say("Executor image " + options.image() + " is present");
            return;
        }
        if (present && !options.rebuildImage()) {
            say("Executor image " + options.image() + " was built from another jar: rebuilding it");
        }
        say("Building the executor image " + options.image() + " (first run only; a few minutes)");
        Instant start = Instant.now();
        try (InputStream dockerfile = Demo.class.getResourceAsStream("/docker/Dockerfile.executor")) {
            if (dockerfile == null) {
                throw new IOException("this build has no Dockerfile.executor inside; build the image by hand: "
                        + "docker build -f Dockerfile.executor -t " + options.image() + " .");
            }
            ExecutorImageBuilder.build(options.image(), dockerfile, runningJar(), options.dockerHost(),
                    jarHash == null ? List.of() : List.of("--label", JAR_LABEL + "=" + jarHash),
                    Duration.ofMinutes(30), line -> out.println("    | " + line));
        }
        say("Executor image built in " + Duration.between(start, Instant.now()).toSeconds() + " s");
    }

    private static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            java.security.MessageDigest d = java.security.MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                d.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(d.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private DevServer startServer(String token) throws IOException {
        DevServerOptions.Builder builder = DevServerOptions.builder(token).bindAddress("127.0.0.1").port(options.port());
        try {
            return DevServer.start(builder.build());
        } catch (BindException e) {
            say("Port " + options.port() + " is taken; using a free one");
            return DevServer.start(builder.port(0).build());
        }
    }

    private RunnerConfig runnerConfig(DevServer server, String token, Path workspaces) throws IOException {
        Files.createDirectories(workspaces);
        Map<String, String> env = new LinkedHashMap<>();
        env.put("RUNNER_SERVER_URL", server.baseUrl());
        env.put("RUNNER_TOKEN", token);
        env.put("RUNNER_NAME", "demo-runner-" + ProcessHandle.current().pid());
        env.put("DOCKER_EXECUTOR_IMAGE", options.image());
        env.put("DOCKER_HOST", options.dockerHost());
        env.put("RUNNER_MAX_CONCURRENT_JOBS", "1");
        env.put("RUNNER_POLL_INTERVAL_MS", "500");
        env.put("RUNNER_POLL_TIMEOUT_MS", "10000");
        env.put("RUNNER_HEARTBEAT_INTERVAL_MS", "2000");
        env.put("RUNNER_SHUTDOWN_GRACE_MS", "10000");
        // The sample repository is served on 127.0.0.1 of this machine: clone and review use the host network.
        env.put("DOCKER_NETWORK_MODE", "host");
        env.put("DOCKER_WORKSPACE_BASE", workspaces.toString());
        env.put("DOCKER_TIMEOUT_SECONDS", Long.toString(options.timeout().toSeconds()));
        ConfigLoader.Result result = ConfigLoader.load(env, Map.of());
        if (!result.ok()) {
            throw new IllegalStateException("demo runner configuration: " + String.join("; ", result.problems()));
        }
        return result.config();
    }

    /** Prints phases as they happen until the task ends. */
    private TaskSnapshot follow(DevServer server, String taskId) throws InterruptedException {
        Instant deadline = Instant.now().plus(options.timeout()).plusSeconds(30);
        int seen = 0;
        while (true) {
            final int already = seen;
            TaskSnapshot s;
            try {
                s = server.awaitTask(taskId, t -> t.terminal() || t.phases().size() > already, Duration.ofSeconds(2));
            } catch (TimeoutException e) {
                if (Instant.now().isAfter(deadline)) {
                    throw new IllegalStateException("the review did not finish within " + options.timeout().toSeconds() + " s");
                }
                continue;
            }
            for (PhaseChange p : s.phases().subList(seen, s.phases().size())) {
                say("  phase " + p.phase() + (p.message() == null || p.message().isBlank() ? "" : ": " + p.message()));
            }
            seen = s.phases().size();
            if (s.terminal()) {
                return s;
            }
        }
    }

    private void printReview(TaskSnapshot s) {
        JsonNode result = s.result();
        out.println();
        long ms = result != null && result.path("stats").has("durationMs") ? result.path("stats").path("durationMs").asLong() : -1;
        out.println("==== Review of demo/shop " + SampleChange.BRANCH + ": " + s.resultStatus()
                + (ms >= 0 ? " in " + String.format(Locale.ROOT, "%.1f s", ms / 1000.0) : ""));
        if (s.errorKind() != null) {
            out.println("error: " + s.errorKind() + ": " + s.errorMessage());
        }
        if (s.summary() != null) {
            out.println();
            out.println(s.summary().strip());
        }
        JsonNode comments = result == null ? null : result.path("comments");
        if (comments != null && comments.isArray() && comments.size() > 0) {
            out.println();
            String fmt = "%-8s %-38s %s%n";
            out.printf(fmt, "SEVERITY", "LOCATION", "COMMENT");
            for (JsonNode c : comments) {
                String where = c.path("path").asText() + ":" + c.path("line").asText();
                out.printf(fmt, c.path("severity").asText(), where, c.path("message").asText());
            }
        }
        out.println();
        out.println("Task " + s.id() + ": claimed " + s.claimCount() + "x, " + s.logs().size() + " log lines, "
                + s.resultCalls() + " result call(s). Cleaning up.");
    }

    private void say(String line) {
        out.println("==> " + line);
    }

    private static void writeFiles(Path root, Map<String, String> files) throws IOException {
        for (Map.Entry<String, String> f : files.entrySet()) {
            Path p = root.resolve(f.getKey());
            Files.createDirectories(p.getParent());
            Files.writeString(p, f.getValue());
        }
    }

    private static Path runningJar() throws IOException {
        try {
            Path path = Path.of(Demo.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (!Files.isRegularFile(path)) {
                throw new IOException("not running from the packaged jar (" + path + "); run mvn package and use java -jar target/ai-review-runner.jar demo");
            }
            return path;
        } catch (URISyntaxException e) {
            throw new IOException("cannot locate the running jar", e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private void closeAll() {
        while (!cleanups.isEmpty()) {
            try {
                cleanups.pop().close();
            } catch (Exception e) {
                out.println("==> clean-up step failed: " + e.getMessage());
            }
        }
    }
}
