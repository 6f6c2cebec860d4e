package dev.aireview.runner.review;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aireview.runner.cli.Main;
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
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The warm-up of a waiting executor: both sample reviews pass, it stops when told, and prints nothing. */
class WarmUpTest {

    @TempDir
    Path tmp;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private PrintStream savedOut;
    private PrintStream savedErr;

    @BeforeEach
    void captureOutput() {
        savedOut = System.out;
        savedErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(out, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restoreOutput() {
        System.setOut(savedOut);
        System.setErr(savedErr);
    }

    @Test
    void shouldReviewThePatchAndTheGitSampleSilently() {
        assertTrue(WarmUp.run(1, () -> false), "both sample reviews found their planted findings");
        assertEquals("", out.toString(StandardCharsets.UTF_8), "the warm-up prints nothing");
    }

    @Test
    void shouldStopAtTheNextStepOnceTheTaskIsThere() {
        AtomicInteger asked = new AtomicInteger();
        assertTrue(WarmUp.run(3, () -> asked.incrementAndGet() > 1));
        assertEquals(2, asked.get(), "one step ran (the patch sample), then the warm-up stopped before the git sample");
    }

    @Test
    void shouldExitZeroFromWarmUpOnly() {
        assertEquals(0, Main.commandLine().execute("execute", "--warm-up-only"));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("[review] warm-up ok"));
    }

    @Test
    void shouldReviewTheRealTaskThatArrivesWhileWarmingUpWithNoneOfTheWarmUpInItsOutputOrWorkspace() throws Exception {
        Path workspace = tmp.resolve("workspace");
        FixtureRepo repo = FixtureRepo.create(workspace.resolve("repo"));
        CompletableFuture<Integer> run = CompletableFuture.supplyAsync(() -> Main.commandLine().execute("execute",
                "--task", workspace.resolve("task.json").toString(), "--repo", repo.dir.toString(),
                "--out", workspace.resolve("result.json").toString(), "--wait-timeout", "120"));
        await().atMost(Duration.ofSeconds(20)).until(() -> out.toString(StandardCharsets.UTF_8).contains("waiting for"));
        assertFalse(run.isDone());

        ObjectNode task = Json.mapper().createObjectNode();
        task.put("id", "task_warm");
        task.putObject("repository").put("url", "https://git.example/acme/shop.git").put("fullName", "acme/shop");
        task.put("headSha", repo.headSha).put("baseSha", repo.baseSha);
        Path tmpTask = workspace.resolve("task.json.tmp");
        Files.writeString(tmpTask, task.toString());
        Files.move(tmpTask, workspace.resolve("task.json"), StandardCopyOption.ATOMIC_MOVE);

        await().atMost(Duration.ofSeconds(60)).until(run::isDone);
        assertEquals(0, run.get());
        TaskResult result = Json.mapper().readValue(workspace.resolve("result.json").toFile(), TaskResult.class);
        assertEquals(ResultStatus.COMPLETED, result.status());
        assertEquals(5, result.comments().size(), result.toString());
        String printed = out.toString(StandardCharsets.UTF_8);
        assertFalse(printed.contains("self-test") || printed.contains("warm-up") || printed.contains("total.js"),
                "no line of the warm-up's sample reviews: " + printed);
        try (Stream<Path> files = Files.list(workspace)) {
            assertEquals(List.of("repo", "result.json", "task.json"),
                    files.map(p -> p.getFileName().toString()).sorted().toList(), "the warm-up writes nothing in the workspace");
        }
    }
}
