package dev.aireview.runner.e2e;

import dev.aireview.runner.testsupport.TestJvm;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.aireview.runner.devserver.TaskSnapshot;
import dev.aireview.runner.docker.DockerTestSupport;
import dev.aireview.runner.testsupport.ExecutorImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code RUNNER_LOG_FORMAT=json} in the packaged jar: a runner process serves one review, and every line it writes to
 * stdout is one JSON object with the agreed fields, the task's lines carry its id, and no secret (runner token, clone
 * token) appears anywhere, though the configuration line is made to contain the token (as a tag).
 */
class JsonLogIT {
    @RegisterExtension
    static final E2eFixture fixture = E2eFixture.withTestImage(Duration.ofSeconds(10));

    @Test
    void everyStdoutLineIsOneMaskedJsonObjectWithTheAgreedFields() throws Exception {
        String name = DockerTestSupport.runnerName("json");
        Map<String, String> env = E2e.env(fixture.server(), name, DockerTestSupport.IMAGE, 1);
        env.put("RUNNER_LOG_FORMAT", "json");
        String token = fixture.server().token();
        env.put("RUNNER_TAGS", "json-logs," + token); // a secret inside a logged value: must come out masked

        List<String> cmd = new ArrayList<>(TestJvm.command("-jar", ExecutorImages.runnerJar().toString(), "run"));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().keySet().removeIf(k -> k.startsWith("RUNNER_") || k.startsWith("DOCKER_"));
        pb.environment().putAll(env);
        Path out = Files.createTempFile("json-log-it", ".out");
        Path err = Files.createTempFile("json-log-it", ".err");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process p = pb.start();
        String cloneToken;
        String taskId;
        try {
            fixture.server().awaitRunners(rs -> rs.stream().anyMatch(r -> r.id().equals(name) && r.online()), Duration.ofSeconds(60));
            var task = E2e.task(fixture.git(), null).build();
            cloneToken = task.toRequest().path("repository").path("cloneToken").asText();
            assertFalse(cloneToken.isEmpty());
            taskId = fixture.server().enqueue(task);
            TaskSnapshot t = fixture.server().awaitTerminal(taskId, Duration.ofSeconds(120));
            assertEquals("completed", t.resultStatus(), t.errorKind() + " " + t.errorMessage());
        } finally {
            p.destroy();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        String stdout = Files.readString(out, StandardCharsets.UTF_8);
        String stderr = Files.readString(err, StandardCharsets.UTF_8);
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
        assertEquals(0, p.exitValue(), stdout + stderr);

        ObjectMapper json = new ObjectMapper();
        List<JsonNode> lines = new ArrayList<>();
        for (String line : stdout.split("\n", -1)) {
            if (line.isEmpty()) {
                continue;
            }
            JsonNode n = assertDoesNotThrow(() -> json.readTree(line), "not JSON: " + line);
            assertTrue(n.isObject(), line);
            for (String field : List.of("@timestamp", "level", "thread_name", "logger_name", "message")) {
                assertTrue(n.hasNonNull(field), field + " missing: " + line);
            }
            assertEquals(name, n.path("runner").asText(), line);
            lines.add(n);
        }
        assertTrue(lines.size() >= 5, "the runner logged: " + stdout);
        assertFalse(stdout.contains(token) || stderr.contains(token), "runner token in the output");
        assertFalse(stdout.contains(cloneToken) || stderr.contains(cloneToken), "clone token in the output");

        JsonNode config = lines.stream().filter(n -> n.path("message").asText().startsWith("effective configuration:")).findFirst()
                .orElseThrow(() -> new AssertionError("no configuration line: " + stdout));
        assertTrue(config.path("message").asText().contains("\n  RUNNER_TAGS = json-logs,****"), config.toString());
        assertTrue(config.path("message").asText().contains("\n  RUNNER_LOG_FORMAT = json"), config.toString());
        assertTrue(lines.stream().anyMatch(n -> taskId.equals(n.path("taskId").asText())), "a line of the task carries its id: " + stdout);
        assertTrue(lines.stream().anyMatch(n -> n.path("message").asText().contains("registered")), stdout);
    }
}
