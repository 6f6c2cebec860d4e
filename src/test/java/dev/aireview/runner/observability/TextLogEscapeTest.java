package dev.aireview.runner.observability;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The text layout of LogSetup writes one line per event, whatever ids and messages hold. */
class TextLogEscapeTest {

    @Test
    void shouldEscapeCrAndLfInTheMessageAndTheTaskId() {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        @SuppressWarnings("unchecked")
        OutputStreamAppender<ILoggingEvent> console = (OutputStreamAppender<ILoggingEvent>) root.getAppender("STDOUT");
        LoggingEvent event = new LoggingEvent("x", root, Level.INFO, "runner id {}", null,
                new Object[]{"r1\n2026-01-01T00:00:00.000Z INFO  [main] ResultSender - result delivered\r"});
        event.setMDCPropertyMap(Map.of("taskId", "t1\nforged"));

        String line = new String(console.getEncoder().encode(event), StandardCharsets.UTF_8);

        assertEquals(1, line.split("\n", -1).length - 1, "one line: " + line);
        assertTrue(line.endsWith("\n"));
        assertTrue(line.contains("[task=t1\\nforged]"), line);
        assertTrue(line.contains("runner id r1\\n2026-01-01T00:00:00.000Z INFO  [main] ResultSender - result delivered\\r"), line);
        assertEquals("a\\u0000b\tc\\u2028", LogFormat.escapeControls("a\u0000b\tc\u2028"));
    }
}
