package dev.aireview.runner.scheduler;

import dev.aireview.runner.model.TaskPhase;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.observability.RunnerMetrics;
import dev.aireview.runner.server.ClaimedTask;
import dev.aireview.runner.server.Heartbeat;
import dev.aireview.runner.server.HeartbeatAnswer;
import dev.aireview.runner.server.LogLine;
import dev.aireview.runner.server.Registration;
import dev.aireview.runner.server.RunnerStatus;
import dev.aireview.runner.server.ServerClient;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A heartbeat in flight when the runner stops is let finish before the final {@code offline} one: interrupted,
 * its request could still leave afterwards and make the server see the stopped runner online again.
 */
class HeartbeaterStopTest {

    @Test
    void shouldLetTheHeartbeatInFlightFinishBeforeTheFinalOfflineOne() throws Exception {
        List<String> events = new CopyOnWriteArrayList<>();
        CountDownLatch inFlight = new CountDownLatch(1);
        CountDownLatch answer = new CountDownLatch(1);
        ServerClient server = new HeartbeatOnly() {
            @Override
            public HeartbeatAnswer heartbeat(String runnerId, Heartbeat heartbeat) throws InterruptedException {
                if (heartbeat.status() == RunnerStatus.OFFLINE) {
                    events.add("offline sent");
                    return HeartbeatAnswer.EMPTY;
                }
                if (inFlight.getCount() == 0) {
                    return HeartbeatAnswer.EMPTY;
                }
                inFlight.countDown();
                try {
                    if (!answer.await(30, TimeUnit.SECONDS)) {
                        events.add("beat never answered");
                    }
                    events.add("beat answered");
                    return HeartbeatAnswer.EMPTY;
                } catch (InterruptedException e) {
                    events.add("beat interrupted");
                    throw e;
                }
            }
        };
        Registration reg = new Registration("r", "r", "v", 1, List.of(), "h", "o", null, "i");
        Heartbeater hb = new Heartbeater(server, new RunnerRegistrar(server, reg), () -> new Heartbeat(RunnerStatus.ONLINE, 0, 1, List.of()),
                new ActiveTasks(), Duration.ofHours(1), Clock.systemUTC(), RunnerMetrics.NOOP);
        hb.start();
        assertTrue(inFlight.await(30, TimeUnit.SECONDS), "the first beat started");

        Thread stopper = new Thread(() -> {
            try {
                hb.stop();
                events.add("stopped");
                hb.sendFinal(new Heartbeat(RunnerStatus.OFFLINE, 0, 1, List.of()));
            } catch (InterruptedException e) {
                events.add("stop interrupted");
            }
        }, "stopper");
        stopper.start();
        // stop() is waiting for the beat (it has not returned, nothing was interrupted); then the server answers
        await().atMost(Duration.ofSeconds(30)).until(() -> stopper.getState() == Thread.State.TIMED_WAITING);
        assertEquals(List.of(), events, "stop() must wait for the beat in flight, not interrupt it");
        answer.countDown();
        stopper.join(TimeUnit.SECONDS.toMillis(30));

        assertEquals(List.of("beat answered", "stopped", "offline sent"), events);
    }

    /** A server that only takes heartbeats. */
    private abstract static class HeartbeatOnly implements ServerClient {
        @Override
        public void health() {
            throw new UnsupportedOperationException();
        }

        @Override
        public String register(Registration registration) {
            throw new UnsupportedOperationException();
        }

        @Override
        public List<ClaimedTask> poll(String runnerId, int maxTasks, Duration wait) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void status(String runnerId, String taskId, TaskPhase phase, String message) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void logs(String runnerId, String taskId, long offset, List<LogLine> lines) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void result(String runnerId, String taskId, TaskResult result) {
            throw new UnsupportedOperationException();
        }
    }
}
