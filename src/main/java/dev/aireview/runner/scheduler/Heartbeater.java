package dev.aireview.runner.scheduler;

import dev.aireview.runner.execution.CancelReason;
import dev.aireview.runner.observability.RunnerMetrics;
import dev.aireview.runner.server.ErrorClass;
import dev.aireview.runner.server.Heartbeat;
import dev.aireview.runner.server.HeartbeatAnswer;
import dev.aireview.runner.server.ServerClient;
import dev.aireview.runner.server.ServerException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Heartbeats on its own scheduled thread with its own client (and so its own connections and timeout): a held
 * poll or a slow result never delays it. A failed beat is not retried, the next tick is the retry; failures log
 * "last successful heartbeat was X ago". {@code cancelTaskIds} cancel those tasks; a 404 registers again.
 *
 * <p>A scheduled executor silently cancels a periodic task whose run throws, so a beat never lets anything escape:
 * an unexpected throwable (an {@code Error} included) is logged and counted as a death of the {@code heartbeat}
 * thread, and the next tick beats again.
 */
final class Heartbeater {
    private static final Logger log = LoggerFactory.getLogger(Heartbeater.class);

    private final ServerClient client;
    private final RunnerRegistrar registrar;
    private final Supplier<Heartbeat> state;
    private final ActiveTasks active;
    private final Duration interval;
    private final Clock clock;
    private final RunnerMetrics metrics;
    static final String THREAD = "heartbeat";
    /** How long {@link #stop()} lets a beat in flight finish before interrupting it. */
    static final java.time.Duration IN_FLIGHT_WAIT = java.time.Duration.ofSeconds(10);
    private final ScheduledExecutorService scheduler;
    private final Instant started;
    private volatile Instant lastSuccess;
    private volatile boolean failing;

    Heartbeater(ServerClient client, RunnerRegistrar registrar, Supplier<Heartbeat> state, ActiveTasks active,
                Duration interval, Clock clock, RunnerMetrics metrics) {
        this.metrics = metrics;
        this.client = client;
        this.registrar = registrar;
        this.state = state;
        this.active = active;
        this.interval = interval;
        this.clock = clock;
        this.started = clock.instant();
        this.scheduler = Executors.newSingleThreadScheduledExecutor(new NamedThreadFactory(THREAD, metrics));
    }

    void start() {
        scheduler.scheduleAtFixedRate(this::beat, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** An extra beat now (e.g. to announce {@code draining}), on the heartbeat thread. */
    void beatNow() {
        try {
            scheduler.execute(this::beat);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            log.debug("heartbeat already stopped");
        }
    }

    /**
     * Ends the beats before the final one. A beat in flight is let finish first (it is bounded by the client's
     * whole-call deadline): interrupting it would not take back a request already on its way, and its answer,
     * arriving after the final {@code offline} one, would make the server see the runner back online.
     */
    void stop() throws InterruptedException {
        scheduler.shutdown(); // no more periodic beats; the one running, if any, goes on
        if (scheduler.awaitTermination(IN_FLIGHT_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
            return;
        }
        scheduler.shutdownNow();
        if (!scheduler.awaitTermination(1, TimeUnit.SECONDS)) {
            log.warn("a heartbeat is still in flight; sending the final one anyway");
        }
    }

    /** One last beat on the calling thread (the {@code offline} one); failures only logged. */
    void sendFinal(Heartbeat heartbeat) {
        try {
            client.heartbeat(registrar.runnerId(), heartbeat);
            log.info("final heartbeat sent: {}", heartbeat.status().wire());
        } catch (ServerException e) {
            log.warn("final heartbeat failed: {}", e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    Instant lastSuccess() {
        return lastSuccess;
    }

    /** When the heartbeater was created (the reference before the first successful beat). */
    Instant started() {
        return started;
    }

    private void beat() {
        Heartbeat hb = state.get();
        try {
            HeartbeatAnswer answer = client.heartbeat(registrar.runnerId(), hb);
            lastSuccess = clock.instant();
            if (failing) {
                failing = false;
                log.info("heartbeat succeeded again");
            }
            for (String id : answer.cancelTaskIds()) {
                if (!active.cancel(id, CancelReason.SERVER_CANCELLED)) {
                    log.debug("server asked to cancel task {}, which is not running here", id);
                }
            }
        } catch (ServerException e) {
            failing = true;
            metrics.heartbeatFailed();
            Instant last = lastSuccess;
            String ago = last == null
                    ? "no successful heartbeat since start " + Duration.between(started, clock.instant()).toMillis() + " ms ago"
                    : "last successful heartbeat was " + Duration.between(last, clock.instant()).toMillis() + " ms ago";
            log.warn("heartbeat failed: {}; {}", e.getMessage(), ago);
            try {
                if (e.errorClass() == ErrorClass.REREGISTER) {
                    registrar.reRegister("heartbeat answered HTTP 404");
                } else if (e.errorClass() == ErrorClass.UNAUTHORIZED) {
                    log.warn("the server refused the runner token (HTTP {}); running tasks continue, retrying", e.httpStatus());
                    registrar.reRegister("token refused on heartbeat");
                }
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable e) {
            metrics.heartbeatFailed();
            metrics.threadDied(THREAD);
            log.error("heartbeat failed unexpectedly; the next one is sent on schedule", e);
        }
    }
}
