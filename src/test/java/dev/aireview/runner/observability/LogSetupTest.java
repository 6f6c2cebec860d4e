package dev.aireview.runner.observability;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The configuration in code that replaced logback.xml: what logback found, and what it configures. */
class LogSetupTest {

    @Test
    void shouldBeTheConfigurationLogbackLoaded() {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        assertInstanceOf(OutputStreamAppender.class, root.getAppender("STDOUT"), "the service file names LogSetup");
        assertEquals(Level.WARN, context.getLogger("com.github.dockerjava").getLevel());
        assertEquals(Level.WARN, context.getLogger("org.apache.hc").getLevel());
    }

    @Test
    void shouldWriteThePatternWithMaskingAndTheTaskId() {
        LoggerContext context = new LoggerContext();
        assertEquals(Configurator.ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY, new LogSetup().configure(context));
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        @SuppressWarnings("unchecked")
        OutputStreamAppender<ILoggingEvent> console = (OutputStreamAppender<ILoggingEvent>) root.getAppender("STDOUT");
        Secrets.register("s3cr3t-log-setup-token");
        try {
            LoggingEvent event = new LoggingEvent("x", context.getLogger("a.b.ResultSender"), Level.WARN,
                    "token {}", null, new Object[]{"s3cr3t-log-setup-token"});
            event.setMDCPropertyMap(java.util.Map.of("taskId", "t-7"));
            String line = new String(console.getEncoder().encode(event), StandardCharsets.UTF_8);
            assertTrue(line.matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\S+ WARN  \\[\\S+\\] ResultSender \\[task=t-7\\] - token \\S+\n"), line);
            assertTrue(!line.contains("s3cr3t-log-setup-token"), line);
            LoggingEvent noTask = new LoggingEvent("x", context.getLogger("a.b.Poller"), Level.INFO, "idle", null, null);
            noTask.setMDCPropertyMap(java.util.Map.of());
            assertTrue(new String(console.getEncoder().encode(noTask), StandardCharsets.UTF_8).contains(" Poller - idle\n"));
        } finally {
            Secrets.unregister("s3cr3t-log-setup-token");
            context.stop();
        }
    }

    @Test
    void shouldReadLogLevelAsLogbackXmlDid() {
        assertEquals(Level.INFO, LogSetup.rootLevel(null));
        assertEquals(Level.INFO, LogSetup.rootLevel(" "));
        assertEquals(Level.WARN, LogSetup.rootLevel("warn"));
        assertEquals(Level.ERROR, LogSetup.rootLevel(" ERROR "));
        assertEquals(Level.DEBUG, LogSetup.rootLevel("loud"));
    }
}
