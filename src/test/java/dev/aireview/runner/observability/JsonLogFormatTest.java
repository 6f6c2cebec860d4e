package dev.aireview.runner.observability;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import net.logstash.logback.encoder.LogstashEncoder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The JSON encoder RUNNER_LOG_FORMAT=json installs: one object per line, the agreed fields, every value masked. */
class JsonLogFormatTest {
    private static final String TOKEN = "rt_json_Secret-Token-77";
    private static final String CLONE = "ghp_jsonCloneSecret55";

    @AfterEach
    void cleanup() {
        Secrets.unregister(TOKEN);
        Secrets.unregister(CLONE);
    }

    @Test
    void shouldWriteOneMaskedObjectPerLineWithMdcRunnerAndTheStackTraceAsOneField() throws Exception {
        Secrets.register(TOKEN);
        Secrets.register(CLONE);
        LoggerContext context = new LoggerContext();
        LogstashEncoder encoder = LogFormat.jsonEncoder(context, "runner-7");
        try {
            RuntimeException cause = new IllegalStateException("clone of https://x:" + CLONE + "@git.example/r.git failed");
            LoggingEvent event = new LoggingEvent("dev.aireview.runner.scheduler.PollLoop", context.getLogger("dev.aireview.runner.scheduler.PollLoop"),
                    Level.WARN, "token {} in a message\nsecond line", new RuntimeException("wrapped " + TOKEN, cause), new Object[]{TOKEN});
            event.setThreadName("worker-1");
            event.setMDCPropertyMap(Map.of(Mdc.TASK_ID, "task_9"));

            String out = new String(encoder.encode(event), StandardCharsets.UTF_8);
            assertTrue(out.endsWith("\n"), out);
            assertEquals(1, out.lines().count(), "one object, one line: " + out);
            assertFalse(out.contains(TOKEN), out);
            assertFalse(out.contains(CLONE), out);

            JsonNode n = new ObjectMapper().readTree(out);
            assertTrue(n.path("@timestamp").asText().matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}.*"), n.toString());
            assertEquals("WARN", n.path("level").asText());
            assertEquals("worker-1", n.path("thread_name").asText());
            assertEquals("dev.aireview.runner.scheduler.PollLoop", n.path("logger_name").asText());
            assertEquals("token **** in a message\nsecond line", n.path("message").asText());
            assertEquals("task_9", n.path("taskId").asText());
            assertEquals("runner-7", n.path("runner").asText());
            String stack = n.path("stack_trace").asText();
            assertTrue(stack.startsWith("java.lang.RuntimeException: wrapped ****"), stack);
            assertTrue(stack.contains("Caused by: java.lang.IllegalStateException: clone of https://x:****@git.example/r.git failed"), stack);
            assertFalse(n.has("level_value") || n.has("@version"), "no noise fields: " + n);
        } finally {
            encoder.stop();
        }
    }

    @Test
    void shouldParseTextAndJsonInAnyCaseAndRefuseTheRest() {
        assertEquals(LogFormat.JSON, LogFormat.parse(" Json "));
        assertEquals(LogFormat.TEXT, LogFormat.parse("TEXT"));
        assertEquals("use text or json", assertThrows(IllegalArgumentException.class, () -> LogFormat.parse("xml")).getMessage());
    }
}
