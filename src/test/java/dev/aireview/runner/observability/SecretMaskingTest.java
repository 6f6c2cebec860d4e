package dev.aireview.runner.observability;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class SecretMaskingTest {
    private static final String TOKEN = "rt_live_Secret/Value+42";

    @AfterEach
    void cleanup() {
        Secrets.unregister(TOKEN);
        Secrets.unregister("clone-token-xyz");
    }

    @Test
    void shouldMaskValueUrlEncodedAndBase64Forms() {
        SecretMasker m = SecretMasker.of(List.of(TOKEN, "abc"));
        String enc = URLEncoder.encode(TOKEN, StandardCharsets.UTF_8);
        String b64 = Base64.getEncoder().encodeToString(TOKEN.getBytes(StandardCharsets.UTF_8));
        String text = "plain " + TOKEN + " url https://x:" + enc + "@git/ basic " + b64 + " short abc";
        String masked = m.mask(text);
        assertFalse(masked.contains(TOKEN), masked);
        assertFalse(masked.contains(enc), masked);
        assertFalse(masked.contains(b64), masked);
        assertTrue(masked.contains("short abc"), "values under 4 chars are not masked: " + masked);
        assertEquals(4, masked.split("\\*\\*\\*\\*", -1).length);
        assertEquals("nothing to hide", m.mask("nothing to hide"));
        assertNull(m.mask(null));
    }

    @Test
    void shouldCountRegistrationsSoASharedSecretStaysMaskedUntilLastUnregister() {
        Secrets.register("clone-token-xyz");
        Secrets.register("clone-token-xyz");
        Secrets.unregister("clone-token-xyz");
        assertEquals("t=****", Secrets.mask("t=clone-token-xyz"));
        Secrets.unregister("clone-token-xyz");
        assertEquals("t=clone-token-xyz", Secrets.mask("t=clone-token-xyz"));
    }

    @Test
    @SuppressWarnings("unchecked")
    void shouldMaskRegisteredSecretsInTheConfiguredLogbackOutputIncludingStackTraces() {
        Secrets.register(TOKEN);
        LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
        ch.qos.logback.classic.Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ConsoleAppender<ILoggingEvent> appender = (ConsoleAppender<ILoggingEvent>) root.getAppender("STDOUT");
        assertNotNull(appender, "LogSetup defines the STDOUT appender");
        Encoder<ILoggingEvent> encoder = appender.getEncoder();
        LoggingEvent event = new LoggingEvent("x", ctx.getLogger("test"), Level.WARN,
                "accidentally logged token {}", new IllegalStateException("bad header Bearer " + TOKEN), new Object[]{TOKEN});
        String line = new String(encoder.encode(event), StandardCharsets.UTF_8);
        assertTrue(line.contains("accidentally logged token ****"), line);
        assertTrue(line.contains("IllegalStateException: bad header Bearer ****"), line);
        assertFalse(line.contains(TOKEN), line);
    }
}
