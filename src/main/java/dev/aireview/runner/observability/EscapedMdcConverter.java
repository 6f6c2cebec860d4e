package dev.aireview.runner.observability;

import ch.qos.logback.classic.pattern.MDCConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;

/**
 * Logback {@code %safeMdc{key}}: an MDC value (the task id) masked and with its control characters escaped
 * ({@link LogFormat#escapeControls}), so an id the server chose cannot end a line of the text log.
 */
public final class EscapedMdcConverter extends MDCConverter {
    @Override
    public String convert(ILoggingEvent event) {
        return LogFormat.escapeControls(Secrets.mask(super.convert(event)));
    }
}
