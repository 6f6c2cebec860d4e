package dev.aireview.runner.observability;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.pattern.DynamicConverter;
import ch.qos.logback.core.spi.ContextAwareBase;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The runner's logback configuration, in code (found by logback through META-INF/services): the console appender
 * {@code STDOUT} with the text pattern below, {@code com.github.dockerjava} and {@code org.apache.hc} at WARN, the
 * root logger at {@code LOG_LEVEL} (default INFO). RUNNER_LOG_FORMAT=json swaps the encoder later ({@link LogFormat}).
 *
 * <p>In code rather than logback.xml because reading an XML configuration loads logback's Joran configurator and the
 * JDK's XML parser, about 400 classes the runner never needs again (idle RSS, BENCHMARKS.md). A logback
 * configuration file named by {@code -Dlogback.configurationFile} still wins: this configurator then steps aside.
 */
public final class LogSetup extends ContextAwareBase implements Configurator {
    /** One line per event: control characters of the message and the task id escaped, secrets masked. */
    static final String PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%thread] %logger{0}"
            + "%replace( [task=%safeMdc{taskId}]){' \\[task=\\]', ''} - %maskedMsg%n%maskedEx";

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (System.getProperty("logback.configurationFile") != null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        registerConverters(context);
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(PATTERN);
        encoder.start();
        ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
        console.setContext(context);
        console.setName("STDOUT");
        console.setEncoder(encoder);
        console.start();
        context.getLogger("com.github.dockerjava").setLevel(Level.WARN);
        context.getLogger("org.apache.hc").setLevel(Level.WARN);
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(rootLevel(System.getProperty("LOG_LEVEL", System.getenv("LOG_LEVEL"))));
        root.addAppender(console);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /** LOG_LEVEL as logback.xml's {@code ${LOG_LEVEL:-INFO}} read it: unset or blank is INFO, a name logback does not know is DEBUG. */
    static Level rootLevel(String value) {
        return value == null || value.isBlank() ? Level.INFO : Level.toLevel(value.trim(), Level.DEBUG);
    }

    private static void registerConverters(LoggerContext context) {
        @SuppressWarnings("unchecked")
        Map<String, Supplier<DynamicConverter<?>>> rules =
                (Map<String, Supplier<DynamicConverter<?>>>) context.getObject(CoreConstants.PATTERN_RULE_REGISTRY_FOR_SUPPLIERS);
        if (rules == null) {
            rules = new HashMap<>();
            context.putObject(CoreConstants.PATTERN_RULE_REGISTRY_FOR_SUPPLIERS, rules);
        }
        rules.put("maskedMsg", MaskingMessageConverter::new);
        rules.put("safeMdc", EscapedMdcConverter::new);
        rules.put("maskedEx", MaskingThrowableConverter::new);
    }
}
