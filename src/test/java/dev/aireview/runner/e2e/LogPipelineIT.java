package dev.aireview.runner.e2e;

import dev.aireview.runner.devserver.LogLine;
import dev.aireview.runner.devserver.TaskSnapshot;
import dev.aireview.runner.docker.DockerTestSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Container output through the whole stack (container → log pump → masking and the per-task cap → log batches →
 * server), with the runner as a process on a small heap: secrets printed by the review never reach the server, and
 * 50 MiB of output arrive as head + tail with one line saying what was dropped.
 */
class LogPipelineIT {
    @RegisterExtension
    static final E2eFixture fixture = E2eFixture.withTestImage(Duration.ofSeconds(10));

    private static final long LIMIT = 256 * 1024;
    private static E2e.RunnerProcess runner;

    @BeforeAll
    static void setUp() throws Exception {
        String name = DockerTestSupport.runnerName("logs");
        Map<String, String> env = E2e.env(fixture.server(), name, DockerTestSupport.IMAGE, 1);
        env.put("RUNNER_LOG_LIMIT_BYTES", "256k");
        // 64 MiB of heap: a runner that held the 50 MiB flood in memory would die here.
        runner = E2e.process(env, "-Xmx64m");
        fixture.server().awaitRunners(rs -> rs.stream().anyMatch(r -> r.id().equals(name) && r.online()), Duration.ofSeconds(60));
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (runner != null) {
            assertTrue(runner.process().isAlive(), "runner still alive after the flood:\n" + runner.output());
            int exit = runner.terminate();
            String out = runner.output();
            assertEquals(0, exit, out);
            assertFalse(out.contains("OutOfMemoryError"), out);
            assertFalse(out.contains(fixture.server().token()), "runner token in the runner's own log");
            runner.close();
        }
    }

    @Test
    void secretsPrintedByTheReviewNeverReachTheServerNorTheRunnersLog() throws Exception {
        String rnd = UUID.randomUUID().toString().substring(0, 8);
        String cloneToken = "ghp_e2eClone/Tok+en=" + rnd;
        String apiKey = "sk-e2e/Api+Key=" + rnd;
        String encToken = URLEncoder.encode(cloneToken, StandardCharsets.UTF_8);
        String encKey = URLEncoder.encode(apiKey, StandardCharsets.UTF_8);
        List<String> forms = List.of(cloneToken, apiKey, encToken, encKey);
        String id = fixture.server().enqueue(E2e.task(fixture.git(), "secret " + cloneToken + " " + encToken + " " + encKey)
                .cloneToken(cloneToken).ai("openai", "http://127.0.0.1:9/v1", "review-model", apiKey).build());
        TaskSnapshot t = fixture.server().awaitTerminal(id, Duration.ofSeconds(60));
        String logs = E2e.logText(t);
        assertEquals("completed", t.resultStatus(), t.errorKind() + " " + t.errorMessage() + "\n" + logs);
        assertEquals(0, t.secretLeaks(), "secrets arrived in clear:\n" + logs);
        assertTrue(logs.contains("the AI key is ****"), "the masked line arrived:\n" + logs);
        assertTrue(logs.contains("on stderr: key=****"), "stderr is masked too:\n" + logs);
        assertEquals(3, t.logs().stream().filter(l -> l.text().startsWith("leaking ****")).count(), "each leaked value masked:\n" + logs);
        for (String secret : forms) {
            assertFalse(logs.contains(secret), "log carries " + secret);
            assertFalse(String.valueOf(t.result()).contains(secret), "result carries " + secret);
            assertFalse(runner.output().contains(secret), "runner log carries " + secret);
        }
    }

    @Test
    void fiftyMebibytesOfOutputArriveAsHeadAndTailWithOneDropNotice() throws Exception {
        String id = fixture.server().enqueue(E2e.task(fixture.git(), "flood").build());
        TaskSnapshot t = fixture.server().awaitTerminal(id, Duration.ofSeconds(180));
        assertEquals("completed", t.resultStatus(), t.errorKind() + " " + t.errorMessage());
        assertEquals("flooded", t.summary());
        long bytes = E2e.logBytes(t);
        assertTrue(bytes < LIMIT + 16 * 1024, "server got " + bytes + " bytes for a limit of " + LIMIT);
        assertTrue(bytes > LIMIT / 2, "head and tail fill the limit: " + bytes);
        assertEquals(0, t.droppedLogLines(), "the server dropped nothing: the runner capped the log");

        List<LogLine> notices = t.logs().stream().filter(l -> l.stream().equals("system") && l.text().contains("dropped")).toList();
        assertEquals(1, notices.size(), "one drop notice: " + notices);
        Matcher m = Pattern.compile("(\\d+) line\\(s\\) \\((\\d+) bytes\\)").matcher(notices.get(0).text());
        assertTrue(m.find(), notices.get(0).text());
        assertTrue(Long.parseLong(m.group(2)) > 50_000_000L, "says how much was dropped: " + notices.get(0).text());
        assertTrue(Long.parseLong(m.group(1)) > 500_000L, notices.get(0).text());

        long noticeIndex = notices.get(0).index();
        String flood = "0123456789 abcdefghijklmnopqrstuvwxyz";
        assertTrue(t.logs().stream().anyMatch(l -> l.index() < noticeIndex && l.text().startsWith(flood)), "head kept");
        assertTrue(t.logs().stream().anyMatch(l -> l.index() > noticeIndex && l.text().startsWith("xxxxxxxx")), "tail kept");
        assertTrue(runner.process().isAlive(), "the runner survived on its 64 MiB heap");
    }
}
