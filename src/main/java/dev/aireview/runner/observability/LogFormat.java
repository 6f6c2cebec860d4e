package dev.aireview.runner.observability;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import com.fasterxml.jackson.databind.ObjectMapper;
import net.logstash.logback.encoder.LogstashEncoder;
import net.logstash.logback.mask.MaskingJsonGeneratorDecorator;
import org.slf4j.LoggerFactory;

import java.util.Iterator;
import java.util.Locale;
import java.util.Map;

/**
 * RUNNER_LOG_FORMAT: how the runner's own log lines are written to stdout. {@code text} is the pattern of
 * {@link LogSetup}; {@code json} is one JSON object per line for log pipelines (logstash-logback-encoder:
 * {@code @timestamp}, {@code level}, {@code thread_name}, {@code logger_name}, {@code message}, the MDC
 * ({@code taskId}), {@code runner} and, for an exception, the whole stack trace as one {@code stack_trace} string).
 *
 * <p>Masking is the same in both: every string value of the JSON object, message, stack trace and MDC alike,
 * goes through {@link Secrets#mask} on its way out (a masking JSON generator), so the JSON form cannot carry what
 * the text form hides.
 *
 * <p>Logback is configured by {@link LogSetup} before the command line is read, so {@link #apply} swaps the encoder
 * of the console appender once the configuration is loaded; lines logged before that are text.
 */
public enum LogFormat {
    TEXT, JSON;

    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** Parses {@code text} or {@code json} (any case); throws {@link IllegalArgumentException} otherwise. */
    public static LogFormat parse(String value) {
        try {
            return valueOf(value.trim().toUpperCase(Locale.ROOT));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("use text or json");
        }
    }

    /**
     * {@code text} with every control character written as an escape (CR as {@code \\r}, LF as {@code \\n}, the
     * others as {@code \\uXXXX}; a tab stays), so that no value a server or container chose (a task id, a runner id, a message) can end a
     * line of the text log and forge the next one. Null stays null.
     */
    public static String escapeControls(String text) {
        if (text == null) {
            return null;
        }
        int i = 0;
        while (i < text.length() && !needsEscape(text.charAt(i))) {
            i++;
        }
        if (i == text.length()) {
            return text;
        }
        StringBuilder b = new StringBuilder(text.length() + 16).append(text, 0, i);
        for (; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '\r' -> b.append("\\r");
                case '\n' -> b.append("\\n");
                default -> {
                    if (needsEscape(c)) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.toString();
    }

    private static boolean needsEscape(char c) {
        return c != '\t' && isControl(c);
    }

    /** C0 and C1 controls, DEL, and the Unicode line and paragraph separators. */
    public static boolean isControl(char c) {
        return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '\u2028' || c == '\u2029';
    }

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Makes the root logger's console appenders write in this format; {@code runnerName} becomes the
     * {@code runner} field of every JSON line. {@link #TEXT} leaves {@link LogSetup}'s pattern alone.
     */
    public void apply(String runnerName) {
        if (this == TEXT || !(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return;
        }
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        for (Iterator<Appender<ILoggingEvent>> it = root.iteratorForAppenders(); it.hasNext(); ) {
            if (it.next() instanceof OutputStreamAppender<ILoggingEvent> out) {
                Encoder<ILoggingEvent> encoder = jsonEncoder(context, runnerName);
                out.stop();
                out.setEncoder(encoder);
                out.start();
            }
        }
    }

    static LogstashEncoder jsonEncoder(LoggerContext context, String runnerName) {
        LogstashEncoder encoder = new LogstashEncoder();
        encoder.setContext(context);
        encoder.setIncludeContext(false);     // no logback context properties: they are not the runner's fields
        encoder.setIncludeCallerData(false);
        encoder.setFieldNames(fieldNames());
        encoder.setTimestampPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX"); // milliseconds, as in the text format
        encoder.setTimeZone("UTC");
        if (runnerName != null) {
            try {
                encoder.setCustomFields(MAPPER.writeValueAsString(Map.of("runner", runnerName)));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
        MaskingJsonGeneratorDecorator masking = new MaskingJsonGeneratorDecorator();
        masking.addValueMasker((path, value) -> value instanceof CharSequence s ? Secrets.mask(s.toString()) : null);
        masking.start();
        encoder.setJsonGeneratorDecorator(masking);
        encoder.start();
        return encoder;
    }

    private static net.logstash.logback.fieldnames.LogstashFieldNames fieldNames() {
        net.logstash.logback.fieldnames.LogstashFieldNames names = new net.logstash.logback.fieldnames.LogstashFieldNames();
        names.setLevelValue("[ignore]");  // the numeric level says nothing that level does not
        names.setVersion("[ignore]");
        return names;
    }
}
