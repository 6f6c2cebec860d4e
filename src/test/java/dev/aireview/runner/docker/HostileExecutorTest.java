package dev.aireview.runner.docker;

import dev.aireview.runner.config.DockerConfig;
import dev.aireview.runner.config.FreeDiskThreshold;
import dev.aireview.runner.config.PullPolicy;
import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.Json;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A deliberately hostile executor image (src/test/resources/docker/hostile-executor) against the real engine: links
 * to host files planted before and after the task arrives, a FIFO, a directory, a 20 MiB and a malformed result.json,
 * a disk filler. Each time the host files stay as they were (content, mode, owner), nothing of them reaches the
 * result or the log, the task has one result naming what went wrong, and the executor runs a normal task afterwards.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
public class HostileExecutorTest {
    public static final String IMAGE = dev.aireview.runner.testsupport.CheckoutTag.image("ai-review-test/hostile-executor:test");
    /** Where the image's links point (fixed in its entrypoint). */
    public static final Path HOST = Path.of("/tmp/ai-review-hostile-targets");
    static final long WORKSPACE_LIMIT = 32L * 1024 * 1024;

    private final String secret = "HOST-SECRET-" + UUID.randomUUID();
    private GitFixture git;
    private String runner;
    private String pooledRunner;
    private DockerTaskExecutor cold;
    private DockerTaskExecutor pooled;

    public static synchronized void buildImage() {
        File dir = new File(HostileExecutorTest.class.getResource("/docker/hostile-executor/Dockerfile").getFile()).getParentFile();
        DockerTestSupport.docker().buildImageCmd(dir).withTags(Set.of(IMAGE)).withLabels(Map.of("ai-review.managed", "true"))
                .withPull(false).start().awaitImageId();
    }

    static DockerConfig config(String runnerName, int poolSize) {
        return DockerTestSupport.config(runnerName, "host", poolSize, DockerTestSupport.MEMORY, IMAGE, PullPolicy.NEVER)
                .withWorkspaceGuards(DockerConfig.DEFAULT_RESULT_LIMIT_BYTES, WORKSPACE_LIMIT, FreeDiskThreshold.OFF);
    }

    @BeforeAll
    void setUp() throws Exception {
        buildImage();
        git = GitFixture.start();
        runner = DockerTestSupport.runnerName("hostile");
        pooledRunner = DockerTestSupport.runnerName("hostile-pool");
        cold = new DockerTaskExecutor(config(runner, 0), null, DiskPressureGuard.FreeSpace.FILE_STORE, Duration.ofMillis(500));
        cold.start();
        pooled = new DockerTaskExecutor(config(pooledRunner, 1), null, DiskPressureGuard.FreeSpace.FILE_STORE, Duration.ofMillis(500));
        pooled.start();
    }

    @AfterAll
    void tearDown() throws Exception {
        if (cold != null) {
            cold.close();
        }
        if (pooled != null) {
            pooled.close();
        }
        if (git != null) {
            git.close();
        }
        Workspaces.deleteTree(HOST);
        assertEquals(List.of(), DockerTestSupport.leftovers(), "containers, volumes or workspaces left behind");
        DockerTestSupport.removeRunnerDirs();
    }

    @BeforeEach
    void plantHostFiles() throws Exception {
        Workspaces.deleteTree(HOST);
        Files.createDirectory(HOST, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Files.writeString(HOST.resolve("target"), "original host file\n");
        Files.setPosixFilePermissions(HOST.resolve("target"), PosixFilePermissions.fromString("rw-------"));
        Files.writeString(HOST.resolve("secret.json"), "{\"status\":\"completed\",\"summary\":\"" + secret + "\"}");
        Files.setPosixFilePermissions(HOST.resolve("secret.json"), PosixFilePermissions.fromString("rw-------"));
    }

    @AfterEach
    void hostFilesUnchanged() throws Exception {
        assertEquals("original host file\n", Files.readString(HOST.resolve("target")), "host file content");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(HOST.resolve("target"))), "host file mode");
        assertEquals(0, (Integer) Files.getAttribute(HOST.resolve("target"), "unix:uid"), "host file owner");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(HOST.resolve("secret.json"))));
        try (var s = Files.list(HOST)) {
            assertEquals(Set.of("target", "secret.json"), Set.copyOf(s.map(p -> p.getFileName().toString()).toList()),
                    "nothing created next to the host files");
        }
        assertEquals(List.of(), new Workspaces(DockerTestSupport.WORKSPACE_BASE, runner).existing(), "workspaces deleted");
        assertEquals(List.of(), new Workspaces(DockerTestSupport.WORKSPACE_BASE, pooledRunner).existing().stream()
                .filter(p -> !p.getFileName().toString().startsWith("pool-")).toList(), "task workspaces deleted");
    }

    private TaskResult run(DockerTaskExecutor ex, String mode, RecordingContext ctx) {
        if (ex == pooled) {
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> pooled.readyPoolContainers() >= 1);
        }
        ReviewTask task = DockerTestSupport.task(mode, git);
        TaskResult result = ex.execute(task, ctx);
        assertNotNull(result);
        assertEquals(List.of(), DockerTestSupport.containersOfTask(task.id()), "containers of the task removed");
        String sent;
        try {
            sent = Json.mapper().writeValueAsString(result);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        assertFalse(sent.contains(secret), "the planted host file reached the result: " + sent);
        assertFalse(String.join("\n", ctx.lines()).contains(secret), "the planted host file reached the log");
        return result;
    }

    private void assertStillUsable(DockerTaskExecutor ex) {
        RecordingContext ctx = new RecordingContext(Duration.ofSeconds(90));
        TaskResult after = run(ex, "ok", ctx);
        assertEquals(ResultStatus.COMPLETED, after.status(), () -> "a normal task after the hostile one: " + after + "\n" + ctx.lines());
    }

    private static void assertFailed(TaskResult result, ErrorKind kind, String fragment, RecordingContext ctx) {
        assertEquals(ResultStatus.FAILED, result.status(), () -> result + "\n" + ctx.lines());
        assertEquals(kind, result.error().kind(), () -> result.error().message());
        assertTrue(result.error().message().contains(fragment), result.error().message());
    }

    @Test
    void shouldNotWriteThroughLinksAPooledContainerPlantedBeforeItsTask() throws Exception {
        RecordingContext ctx = new RecordingContext(Duration.ofSeconds(90));

        TaskResult result = run(pooled, "ok", ctx);

        assertEquals(ResultStatus.COMPLETED, result.status(), () -> result + "\n" + ctx.lines());
        assertTrue(ctx.logged("using pre-warmed container"), ctx.lines().toString());
        assertTrue(ctx.logged("planted links before the task"), ctx.lines().toString());
        int taskBytes = Json.mapper().writeValueAsBytes(DockerTestSupport.task("ok", git).toContainerJson()).length;
        assertTrue(result.summary().startsWith("hostile ok done, task file "), result.summary());
        assertTrue(Math.abs(Integer.parseInt(result.summary().replaceAll("\\D+", " ").trim().split(" ")[0]) - taskBytes) < 64,
                "the container got the task as a regular file: " + result.summary());
    }

    @Test
    void shouldRefuseAResultThatLinksToAHostFile() {
        RecordingContext ctx = new RecordingContext(Duration.ofSeconds(90));

        TaskResult result = run(cold, "link-result", ctx);

        assertFailed(result, ErrorKind.EXECUTOR_FAILED, "result.json is not a regular file (it is a symbolic link)", ctx);
        assertStillUsable(cold);
    }

    @Test
    void shouldRefuseAFifoResultWithoutBlocking() {
        RecordingContext ctx = new RecordingContext(Duration.ofSeconds(90));

        TaskResult result = run(cold, "fifo-result", ctx);

        assertFailed(result, ErrorKind.EXECUTOR_FAILED, "result.json is not a regular file (it is a FIFO)", ctx);
        assertStillUsable(cold);
    }

    @Test
    void shouldRefuseADirectoryResult() {
        RecordingContext ctx = new RecordingContext(Duration.ofSeconds(90));

        TaskResult result = run(cold, "dir-result", ctx);

        assertFailed(result, ErrorKind.EXECUTOR_FAILED, "result.json is not a regular file (it is a directory)", ctx);
    }

    @Test
    void shouldRefuseAResultOverTheLimitWithoutReadingIt() {
        RecordingContext ctx = new RecordingContext(Duration.ofSeconds(90));

        TaskResult result = run(cold, "huge-result", ctx);

        assertFailed(result, ErrorKind.EXECUTOR_FAILED, "result.json is larger than DOCKER_RESULT_LIMIT_BYTES", ctx);
        assertTrue(result.error().message().contains("limit " + DockerConfig.DEFAULT_RESULT_LIMIT_BYTES + " bytes"), result.error().message());
        assertTrue(result.error().message().length() < 300, "no content in the message");
        assertStillUsable(cold);
    }

    @Test
    void shouldReportAMalformedResultAsNotValidJson() {
        RecordingContext ctx = new RecordingContext(Duration.ofSeconds(90));

        TaskResult result = run(cold, "malformed", ctx);

        assertFailed(result, ErrorKind.EXECUTOR_FAILED, "result.json is not valid JSON", ctx);
        assertFalse(result.error().message().contains("cut off"), "no content of the file in the message");
    }

    @Test
    void shouldKillAContainerThatFillsItsWorkspaceAndReportDiskLimit() {
        RecordingContext ctx = new RecordingContext(Duration.ofSeconds(150));

        TaskResult result = run(cold, "fill-disk", ctx);

        assertFailed(result, ErrorKind.DISK_LIMIT, "DOCKER_WORKSPACE_LIMIT (" + WORKSPACE_LIMIT + " bytes", ctx);
        assertFalse(ctx.logged("without being stopped"), "killed before it wrote 400 MiB: " + ctx.lines());
        assertStillUsable(cold);
    }

    @Test
    void shouldKillAPooledContainerThatFillsItsWorkspace() {
        RecordingContext ctx = new RecordingContext(Duration.ofSeconds(150));

        TaskResult result = run(pooled, "fill-disk", ctx);

        assertFailed(result, ErrorKind.DISK_LIMIT, "DOCKER_WORKSPACE_LIMIT", ctx);
        assertTrue(ctx.logged("using pre-warmed container"), ctx.lines().toString());
        assertStillUsable(pooled);
    }

    @Test
    void shouldHandWorkspacesToTheContainerUserAndKeepOtherLocalUsersOut() throws Exception {
        RecordingContext ctx = new RecordingContext(Duration.ofSeconds(150));
        ReviewTask task = DockerTestSupport.task("hold", git);
        Workspaces ws = new Workspaces(DockerTestSupport.WORKSPACE_BASE, runner);
        var running = java.util.concurrent.CompletableFuture.supplyAsync(() -> cold.execute(task, ctx));
        Path workspace = ws.workspaceOf(task.id());
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(90))
                .until(() -> ctx.logged("hostile mode hold") || running.isDone());
        assertFalse(running.isDone(), () -> "the hold task ended early: " + running.join() + "\n" + ctx.lines());

        assertEquals("rwx------", mode(ws.runnerDir()), "runner directory closed to other users");
        assertEquals("rwx------", mode(workspace), "workspace mode");
        assertEquals(10001, (Integer) Files.getAttribute(workspace, "unix:uid", LinkOption.NOFOLLOW_LINKS), "workspace owner");
        assertEquals("rw-------", mode(workspace.resolve("task.json")), "task.json readable by its owner only");
        assertEquals(10001, (Integer) Files.getAttribute(workspace.resolve("task.json"), "unix:uid", LinkOption.NOFOLLOW_LINKS));
        for (String probe : List.of("ls " + ws.runnerDir(), "ls " + workspace, "cat " + workspace + "/task.json",
                "touch " + workspace + "/planted", "touch " + ws.runnerDir() + "/planted",
                "ln -s /etc/passwd " + workspace + "/result.json", "cat " + workspace + "/repo/README.md")) {
            Process p = new ProcessBuilder("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c", probe)
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            assertTrue(p.exitValue() != 0, "as nobody, '" + probe + "' must fail: " + out);
            assertTrue(out.contains("Permission denied"), probe + ": " + out);
        }
        assertFalse(Files.exists(workspace.resolve("planted"), LinkOption.NOFOLLOW_LINKS));
        assertFalse(Files.exists(ws.runnerDir().resolve("planted"), LinkOption.NOFOLLOW_LINKS));
        assertFalse(Files.exists(workspace.resolve("result.json"), LinkOption.NOFOLLOW_LINKS));

        Files.writeString(workspace.resolve("release"), "go");
        TaskResult result = running.get(90, TimeUnit.SECONDS);
        assertEquals(ResultStatus.COMPLETED, result.status(), () -> result + "\n" + ctx.lines());
    }

    private static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
    }
}
