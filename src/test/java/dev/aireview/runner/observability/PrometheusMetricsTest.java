package dev.aireview.runner.observability;

import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.observability.RunnerMetrics.PollOutcome;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/** The metric names, labels and values the runner exposes, read back from the Prometheus text exposition. */
class PrometheusMetricsTest {

    @Test
    void shouldExposeCountersTimersAndLiveGaugesWithTheRunnerLabel() {
        PrometheusMetrics m = new PrometheusMetrics("unit-runner");
        AtomicInteger active = new AtomicInteger(1);
        AtomicInteger pooled = new AtomicInteger(2);
        AtomicInteger leftovers = new AtomicInteger(2);
        m.bind(new RunnerMetrics.Gauges(3, active::get, () -> 3 - active.get(), () -> 4.5, pooled::get, leftovers::get));

        // before anything happens the counters are there at zero (so rate() works from the start)
        PromText idle = PromText.parse(m.scrape());
        assertEquals(2.0, idle.value("ai_review_runner_leftover_reports_pending"));
        leftovers.set(0);
        assertEquals(0.0, PromText.parse(m.scrape()).value("ai_review_runner_leftover_reports_pending"));
        assertEquals(0.0, idle.value("ai_review_runner_tasks_claimed_total"));
        assertEquals(0.0, idle.value("ai_review_runner_polls_total", "outcome", "error"));
        assertEquals(0.0, idle.value("ai_review_runner_heartbeat_failures_total"));
        assertEquals(0.0, idle.value("ai_review_runner_result_retries_total"));
        assertEquals(0.0, idle.value("ai_review_runner_log_lines_dropped_total"));
        assertFalse(idle.has("ai_review_runner_task_results_total"));

        m.poll(PollOutcome.EMPTY);
        m.poll(PollOutcome.EMPTY);
        m.poll(PollOutcome.TASKS);
        m.poll(PollOutcome.ERROR);
        m.tasksClaimed(3);
        m.tasksClaimed(0);
        m.taskStarted(Duration.ofMillis(50));
        m.taskStarted(Duration.ofSeconds(2));
        m.taskFinished(ResultStatus.COMPLETED, null, Duration.ofSeconds(20));
        m.taskFinished(ResultStatus.FAILED, ErrorKind.EXECUTOR_FAILED, Duration.ofSeconds(3));
        m.taskFinished(ResultStatus.FAILED, ErrorKind.EXECUTOR_FAILED, Duration.ofSeconds(4));
        m.taskFinished(ResultStatus.FAILED, ErrorKind.BAD_TASK, Duration.ZERO);
        m.heartbeatFailed();
        m.resultRetry();
        m.resultRetry();
        m.logLinesDropped(0);
        m.logLinesDropped(120);
        active.set(2);
        pooled.set(0);

        PromText p = PromText.parse(m.scrape());
        assertEquals(2.0, p.value("ai_review_runner_polls_total", "outcome", "empty"), p.text());
        assertEquals(1.0, p.value("ai_review_runner_polls_total", "outcome", "tasks"));
        assertEquals(1.0, p.value("ai_review_runner_polls_total", "outcome", "error"));
        assertEquals(3.0, p.value("ai_review_runner_tasks_claimed_total"));
        assertEquals(1.0, p.value("ai_review_runner_task_results_total", "status", "completed", "error_kind", "none"));
        assertEquals(2.0, p.value("ai_review_runner_task_results_total", "status", "failed", "error_kind", "executor_failed"));
        assertEquals(1.0, p.value("ai_review_runner_task_results_total", "status", "failed", "error_kind", "bad_task"));
        assertEquals(1.0, p.value("ai_review_runner_heartbeat_failures_total"));
        assertEquals(2.0, p.value("ai_review_runner_result_retries_total"));
        assertEquals(120.0, p.value("ai_review_runner_log_lines_dropped_total"));

        // timers: count, sum in seconds and cumulative buckets
        assertEquals(2.0, p.value("ai_review_runner_task_queue_seconds_count"));
        assertEquals(2.05, p.value("ai_review_runner_task_queue_seconds_sum"), 1e-9);
        assertEquals(1.0, p.value("ai_review_runner_task_queue_seconds_bucket", "le", "0.1"));
        assertEquals(2.0, p.value("ai_review_runner_task_queue_seconds_bucket", "le", "5.0"));
        assertEquals(2.0, p.value("ai_review_runner_task_queue_seconds_bucket", "le", "+Inf"));
        assertEquals(3.0, p.value("ai_review_runner_task_duration_seconds_count", "status", "failed"));
        assertEquals(1.0, p.value("ai_review_runner_task_duration_seconds_count", "status", "completed"));
        assertEquals(0.0, p.value("ai_review_runner_task_duration_seconds_bucket", "status", "completed", "le", "15.0"));
        assertEquals(1.0, p.value("ai_review_runner_task_duration_seconds_bucket", "status", "completed", "le", "30.0"));
        assertEquals(20.0, p.value("ai_review_runner_task_duration_seconds_sum", "status", "completed"), 1e-9);

        // gauges read live values at scrape time
        assertEquals(3.0, p.value("ai_review_runner_slots_max"));
        assertEquals(2.0, p.value("ai_review_runner_tasks_active"));
        assertEquals(1.0, p.value("ai_review_runner_slots_free"));
        assertEquals(4.5, p.value("ai_review_runner_seconds_since_last_heartbeat"));
        assertEquals(0.0, p.value("ai_review_runner_pool_containers_ready"));

        // every sample is ours, carries runner=<name>, and only bounded labels
        Set<String> allowed = Set.of("runner", "outcome", "status", "error_kind", "le", "thread", "step");
        assertFalse(p.samples().isEmpty());
        for (PromText.Sample s : p.samples()) {
            assertTrue(s.name().startsWith("ai_review_runner_"), s.toString());
            assertEquals("unit-runner", s.labels().get("runner"), s.toString());
            assertTrue(allowed.containsAll(s.labels().keySet()), s.toString());
        }
        assertTrue(p.text().contains("# TYPE ai_review_runner_task_results_total counter"), p.text());
        assertTrue(p.text().contains("# TYPE ai_review_runner_task_duration_seconds histogram"), p.text());
    }

    @Test
    void shouldLeaveThePoolGaugeOutWhenTheExecutorCannotTell() {
        PrometheusMetrics m = new PrometheusMetrics("r");
        m.bind(new RunnerMetrics.Gauges(1, () -> 0, () -> 1, () -> 0.0, null));
        PromText p = PromText.parse(m.scrape());
        assertEquals(1.0, p.value("ai_review_runner_slots_free"));
        assertFalse(p.has("ai_review_runner_pool_containers_ready"), p.text());
    }

    @Test
    void gaugesShouldStayReadableAfterGarbageCollection() {
        PrometheusMetrics m = new PrometheusMetrics("r");
        m.bind(new RunnerMetrics.Gauges(5, () -> 2, () -> 3, () -> 1.5, () -> 4)); // nothing else holds the record
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        PromText p = PromText.parse(m.scrape());
        assertEquals(5.0, p.value("ai_review_runner_slots_max"), p.text());
        assertEquals(2.0, p.value("ai_review_runner_tasks_active"));
        assertEquals(3.0, p.value("ai_review_runner_slots_free"));
        assertEquals(1.5, p.value("ai_review_runner_seconds_since_last_heartbeat"));
        assertEquals(4.0, p.value("ai_review_runner_pool_containers_ready"));
    }

    @Test
    void guardedMetricsShouldSwallowFailuresAndPassCallsOn() {
        java.util.concurrent.atomic.AtomicInteger retries = new java.util.concurrent.atomic.AtomicInteger();
        RunnerMetrics broken = new RunnerMetrics() {
            @Override
            public void taskFinished(ResultStatus status, ErrorKind errorKind, Duration duration) {
                throw new IllegalStateException("registry broken");
            }

            @Override
            public void resultRetry() {
                retries.incrementAndGet();
            }
        };
        RunnerMetrics g = RunnerMetrics.guarded(broken);
        assertDoesNotThrow(() -> g.taskFinished(ResultStatus.COMPLETED, null, Duration.ZERO));
        assertDoesNotThrow(() -> g.taskFinished(ResultStatus.COMPLETED, null, Duration.ZERO));
        g.resultRetry();
        assertEquals(1, retries.get());
        assertSame(g, RunnerMetrics.guarded(g));
        assertSame(RunnerMetrics.NOOP, RunnerMetrics.guarded(null));
    }

    @Test
    void noopShouldAcceptEveryCall() {
        RunnerMetrics m = RunnerMetrics.NOOP;
        m.bind(new RunnerMetrics.Gauges(1, () -> 0, () -> 1, () -> 0.0, null));
        m.poll(PollOutcome.TASKS);
        m.tasksClaimed(1);
        m.taskStarted(Duration.ZERO);
        m.taskFinished(ResultStatus.COMPLETED, null, Duration.ZERO);
        m.heartbeatFailed();
        m.resultRetry();
        m.logLinesDropped(1);
        assertNotNull(m);
    }

    @Test
    void healthServerShouldServeTheExpositionOnMetrics() throws Exception {
        PrometheusMetrics m = new PrometheusMetrics("http-runner");
        m.tasksClaimed(2);
        HttpClient http = HttpClient.newHttpClient();
        HealthReport report = new HealthReport(true, "online", "r-1", "http-runner", "1.0", null, -1, 1, 0, List.of(), null);
        try (HealthServer server = HealthServer.start("127.0.0.1", 0, () -> report, m::scrape)) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertEquals(PrometheusMetrics.CONTENT_TYPE, r.headers().firstValue("Content-Type").orElse(""));
            assertEquals(2.0, PromText.parse(r.body()).value("ai_review_runner_tasks_claimed_total", "runner", "http-runner"));

            HttpResponse<String> head = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/metrics"))
                    .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, head.statusCode());
            assertEquals("", head.body());
            HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/metrics"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(405, post.statusCode());
            HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode());
        }
    }

    @Test
    void shouldCountThreadDeathsByThreadAndExecutorEscalationsByStep() {
        PrometheusMetrics m = new PrometheusMetrics("unit-runner");
        PromText idle = PromText.parse(m.scrape());
        assertEquals(0.0, idle.value("ai_review_runner_thread_deaths_total", "thread", "poll-loop"), idle.text());
        assertEquals(0.0, idle.value("ai_review_runner_thread_deaths_total", "thread", "heartbeat"));
        assertEquals(0.0, idle.value("ai_review_runner_executor_escalations_total", "step", "stuck"));

        m.threadDied("heartbeat");
        m.threadDied("heartbeat");
        m.threadDied("task-exec");
        m.executorEscalated("kill");

        PromText p = PromText.parse(m.scrape());
        assertEquals(2.0, p.value("ai_review_runner_thread_deaths_total", "thread", "heartbeat"), p.text());
        assertEquals(1.0, p.value("ai_review_runner_thread_deaths_total", "thread", "task-exec"));
        assertEquals(0.0, p.value("ai_review_runner_thread_deaths_total", "thread", "poll-loop"));
        assertEquals(1.0, p.value("ai_review_runner_executor_escalations_total", "step", "kill"));
        assertEquals(0.0, p.value("ai_review_runner_executor_escalations_total", "step", "stuck"));
        assertTrue(p.text().contains("runner=\"unit-runner\""));
    }
}
