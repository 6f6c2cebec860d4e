package dev.aireview.runner.observability;

import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;

/**
 * Logback {@code %maskedMsg}: the formatted message with every registered secret masked and its control characters
 * escaped ({@link LogFormat#escapeControls}): one event, one line of the text log.
 */
public final class MaskingMessageConverter extends ClassicConverter {
    @Override
    public String convert(ILoggingEvent event) {
        return LogFormat.escapeControls(Secrets.mask(event.getFormattedMessage()));
    }
}
