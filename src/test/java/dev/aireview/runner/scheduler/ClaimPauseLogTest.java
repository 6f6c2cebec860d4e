package dev.aireview.runner.scheduler;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The claim pause logs once when claims stop (with the reason) and once when they resume, however often it is asked. */
class ClaimPauseLogTest {
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger(ClaimPause.class);

    @BeforeEach
    void attach() {
        appender.start();
        logger.addAppender(appender);
    }

    @AfterEach
    void detach() {
        logger.detachAppender(appender);
    }

    @Test
    void shouldLogOncePerTransition() {
        AtomicReference<String> reason = new AtomicReference<>();
        ClaimPause pause = new ClaimPause(reason::get);

        assertNull(pause.check());
        reason.set("low disk space: 10 MiB free");
        for (int i = 0; i < 5; i++) {
            assertEquals("low disk space: 10 MiB free", pause.check());
        }
        reason.set("low disk space: 9 MiB free");
        pause.check();
        reason.set(null);
        pause.check();
        pause.check();

        List<String> lines = appender.list.stream().map(e -> e.getLevel() + " " + e.getFormattedMessage()).toList();
        assertEquals(List.of("WARN not claiming tasks: low disk space: 10 MiB free",
                "INFO claiming tasks again (was paused: low disk space: 9 MiB free)"), lines);
    }
}
