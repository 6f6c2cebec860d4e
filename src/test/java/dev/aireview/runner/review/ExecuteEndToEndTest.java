package dev.aireview.runner.review;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aireview.runner.cli.Main;
import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.Json;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.TaskResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code execute} in-process on a fixture git repository, through the file contract. */
class ExecuteEndToEndTest {

    @TempDir
    Path tmp;

    private Path workspace;
    private FixtureRepo repo;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private PrintStream savedOut;
    private PrintStream savedErr;

    @BeforeEach
    void setUp() throws Exception {
        workspace = tmp.resolve("workspace");
        repo = FixtureRepo.create(workspace.resolve("repo"));
        savedOut = System.out;
        savedErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void tearDown() {
        System.setOut(savedOut);
        System.setErr(savedErr);
    }

    @Test
    void reviewsTheDiffBetweenBaseAndHeadComputedFromTheRepository() throws Exception {
        writeTask(task(repo.headSha, repo.baseSha));
        int code = execute();
        assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
        TaskResult result = readResult();
        assertEquals(ResultStatus.COMPLETED, result.status());
        assertEquals(Set.of("src/Cart.java:4:warning", "src/cart.js:3:warning", "src/cart.js:4:info", "src/cart.js:6:error",
                "notes.txt:2:info"), keys(result));
        assertEquals(4, result.stats().filesReviewed());
        assertTrue(result.summary().contains("`config/old.yml` (deleted"), result.summary());
        assertTrue(result.summary().contains("- Flag missing error handling"), result.summary());
        String stdout = out.toString(StandardCharsets.UTF_8);
        assertTrue(stdout.contains("[review] diff source: git diff base " + repo.baseSha.substring(0, 12)), stdout);
        assertTrue(stdout.contains("[review] result written: completed, 5 comment(s)"), stdout);
        assertFalse(stdout.contains("hunter2-Sup3rS3cret"), "the planted secret is never echoed");
        assertFalse(Files.readString(workspace.resolve("result.json")).contains("hunter2-Sup3rS3cret"));
        try (var files = Files.list(workspace)) {
            assertEquals(Set.of("repo", "task.json", "result.json"),
                    new TreeSet<>(files.map(p -> p.getFileName().toString()).toList()), "no temp file left behind");
        }
    }

    @Test
    void withoutBaseShaReviewsTheLastCommitOnly() throws Exception {
        String extra = repo.commitExtra();
        writeTask(task(extra, null));
        assertEquals(0, execute());
        TaskResult result = readResult();
        assertEquals(Set.of("src/extra.py:2:error"), keys(result));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("git diff parent " + repo.headSha.substring(0, 12)));
    }

    @Test
    void usesTheTasksPatchesWhenPresent() throws Exception {
        ObjectNode task = task(repo.headSha, repo.baseSha);
        task.putArray("files").addObject().put("path", "web/x.ts").put("status", "added")
                .put("patch", "@@ -0,0 +1,2 @@\n+const a = 1;\n+debugger;\n");
        writeTask(task);
        assertEquals(0, execute());
        assertEquals(Set.of("web/x.ts:2:error"), keys(readResult()));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("diff source: patches of 1 file(s) from the task"));
    }

    @Test
    void waitsForTheTaskFileThatAppearsLater() throws Exception {
        waitThenDeliverTheTask(Duration.ofMillis(20), Duration.ofSeconds(60));
    }

    @Test
    void isWokenByTheTaskFilesArrivalNotByItsPollInterval() throws Exception {
        // a poll interval far beyond the test's limits: only the directory's change notification can wake it in time
        waitThenDeliverTheTask(Duration.ofMinutes(10), Duration.ofMinutes(30));
    }

    /** Starts {@code execute} before the task file exists, then renames it into place as the runner does. */
    private void waitThenDeliverTheTask(Duration poll, Duration waitTimeout) throws Exception {
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        PrintStream progressStream = new PrintStream(progress, true, StandardCharsets.UTF_8);
        ReviewExecution execution = new ReviewExecution(new ReviewEngine(), progressStream, progressStream, poll, waitTimeout);
        CompletableFuture<Integer> run = CompletableFuture.supplyAsync(() -> execution.run(paths()));
        await().atMost(Duration.ofSeconds(10)).until(() -> progress.toString(StandardCharsets.UTF_8).contains("waiting for"));
        assertFalse(run.isDone());
        assertFalse(Files.exists(workspace.resolve("result.json")));
        Path tmpTask = workspace.resolve("task.json.tmp");
        Files.writeString(tmpTask, task(repo.headSha, repo.baseSha).toString());
        Files.move(tmpTask, workspace.resolve("task.json"), StandardCopyOption.ATOMIC_MOVE);
        await().atMost(Duration.ofSeconds(30)).until(run::isDone);
        assertEquals(0, run.get());
        assertEquals(5, readResult().comments().size());
    }

    @Test
    void giveUpWaitingAfterTheTimeoutWithoutAResult() {
        int code = Main.commandLine().execute("execute", "--task", workspace.resolve("never.json").toString(),
                "--out", workspace.resolve("result.json").toString(), "--wait-timeout", "1");
        assertEquals(ReviewExecution.EXIT_NO_TASK, code);
        assertTrue(err.toString(StandardCharsets.UTF_8).strip().startsWith("no task file at "));
        assertFalse(Files.exists(workspace.resolve("result.json")));
    }

    @Test
    void badTaskStillWritesAFailedResultAndExitsZero() throws Exception {
        Files.writeString(workspace.resolve("task.json"), "{\"id\": \"t-bad\", \"headSha\": \"not a sha\"}");
        assertEquals(0, execute());
        TaskResult result = readResult();
        assertEquals(ResultStatus.FAILED, result.status());
        assertEquals(ErrorKind.BAD_TASK, result.error().kind());
        assertTrue(result.error().message().contains("repository.url"), result.error().message());
    }

    @Test
    void noPatchesAndNoRepositoryIsAFailedReview() throws Exception {
        writeTask(task(repo.headSha, repo.baseSha));
        int code = Main.commandLine().execute("execute", "--task", workspace.resolve("task.json").toString(),
                "--repo", tmp.resolve("missing").toString(), "--out", workspace.resolve("result.json").toString());
        assertEquals(0, code);
        TaskResult result = readResult();
        assertEquals(ErrorKind.EXECUTOR_FAILED, result.error().kind());
        assertTrue(result.error().message().contains("no repository"), result.error().message());
    }

    @Test
    void shallowCloneWithoutTheParentIsAFailedReviewNotAWholeTreeReview() throws Exception {
        Path shallow = tmp.resolve("shallow");
        FixtureRepo.git(tmp, "clone", "-q", "--depth", "1", "file://" + repo.dir, shallow.toString());
        writeTask(task(repo.headSha, null));
        int code = Main.commandLine().execute("execute", "--task", workspace.resolve("task.json").toString(),
                "--repo", shallow.toString(), "--out", workspace.resolve("result.json").toString());
        assertEquals(0, code);
        TaskResult result = readResult();
        assertEquals(ErrorKind.EXECUTOR_FAILED, result.error().kind());
        assertTrue(result.error().message().contains("too shallow"), result.error().message());
    }

    @Test
    void rootCommitIsDiffedAgainstTheEmptyTree() throws Exception {
        Path single = tmp.resolve("single");
        Files.createDirectories(single.resolve("src"));
        FixtureRepo.git(single, "init", "-q");
        Files.writeString(single.resolve("src/app.py"), "import pdb\nx = 1\n");
        FixtureRepo.git(single, "add", "-A");
        FixtureRepo.git(single, "commit", "-q", "-m", "root");
        writeTask(task(FixtureRepo.git(single, "rev-parse", "HEAD").strip(), null));
        int code = Main.commandLine().execute("execute", "--task", workspace.resolve("task.json").toString(),
                "--repo", single.toString(), "--out", workspace.resolve("result.json").toString());
        assertEquals(0, code);
        assertEquals(Set.of("src/app.py:1:error"), keys(readResult()));
    }

    @Test
    void unknownHeadCommitIsAFailedReview() throws Exception {
        writeTask(task("0123456789abcdef0123456789abcdef01234567", null));
        assertEquals(0, execute());
        TaskResult result = readResult();
        assertEquals(ErrorKind.EXECUTOR_FAILED, result.error().kind());
        assertTrue(result.error().message().contains("not in the repository"), result.error().message());
    }

    @Test
    void resultThatCannotBeWrittenExitsNonZeroWithOneLineOnStderr() throws Exception {
        writeTask(task(repo.headSha, repo.baseSha));
        int code = Main.commandLine().execute("execute", "--task", workspace.resolve("task.json").toString(),
                "--repo", repo.dir.toString(), "--out", tmp.resolve("no/such/dir/result.json").toString());
        assertEquals(ReviewExecution.EXIT_NO_RESULT, code);
        String stderr = err.toString(StandardCharsets.UTF_8).strip();
        assertTrue(stderr.startsWith("cannot write the result file "), stderr);
        assertEquals(1, stderr.lines().count(), stderr);
    }

    @Test
    void aCheckoutMissingTrackedFilesIsNotReviewedButReportedAsUnseen() throws Exception {
        // what a sandbox that cached the bind mount before the clone finished sees: the head, not all of its files
        Files.delete(repo.dir.resolve("src/cart.js"));
        writeTask(task(repo.headSha, repo.baseSha));
        int code = execute();
        assertEquals(ReviewExecution.EXIT_CHECKOUT_UNSEEN, code);
        assertFalse(Files.exists(workspace.resolve("result.json")), "no review is written on a half-seen checkout");
        String stderr = err.toString(StandardCharsets.UTF_8);
        assertTrue(stderr.contains("tracked file(s)") && stderr.contains("src/cart.js"), stderr);
    }

    @Test
    void aCheckoutWithoutAReadableHeadIsReportedAsUnseen() throws Exception {
        Files.writeString(repo.dir.resolve(".git/HEAD"), "ref: refs/heads/nowhere\n");
        writeTask(task(repo.headSha, repo.baseSha));
        assertEquals(ReviewExecution.EXIT_CHECKOUT_UNSEEN, execute());
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("no readable head commit"), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void selfTestPasses() {
        assertEquals(0, Main.commandLine().execute("execute", "--self-test"));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("self-test ok"));
    }

    // --- helpers ---

    private int execute() {
        return Main.commandLine().execute("execute", "--task", workspace.resolve("task.json").toString(),
                "--repo", repo.dir.toString(), "--out", workspace.resolve("result.json").toString());
    }

    private ReviewExecution.ContractPaths paths() {
        return new ReviewExecution.ContractPaths(workspace.resolve("task.json"), repo.dir, workspace.resolve("result.json"));
    }

    private ObjectNode task(String head, String base) {
        ObjectNode node = Json.mapper().createObjectNode();
        node.put("id", "task_e2e");
        node.putObject("repository").put("url", "https://git.example/acme/shop.git").put("fullName", "acme/shop");
        node.put("headSha", head);
        if (base != null) {
            node.put("baseSha", base);
        }
        node.putArray("rules").add("Flag missing error handling");
        return node;
    }

    private void writeTask(JsonNode task) throws Exception {
        Files.writeString(workspace.resolve("task.json"), task.toString());
    }

    private TaskResult readResult() throws Exception {
        return Json.mapper().readValue(workspace.resolve("result.json").toFile(), TaskResult.class);
    }

    static Set<String> keys(TaskResult result) {
        Set<String> keys = new TreeSet<>();
        result.comments().forEach(c -> keys.add(c.path() + ":" + c.line() + ":" + c.severity().wire()));
        return keys;
    }
}
