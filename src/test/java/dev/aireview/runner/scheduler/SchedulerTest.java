package dev.aireview.runner.scheduler;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import dev.aireview.runner.config.ConfigLoader;
import dev.aireview.runner.config.RunnerConfig;
import dev.aireview.runner.execution.TaskExecutor;
import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.TaskPhase;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.observability.RunnerMetrics;
import dev.aireview.runner.server.ClaimedTask;
import dev.aireview.runner.server.HttpServerClient;
import dev.aireview.runner.server.LogLine;
import dev.aireview.runner.server.RunnerStatus;
import dev.aireview.runner.server.ServerClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.*;

class SchedulerTest {
    static final String TOKEN = "runner-token-SECRET-77";

    FakeServer server;
    FakeExecutor executor = new FakeExecutor();
    RunnerDaemon daemon;

    static RunnerConfig config(int slots, long shutdownGraceMs) {
        return config(slots, shutdownGraceMs, Map.of());
    }

    /** As {@link #config(int, long)}, with more settings (environment variable names) on top. */
    static RunnerConfig config(int slots, long shutdownGraceMs, Map<String, String> more) {
        Map<String, String> env = new HashMap<>();
        env.put("RUNNER_SERVER_URL", "http://127.0.0.1:9");
        env.put("RUNNER_TOKEN", TOKEN);
        env.put("RUNNER_NAME", "sched-test");
        env.put("DOCKER_EXECUTOR_IMAGE", "img");
        env.put("RUNNER_MAX_CONCURRENT_JOBS", Integer.toString(slots));
        env.put("RUNNER_POLL_INTERVAL_MS", "20");
        env.put("RUNNER_POLL_TIMEOUT_MS", "1000");
        env.put("RUNNER_HEARTBEAT_INTERVAL_MS", "50");
        env.put("RUNNER_SHUTDOWN_GRACE_MS", Long.toString(shutdownGraceMs));
        env.putAll(more);
        ConfigLoader.Result r = ConfigLoader.load(env, Map.of());
        assertTrue(r.ok(), r.problems().toString());
        return r.config();
    }

    /** A configuration for a daemon against a WireMock server at {@code baseUrl}: short intervals; {@code extra} overrides. */
    static RunnerConfig wireMockConfig(String baseUrl, String name, int slots, Map<String, String> extra) {
        Map<String, String> env = new HashMap<>();
        env.put("RUNNER_SERVER_URL", baseUrl);
        env.put("RUNNER_TOKEN", TOKEN);
        env.put("RUNNER_NAME", name);
        env.put("DOCKER_EXECUTOR_IMAGE", "img");
        env.put("RUNNER_MAX_CONCURRENT_JOBS", Integer.toString(slots));
        env.put("RUNNER_POLL_INTERVAL_MS", "50");
        env.put("RUNNER_POLL_TIMEOUT_MS", "1000");
        env.put("RUNNER_HEARTBEAT_INTERVAL_MS", "100");
        env.put("RUNNER_REQUEST_TIMEOUT_MS", "500");
        env.putAll(extra);
        ConfigLoader.Result r = ConfigLoader.load(env, Map.of());
        assertTrue(r.ok(), r.problems().toString());
        return r.config();
    }

    /** A daemon talking HTTP to {@code c.serverUrl()} (its own client for heartbeats, as in production). */
    static RunnerDaemon httpDaemon(RunnerConfig c, TaskExecutor executor, SchedulerSettings settings, RunnerMetrics metrics) {
        ServerClient client = new HttpServerClient(c.serverUrl(), c.token(), c.requestTimeout(), c.pollTimeout(), Clock.systemUTC());
        ServerClient hb = new HttpServerClient(c.serverUrl(), c.token(), c.requestTimeout(), c.pollTimeout(), Clock.systemUTC());
        return new RunnerDaemon(c, executor, client, hb, RunnerDaemon.registration(c), settings, metrics);
    }

    /** A started WireMock server answering health, register (as {@code runnerId}) and heartbeats like a healthy server. */
    static WireMockServer startWireMock(String runnerId) {
        WireMockServer wm = new WireMockServer(WireMockConfiguration.options().dynamicPort());
        wm.start();
        wm.stubFor(WireMock.get("/api/health").willReturn(WireMock.okJson("{\"data\":{\"status\":\"ok\"}}")));
        wm.stubFor(WireMock.post("/api/runners/register").willReturn(WireMock.okJson("{\"data\":{\"id\":\"" + runnerId + "\"}}")));
        wm.stubFor(WireMock.post(WireMock.urlPathMatching("/api/runners/[^/]+/heartbeat")).willReturn(WireMock.okJson("{\"data\":{}}")));
        return wm;
    }

    static SchedulerSettings settings() {
        return SchedulerSettings.defaults().withRandom(new Random(7))
                .withTimeouts(Duration.ofMillis(200), Duration.ofMillis(500))
                .withLogBatching(Duration.ofMillis(50), 64 * 1024);
    }

    RunnerDaemon start(int slots, long graceMs) throws Exception {
        server = new FakeServer(slots);
        RunnerConfig c = config(slots, graceMs);
        daemon = new RunnerDaemon(c, executor, server, server, RunnerDaemon.registration(c), settings());
        daemon.start();
        return daemon;
    }

    @AfterEach
    void stop() throws Exception {
        executor.gate.countDown();
        executor.unstick.countDown();
        if (daemon != null) {
            daemon.stopNow();
            assertTrue(daemon.awaitTermination(Duration.ofSeconds(20)), "daemon stops");
        }
    }

    private TaskResult onlyResult(String id) {
        List<TaskResult> rs = server.results.get(id);
        assertNotNull(rs, "result for " + id);
        assertEquals(1, rs.size(), "exactly one result for " + id);
        return rs.get(0);
    }

    @Test
    void shouldNeverRunMoreThanItsSlotsNorAskForMoreThanFreeSlots() throws Exception {
        start(2, 60_000);
        for (int i = 0; i < 8; i++) {
            server.enqueue(FakeServer.task("gate-" + i));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> executor.running.get() == 2);
        await().atMost(Duration.ofSeconds(5)).until(() -> server.heartbeats.stream().anyMatch(h -> h.status() == RunnerStatus.BUSY
                && h.activeJobs() == 2 && h.runningTaskIds().size() == 2));
        // both slots busy: the runner must not poll at all now
        int pollsWhenFull = server.pollSizes.size();
        await("no poll while every slot is busy").during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2))
                .until(() -> server.pollSizes.size() == pollsWhenFull);
        assertEquals(2, executor.running.get());
        executor.gate.countDown();
        await().atMost(Duration.ofSeconds(10)).until(() -> server.resultCount() == 8);
        assertEquals(2, executor.maxRunning.get());
        assertEquals(List.of(), server.violations);
        assertTrue(server.pollSizes.stream().allMatch(n -> n >= 1 && n <= 2), server.pollSizes.toString());
        for (int i = 0; i < 8; i++) {
            TaskResult r = onlyResult("gate-" + i);
            assertEquals(ResultStatus.COMPLETED, r.status());
            assertNotNull(r.stats().durationMs());
            assertNotNull(r.stats().queueToStartMs());
            assertEquals(3, r.stats().filesReviewed());
            assertEquals(0, r.stats().exitCode());
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> server.phases.get("gate-0").contains(TaskPhase.SUBMITTING));
        assertTrue(server.phases.get("gate-0").contains(TaskPhase.REVIEWING));
        assertEquals(1, server.registrations);
        assertTrue(executor.started.get());
    }

    @Test
    void shouldReportTheSubmittingPhaseOnceWhetherOrNotTheExecutorReportedIt() throws Exception {
        start(2, 60_000);
        server.enqueue(FakeServer.task("submits-1"));
        server.enqueue(FakeServer.task("ok-1"));
        await().atMost(Duration.ofSeconds(10)).until(() -> server.resultCount() == 2);
        for (String id : List.of("submits-1", "ok-1")) {
            List<TaskPhase> phases = List.copyOf(server.phases.get(id));
            assertEquals(1, phases.stream().filter(p -> p == TaskPhase.SUBMITTING).count(), id + ": " + phases);
            assertEquals(TaskPhase.SUBMITTING, phases.get(phases.size() - 1), id + ": " + phases);
        }
    }

    @Test
    void shouldGiveEveryClaimedTaskExactlyOneResultWhateverTheExecutorDoes() throws Exception {
        start(3, 60_000);
        server.enqueue(FakeServer.task("ok-1"));
        server.enqueue(FakeServer.task("throw-1"));
        server.queue.add(ClaimedTask.bad("bad-1", "bad task bad-1: missing field 'repository.url'", Instant.now()));
        server.enqueue(FakeServer.task("hang-1", 1, null));
        server.enqueue(FakeServer.task("stuck-1", 1, null));
        server.enqueue(FakeServer.task("hang-2"));
        await().atMost(Duration.ofSeconds(10)).until(() -> server.results.keySet().containsAll(List.of("ok-1", "throw-1", "bad-1")));
        // the server cancels hang-2 through the heartbeat
        await().atMost(Duration.ofSeconds(10)).until(() -> executor.executed.contains("hang-2"));
        server.cancelOnNextHeartbeat.add("hang-2");
        await().atMost(Duration.ofSeconds(15)).until(() -> server.resultCount() == 6);

        assertEquals(ResultStatus.COMPLETED, onlyResult("ok-1").status());
        TaskResult thrown = onlyResult("throw-1");
        assertEquals(ResultStatus.FAILED, thrown.status());
        assertEquals(ErrorKind.EXECUTOR_FAILED, thrown.error().kind());
        assertTrue(thrown.error().message().contains("boom in executor"), thrown.error().message());
        TaskResult bad = onlyResult("bad-1");
        assertEquals(ErrorKind.BAD_TASK, bad.error().kind());
        assertFalse(executor.executed.contains("bad-1"), "a bad task never reaches the executor");
        TaskResult hung = onlyResult("hang-1");
        assertEquals(ResultStatus.TIMED_OUT, hung.status(), "cancelled at its deadline: " + hung);
        assertEquals(ErrorKind.TIMEOUT, hung.error().kind());
        TaskResult stuck = onlyResult("stuck-1");
        assertEquals(ResultStatus.TIMED_OUT, stuck.status(), "reported after the kill escalation: " + stuck);
        assertEquals(ErrorKind.TIMEOUT, stuck.error().kind());
        TaskResult cancelled = onlyResult("hang-2");
        assertEquals(ResultStatus.CANCELLED, cancelled.status());
        assertEquals(ErrorKind.CANCELLED, cancelled.error().kind());
        assertTrue(executor.sawTimeout.contains("hang-1=1"), "task timeout lowers DOCKER_TIMEOUT_SECONDS: " + executor.sawTimeout);
        assertTrue(executor.sawTimeout.contains("ok-1=600"), executor.sawTimeout.toString());
        assertEquals(List.of(), server.violations);
        await().atMost(Duration.ofSeconds(5)).until(() -> daemon.runningTaskIds().isEmpty());
    }

    @Test
    void shouldMaskSecretsInLogsAndResultAndFlushLogsBeforeTheResult() throws Exception {
        String clone = "ghs_CloneToken/42";
        executor.linesToLog = List.of("using " + clone, "url https://t:" + URLEncoder.encode(clone, StandardCharsets.UTF_8) + "@git",
                "runner " + TOKEN);
        executor.summary = "summary leaking " + clone;
        start(1, 60_000);
        server.enqueue(FakeServer.task("log-1", null, clone));
        await().atMost(Duration.ofSeconds(10)).until(() -> server.results.containsKey("log-1"));
        List<LogLine> lines = server.logs.get("log-1");
        assertEquals(List.of("using ****", "url https://t:****@git", "runner ****"), lines.stream().map(LogLine::text).toList());
        assertEquals("summary leaking ****", onlyResult("log-1").summary());
        int lastLog = server.events.lastIndexOf("logs:log-1");
        int result = server.events.indexOf("result:log-1");
        assertTrue(lastLog >= 0 && lastLog < result, "logs flushed before the result: " + server.events);
    }

    @Test
    void shouldDrainRunningTasksOnGracefulStopThenGoOffline() throws Exception {
        start(2, 30_000);
        server.enqueue(FakeServer.task("gate-a"));
        server.enqueue(FakeServer.task("gate-b"));
        await().atMost(Duration.ofSeconds(10)).until(() -> executor.running.get() == 2);
        daemon.stopGracefully();
        await().atMost(Duration.ofSeconds(5)).until(() -> server.heartbeats.stream().anyMatch(h -> h.status() == RunnerStatus.BUSY && h.draining()
                && h.runningTaskIds().equals(List.of("gate-a", "gate-b"))));
        int polls = server.pollSizes.size();
        server.enqueue(FakeServer.task("ok-late"));
        assertFalse(daemon.isTerminated(), "waits for running tasks");
        executor.gate.countDown();
        assertTrue(daemon.awaitTermination(Duration.ofSeconds(10)));
        assertEquals(ResultStatus.COMPLETED, onlyResult("gate-a").status());
        assertEquals(ResultStatus.COMPLETED, onlyResult("gate-b").status());
        assertEquals(polls, server.pollSizes.size(), "no claim after the stop");
        assertFalse(server.results.containsKey("ok-late"));
        assertEquals(RunnerStatus.OFFLINE, server.heartbeats.get(server.heartbeats.size() - 1).status());
        assertTrue(executor.closed.get());
    }

    @Test
    void shouldCancelTasksStillRunningWhenTheGracePeriodEnds() throws Exception {
        start(2, 300);
        server.enqueue(FakeServer.task("hang-a"));
        server.enqueue(FakeServer.task("hang-b"));
        await().atMost(Duration.ofSeconds(10)).until(() -> executor.running.get() == 2);
        daemon.stopGracefully();
        assertTrue(daemon.awaitTermination(Duration.ofSeconds(10)));
        for (String id : List.of("hang-a", "hang-b")) {
            TaskResult r = onlyResult(id);
            assertEquals(ResultStatus.CANCELLED, r.status());
            assertEquals(ErrorKind.RUNNER_SHUTDOWN, r.error().kind());
        }
        assertEquals(RunnerStatus.OFFLINE, server.heartbeats.get(server.heartbeats.size() - 1).status());
    }

    @Test
    void shouldCancelAtOnceOnASecondStopRequest() throws Exception {
        start(1, 600_000);
        server.enqueue(FakeServer.task("hang-x"));
        await().atMost(Duration.ofSeconds(10)).until(() -> executor.running.get() == 1);
        daemon.stopGracefully();
        await().atMost(Duration.ofSeconds(5)).until(() -> server.heartbeats.stream().anyMatch(h -> h.status() == RunnerStatus.BUSY && h.draining()));
        assertFalse(daemon.isTerminated());
        daemon.stopGracefully(); // the second signal
        assertTrue(daemon.awaitTermination(Duration.ofSeconds(10)), "does not wait for the 10 min grace");
        assertEquals(ErrorKind.RUNNER_SHUTDOWN, onlyResult("hang-x").error().kind());
    }

    @Test
    void shouldRunTasksAServerSentBeyondMaxTasksOnlyAsSlotsFreeUp() throws Exception {
        start(2, 60_000);
        server.overdeliver = true;
        for (int i = 0; i < 5; i++) {
            server.queue.add(ClaimedTask.parsed(FakeServer.task("gate-x" + i), Instant.now()));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> executor.running.get() == 2);
        await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(2)).until(() -> executor.running.get() == 2);
        executor.gate.countDown();
        await().atMost(Duration.ofSeconds(10)).until(() -> server.resultCount() == 5);
        assertEquals(2, executor.maxRunning.get());
        for (int i = 0; i < 5; i++) {
            assertEquals(ResultStatus.COMPLETED, onlyResult("gate-x" + i).status());
        }
    }
}
