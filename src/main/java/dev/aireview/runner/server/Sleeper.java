package dev.aireview.runner.server;

import java.time.Duration;

/** Waits; the seam that lets tests simulate minutes of backoff without real waiting. */
@FunctionalInterface
public interface Sleeper {
    Sleeper SYSTEM = d -> {
        if (!d.isNegative() && !d.isZero()) {
            Thread.sleep(d.toMillis());
        }
    };

    void sleep(Duration duration) throws InterruptedException;
}
