package dev.aireview.runner.observability;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.nio.channels.ClosedChannelException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class UncaughtErrorsTest {
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger(UncaughtErrors.class);
    private Level level;

    @BeforeEach
    void attach() {
        level = logger.getLevel();
        logger.setLevel(Level.DEBUG);
        appender.start();
        logger.addAppender(appender);
    }

    @AfterEach
    void detach() {
        logger.detachAppender(appender);
        logger.setLevel(level);
    }

    /** Runs a thread named {@code name} that throws {@code e}, with the handler; the levels it logged. */
    private List<Level> died(String name, RuntimeException e) throws InterruptedException {
        Thread t = new Thread(() -> {
            throw e;
        }, name);
        t.setUncaughtExceptionHandler(new UncaughtErrors());
        t.start();
        t.join();
        return appender.list.stream().map(ILoggingEvent::getLevel).toList();
    }

    @Test
    void aDockerInputCopyWhoseConnectionWasClosedIsADebugLine() throws InterruptedException {
        assertEquals(List.of(Level.DEBUG), died(UncaughtErrors.INPUT_COPY_THREAD + "123",
                new RuntimeException(new ClosedChannelException())));
    }

    @Test
    void anyOtherUncaughtErrorIsAnErrorWithItsTrace() throws InterruptedException {
        died(UncaughtErrors.INPUT_COPY_THREAD + "9", new IllegalStateException("a bug"));
        // an I/O end in any other thread is an error too
        List<Level> levels = died("worker-1", new RuntimeException(new ClosedChannelException()));

        assertEquals(List.of(Level.ERROR, Level.ERROR), levels);
        assertNotNull(appender.list.get(1).getThrowableProxy(), "the trace goes with it");
        assertTrue(appender.list.get(1).getFormattedMessage().contains("worker-1"));
    }
}
