package dev.aireview.runner.e2e;

import dev.aireview.runner.testsupport.TestJvm;
import com.fasterxml.jackson.databind.JsonNode;
import com.github.dockerjava.api.model.Container;
import dev.aireview.runner.devserver.NewTask;
import dev.aireview.runner.devserver.TaskSnapshot;
import dev.aireview.runner.docker.DockerTestSupport;
import dev.aireview.runner.docker.Labels;
import dev.aireview.runner.review.FixtureRepo;
import dev.aireview.runner.testsupport.ExecutorImages;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real executor image, built from the packaged jar: a runner reviews a repository with planted findings through
 * it, and {@code java -jar ai-review-runner.jar demo} runs to its printed review.
 */
class RealExecutorIT {
    @RegisterExtension
    static final E2eFixture fixture = E2eFixture.withoutTestImage(Duration.ofSeconds(10));

    private static String image;

    @BeforeAll
    static void setUp() throws Exception {
        image = ExecutorImages.ensureBuilt(DockerTestSupport.docker());
    }

    @Test
    void runnerReviewsPlantedFindingsWithTheRealExecutorImage() throws Exception {
        FixtureRepo repo = FixtureRepo.create(fixture.git().root().resolve("planted"));
        String name = DockerTestSupport.runnerName("real");
        Map<String, String> env = E2e.env(fixture.server(), name, image, 1);
        env.put("DOCKER_MEMORY_LIMIT", "512m");
        env.put("DOCKER_PIDS_LIMIT", "256");
        try (var runner = E2e.inProcess(env)) {
            String id = fixture.server().enqueue(NewTask.forRepository(fixture.git().url("planted")).fullName("acme/shop").branch("main")
                    .headSha(repo.headSha).baseSha(repo.baseSha).cloneToken("ghp_e2eReal" + System.nanoTime())
                    .rule("Flag missing error handling").build());
            TaskSnapshot t = fixture.server().awaitTerminal(id, Duration.ofSeconds(120));
            String logs = E2e.logText(t);
            assertEquals("completed", t.resultStatus(), t.errorKind() + " " + t.errorMessage() + "\n" + logs);
            Set<String> keys = new TreeSet<>();
            for (JsonNode c : t.result().path("comments")) {
                keys.add(c.path("path").asText() + ":" + c.path("line").asInt() + ":" + c.path("severity").asText());
            }
            assertEquals(new TreeSet<>(Set.of("src/Cart.java:4:warning", "src/cart.js:3:warning", "src/cart.js:4:info",
                    "src/cart.js:6:error", "notes.txt:2:info")), keys, t.result().toString());
            assertTrue(logs.contains("result written: completed, 5 comment(s)"), logs);
            assertFalse(logs.contains("hunter2-Sup3rS3cret") || t.result().toString().contains("hunter2-Sup3rS3cret"),
                    "the planted password is never echoed");
            assertEquals(List.of("preparing", "cloning", "reviewing", "submitting"),
                    t.phaseNames().stream().filter(p -> List.of("preparing", "cloning", "reviewing", "submitting").contains(p)).toList());
            assertEquals(1, t.resultCalls());
            assertEquals(0, t.secretLeaks());
        }
    }

    @Test
    void demoCommandPrintsTheReviewAndExitsZero() throws Exception {
        Path out = Files.createTempFile("e2e-demo", ".out");
        try {
            List<String> cmd = new ArrayList<>(TestJvm.command("-jar", ExecutorImages.runnerJar().toString(), "demo", "--port", "0", "--image", image));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
            pb.environment().keySet().removeIf(k -> k.startsWith("RUNNER_") || k.startsWith("DOCKER_EXECUTOR") || k.startsWith("AI_"));
            long startedAt = Instant.now().getEpochSecond() - 1;
            Process p = pb.start();
            boolean done = p.waitFor(3, TimeUnit.MINUTES);
            if (!done) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            String text = Files.readString(out, StandardCharsets.UTF_8);
            assertTrue(done, "demo did not finish:\n" + text);
            assertEquals(0, p.exitValue(), text);
            assertTrue(text.contains("Executor image " + image + " is present"), text);
            assertTrue(text.contains("==== Review of demo/shop") && text.contains(": completed"), text);
            assertTrue(text.matches("(?s).*\\nSEVERITY +LOCATION +COMMENT\\n(error|warning|info) .*"), "comment table:\n" + text);
            assertTrue(text.contains("Dev server and dashboard: http://127.0.0.1:"), text);

            // Nothing of the demo's is left: its runner's containers, and the helper containers it started.
            String demoRunner = "demo-runner-" + p.pid();
            assertEquals(List.of(), DockerTestSupport.docker().listContainersCmd().withShowAll(true)
                    .withLabelFilter(Labels.runnerFilter(demoRunner)).exec());
            long endedAt = Instant.now().getEpochSecond() + 1;
            List<Container> helpers = DockerTestSupport.docker().listContainersCmd().withShowAll(true)
                    .withLabelFilter(Map.of("ai-review.demo", "true")).exec().stream()
                    .filter(c -> c.getCreated() >= startedAt && c.getCreated() <= endedAt).toList();
            assertEquals(List.of(), helpers, "demo helper containers left");
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
