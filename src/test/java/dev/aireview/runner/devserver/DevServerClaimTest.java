package dev.aireview.runner.devserver;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.*;

/** Claiming: exclusivity under concurrency, long-poll wake-up, heartbeat timeout and re-queue. */
class DevServerClaimTest {
    private static final String TOKEN = "claim-token-0123456789";
    private static final String SHA = "0123456789abcdef0123456789abcdef01234567";

    private DevServer server;
    private final List<ExecutorService> pools = new ArrayList<>();

    @AfterEach
    void stop() {
        pools.forEach(ExecutorService::shutdownNow);
        if (server != null) {
            server.stop();
        }
    }

    private Api start(Duration heartbeatTimeout) throws Exception {
        server = DevServer.start(DevServerOptions.builder(TOKEN).heartbeatTimeout(heartbeatTimeout).build());
        return new Api(server.baseUrl(), TOKEN);
    }

    private <T extends ExecutorService> T pool(T p) {
        pools.add(p);
        return p;
    }

    private String enqueue() {
        return server.enqueue(NewTask.forRepository("https://git.example/acme/shop.git").headSha(SHA).build());
    }

    @Test
    void shouldHandEachTaskToExactlyOneRunnerUnderConcurrentPolls() throws Exception {
        Api api = start(Duration.ofMinutes(5));
        int runners = 8;
        int total = 240;
        for (int i = 0; i < runners; i++) {
            api.register("r" + i, 3);
        }
        for (int i = 0; i < total / 2; i++) {
            enqueue();
        }
        Map<String, String> claimedBy = new ConcurrentHashMap<>();
        AtomicInteger duplicates = new AtomicInteger();
        AtomicInteger claimed = new AtomicInteger();
        ExecutorService threads = pool(Executors.newFixedThreadPool(runners + 1));
        List<Future<?>> done = new ArrayList<>();
        for (int i = 0; i < runners; i++) {
            String runnerId = "r" + i;
            done.add(threads.submit(() -> {
                while (claimed.get() < total) {
                    JsonNode tasks = api.poll(runnerId, 3, 200).data();
                    assertTrue(tasks.size() <= 3, "never more than maxTasks");
                    for (JsonNode t : tasks) {
                        if (claimedBy.put(t.get("id").asText(), runnerId) != null) {
                            duplicates.incrementAndGet();
                        }
                        claimed.incrementAndGet();
                    }
                }
                return null;
            }));
        }
        // the second half arrives while the runners are polling: exercises the wake-up path too
        done.add(threads.submit(() -> {
            for (int i = 0; i < total / 2; i++) {
                enqueue();
            }
            return null;
        }));
        for (Future<?> f : done) {
            f.get(60, TimeUnit.SECONDS);
        }
        assertEquals(0, duplicates.get(), "a task was handed out twice");
        assertEquals(total, claimedBy.size());
        assertEquals(total, claimed.get());
        for (TaskSnapshot t : server.tasks()) {
            assertEquals(1, t.claimCount(), t.id());
            assertEquals("claimed", t.phase());
            assertEquals(claimedBy.get(t.id()), t.runnerId());
        }
        int sum = server.runners().stream().mapToInt(RunnerSnapshot::tasksClaimed).sum();
        assertEquals(total, sum);
    }

    @Test
    void shouldWakeALongPollAsSoonAsATaskIsEnqueued() throws Exception {
        Api api = start(Duration.ofMinutes(5));
        api.register("r1", 1);
        long waitMs = 20_000;
        ExecutorService threads = pool(Executors.newSingleThreadExecutor());
        long started = System.nanoTime();
        Future<Api.Reply> poll = threads.submit(() -> api.poll("r1", 1, waitMs));
        // the poll has reached the server and is waiting (the counter is read under the same lock it waits on)
        await().atMost(Duration.ofSeconds(10)).until(() -> server.runner("r1").orElseThrow().polls() == 1);
        assertFalse(poll.isDone(), "with nothing pending the poll is held");
        String id = enqueue();
        Api.Reply reply = poll.get(15, TimeUnit.SECONDS);
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        assertEquals(200, reply.status());
        assertEquals(1, reply.data().size());
        assertEquals(id, reply.data().get(0).get("id").asText());
        assertTrue(elapsedMs < waitMs / 2, "the poll returned after " + elapsedMs + " ms, not on the enqueue");
    }

    @Test
    void shouldAnswerAnEmptyListWhenTheWaitEnds() throws Exception {
        Api api = start(Duration.ofMinutes(5));
        api.register("r1", 1);
        Api.Reply r = api.poll("r1", 1, 100);
        assertEquals(200, r.status());
        assertTrue(r.data().isArray());
        assertEquals(0, r.data().size());
    }

    @Test
    void shouldRequeueTasksOfARunnerWhoseHeartbeatsStop() throws Exception {
        Api api = start(Duration.ofMillis(2000));
        api.register("alive", 2);
        api.register("dies", 2);
        String id = enqueue();
        String other = enqueue();
        assertEquals(1, api.poll("dies", 1, 0).data().size());
        assertEquals(200, api.status(id, "dies", "cloning").status());
        assertEquals(1, api.poll("alive", 1, 0).data().size());

        // "alive" keeps heartbeating like a runner does; "dies" goes silent
        ScheduledExecutorService beats = pool(Executors.newSingleThreadScheduledExecutor());
        beats.scheduleAtFixedRate(() -> {
            try {
                api.heartbeat("alive", "online", other);
            } catch (Exception e) {
                // the test server stops at the end
            }
        }, 0, 100, TimeUnit.MILLISECONDS);

        TaskSnapshot requeued = server.awaitTask(id, t -> t.phase().equals("pending"), Duration.ofSeconds(20));
        assertEquals(1, requeued.requeues());
        assertEquals(List.of("dies"), requeued.formerRunners());
        assertNull(requeued.runnerId());
        RunnerSnapshot dead = server.runner("dies").orElseThrow();
        assertEquals("offline", dead.status());
        assertEquals(1, dead.timeouts());
        assertEquals(List.of(), dead.claimedTaskIds());
        RunnerSnapshot alive = server.runner("alive").orElseThrow();
        assertEquals("online", alive.status(), "a heartbeating runner stays online");
        assertEquals(List.of(other), alive.claimedTaskIds());

        // another runner gets it; the late runner's calls are refused
        JsonNode again = api.poll("alive", 1, 0).data();
        assertEquals(1, again.size());
        assertEquals(id, again.get(0).get("id").asText());
        assertEquals(409, api.result(id, "dies", "completed").status(), "late result of a re-queued task");
        assertEquals(409, api.status(id, "dies", "reviewing").status());
        // the late runner comes back: it is told to stop the task it still runs
        Api.Reply hb = api.heartbeat("dies", "online", id);
        assertEquals(200, hb.status());
        assertEquals(id, hb.data().get("cancelTaskIds").get(0).asText());
        assertEquals("online", server.runner("dies").orElseThrow().status());

        assertEquals(200, api.result(id, "alive", "completed").status());
        TaskSnapshot t = server.awaitTerminal(id, Duration.ofSeconds(5));
        assertEquals(2, t.claimCount());
        assertEquals("alive", t.runnerId());
        assertEquals(2, t.resultCalls());
        assertTrue(t.phaseNames().contains("requeued"), t.phaseNames().toString());
    }

    @Test
    void shouldRequeueUnfinishedTasksWhenARunnerReportsOffline() throws Exception {
        Api api = start(Duration.ofMinutes(5));
        api.register("r1", 2);
        String id = enqueue();
        assertEquals(1, api.poll("r1", 1, 0).data().size());
        assertEquals(200, api.heartbeat("r1", "offline").status());
        TaskSnapshot t = server.task(id);
        assertEquals("pending", t.phase());
        assertEquals(1, t.requeues());
        assertEquals("offline", server.runner("r1").orElseThrow().status());
    }

    @Test
    void shouldRequeueATaskTheRunnerNeverAcknowledged() throws Exception {
        Api api = start(Duration.ofMillis(2000));
        api.register("r1", 3);
        String lost = enqueue();
        String listed = enqueue();
        String started = enqueue();
        assertEquals(3, api.poll("r1", 3, 0).data().size());
        assertEquals(200, api.status(started, "r1", "preparing").status());
        // the runner knows only "listed" and "started"; "lost" never reached it
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() -> {
            api.heartbeat("r1", "online", listed);
            return server.task(lost).phase().equals("pending");
        });
        TaskSnapshot t = server.task(lost);
        assertEquals(1, t.requeues());
        assertEquals("runner never acknowledged the task", t.phases().get(t.phases().size() - 1).message());
        RunnerSnapshot r = server.runner("r1").orElseThrow();
        assertEquals("online", r.status(), "the runner itself is fine");
        assertEquals(List.of(listed, started), r.claimedTaskIds());
        assertEquals("claimed", server.task(listed).phase());
        assertEquals("preparing", server.task(started).phase());
    }
}
