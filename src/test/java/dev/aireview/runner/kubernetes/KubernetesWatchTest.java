package dev.aireview.runner.kubernetes;

import dev.aireview.runner.config.DockerConfig;
import dev.aireview.runner.config.KubernetesConfig;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskPhase;
import dev.aireview.runner.model.TaskResult;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.http.Response;
import io.fabric8.mockwebserver.http.WebSocket;
import io.fabric8.mockwebserver.http.WebSocketListener;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.aireview.runner.kubernetes.KubeletScript.running;
import static dev.aireview.runner.kubernetes.KubeletScript.status;
import static dev.aireview.runner.kubernetes.KubeletScript.terminated;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The runner's one pod watch when the API server breaks it: the mock server in CRUD mode, with the executor's first
 * watch held by the test (silent, so the task pod's changes are missed), then answered {@code 410 Gone} (an ERROR
 * event, as the API server sends for a too old resourceVersion) or simply closed. The informer re-lists (410) or
 * re-watches (closed), and the task still completes with exactly one result and nothing left.
 */
class KubernetesWatchTest {
    static {
        KubernetesExecutorTest.MOCK_LOG.getName(); // the mock server's INFO lines off
    }

    static final String NS = KubernetesExecutorTest.NS;
    static final String GONE = "{\"type\":\"ERROR\",\"object\":{\"apiVersion\":\"v1\",\"kind\":\"Status\",\"status\":\"Failure\","
            + "\"code\":410,\"reason\":\"Expired\",\"message\":\"too old resource version: 1 (42)\"}}";

    /** The CRUD server's dispatcher, except that the executor's first pod watch is held by the test. */
    static final class HeldWatch extends Dispatcher {
        final KubernetesMixedDispatcher crud;
        final AtomicInteger watches = new AtomicInteger();
        final AtomicInteger lists = new AtomicInteger();
        volatile WebSocket held;

        HeldWatch(Map<ServerRequest, Queue<ServerResponse>> responses) {
            this.crud = new KubernetesMixedDispatcher(responses);
        }

        @Override
        public MockResponse dispatch(RecordedRequest request) {
            String path = request.getPath();
            if (KubernetesExecutorTest.EXECUTOR_AGENT.equals(request.getHeader("User-Agent"))
                    && path.startsWith("/api/v1/namespaces/" + NS + "/pods?")) {
                if (path.contains("watch=true")) {
                    if (watches.incrementAndGet() == 1) {
                        return new MockResponse().withWebSocketUpgrade(new WebSocketListener() {
                            @Override
                            public void onOpen(WebSocket ws, Response response) {
                                held = ws;
                            }
                        });
                    }
                } else {
                    lists.incrementAndGet();
                }
            }
            return crud.dispatch(request);
        }

        @Override
        public void shutdown() {
            crud.shutdown();
        }
    }

    @TempDir
    Path tmp;
    private KubernetesMockServer server;
    private KubernetesClient client;
    private HeldWatch dispatcher;
    private KubeletScript kubelet;
    private KubernetesTaskExecutor executor;
    private final String runner = "k8s-" + UUID.randomUUID().toString().substring(0, 8);

    @BeforeEach
    void setUp() {
        Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
        dispatcher = new HeldWatch(responses);
        server = new KubernetesMockServer(new Context(), new MockWebServer(), responses, dispatcher, false);
        server.init();
        client = server.createClient();
        kubelet = new KubeletScript(client, server, NS);
    }

    @AfterEach
    void tearDown() {
        if (executor != null) {
            executor.close();
        }
        client.close();
        server.destroy();
    }

    KubernetesTaskExecutor started() {
        DockerConfig config = new DockerConfig("unix:///unused", "registry.example/ai-review-executor:1",
                dev.aireview.runner.config.PullPolicy.IF_NOT_PRESENT, 512L << 20, 1.5, "bridge", tmp, Duration.ofMinutes(10), 0,
                50, 512, "10001:10001", Duration.ofSeconds(0), runner);
        executor = KubernetesTaskExecutor.connecting(config, new KubernetesConfig(NS, Duration.ofMinutes(5)),
                new ConfigBuilder(client.getConfiguration()).withUserAgent(KubernetesExecutorTest.EXECUTOR_AGENT).build());
        executor.logBackoff(Duration.ofMillis(200));
        executor.start();
        await().atMost(KubeletScript.WAIT).until(() -> dispatcher.held != null);
        return executor;
    }

    /** Starts a task whose pod the held watch does not show; its name. */
    CompletableFuture<TaskResult> startTask(KubernetesTaskExecutor ex, ReviewTask task, TaskContextStub ctx) {
        String name = PodSpecs.name(runner, task.id());
        kubelet.log(name, PodSpecs.CLONE, PodLogs.MAX_BYTES, "checked out 0123456\n");
        kubelet.followLog(name, PodSpecs.REVIEW, new KubeletScript.FakeLog().add("2026-12-06T10:00:00.100Z", "reviewing"),
                "2026-12-06T10:00:00Z");
        kubelet.log(name, PodSpecs.REPORT, ResultFrame.logBytes(DockerConfig.DEFAULT_RESULT_LIMIT_BYTES),
                ResultFrame.frame(KubernetesExecutorTest.RESULT_JSON.getBytes(StandardCharsets.UTF_8)));
        CompletableFuture<TaskResult> f = CompletableFuture.supplyAsync(() -> {
            try {
                return ex.execute(task, ctx);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        kubelet.awaitPod(name);
        return f;
    }

    void reviewEnds(String name) {
        kubelet.status(name, status("Succeeded", List.of(terminated(PodSpecs.CLONE, 0, "Completed"),
                terminated(PodSpecs.REVIEW, 0, "Completed")), List.of(terminated(PodSpecs.REPORT, 0, "Completed"))));
    }

    void assertNothingLeft() {
        assertTrue(client.pods().inNamespace(NS).withLabel(PodSpecs.LABEL_RUNNER, runner).list().getItems().isEmpty(), "pods left");
        assertTrue(client.secrets().inNamespace(NS).withLabel(PodSpecs.LABEL_RUNNER, runner).list().getItems().isEmpty(), "secrets left");
    }

    /**
     * While the watch is silent the pod is created and starts its review; then the watch answers 410 Gone. The
     * informer lists again (the pod as it is now), watches again, and the task goes on to its one result.
     */
    @Test
    void aWatchAnswering410GoneIsRelistedAndTheTaskCompletesOnce() throws Exception {
        KubernetesTaskExecutor ex = started();
        int listed = dispatcher.lists.get(); // the reaper's and the informer's first
        ReviewTask task = KubernetesExecutorTest.task(KubernetesExecutorTest.TOKEN);
        String name = PodSpecs.name(runner, task.id());
        TaskContextStub ctx = new TaskContextStub(Duration.ofMinutes(5));
        CompletableFuture<TaskResult> f = startTask(ex, task, ctx);
        kubelet.status(name, status("Pending", List.of(terminated(PodSpecs.CLONE, 0, "Completed"), running(PodSpecs.REVIEW)), List.of()));
        assertEquals(null, ex.watchedPod(name), "the held watch shows nothing of the task pod");

        dispatcher.held.send(GONE);
        dispatcher.held.close(1000, "");
        await().atMost(KubeletScript.WAIT).until(() -> ctx.phases.contains(TaskPhase.REVIEWING));
        assertEquals(listed + 1, dispatcher.lists.get(), "410 Gone: the informer listed again");
        await().atMost(KubeletScript.WAIT).until(() -> dispatcher.watches.get() >= 2);

        reviewEnds(name);
        TaskResult r = KubernetesExecutorTest.result(f);
        assertEquals(ResultStatus.COMPLETED, r.status(), String.valueOf(r.error()));
        assertTrue(ctx.logged("reviewing"), ctx.lines.toString());
        assertNothingLeft();
    }

    /** The watch closes (no error): the informer watches again and the task's later changes arrive through it. */
    @Test
    void aClosedWatchIsReopenedAndTheTaskCompletesOnce() throws Exception {
        KubernetesTaskExecutor ex = started();
        ReviewTask task = KubernetesExecutorTest.task(null);
        String name = PodSpecs.name(runner, task.id());
        TaskContextStub ctx = new TaskContextStub(Duration.ofMinutes(5));
        CompletableFuture<TaskResult> f = startTask(ex, task, ctx);

        dispatcher.held.close(1000, "");
        await().atMost(KubeletScript.WAIT).until(() -> dispatcher.watches.get() >= 2);
        // changes after the new watch opened reach the executor
        await().atMost(KubeletScript.WAIT).pollInterval(Duration.ofMillis(200)).until(() -> {
            kubelet.status(name, status("Pending", List.of(terminated(PodSpecs.CLONE, 0, "Completed"), running(PodSpecs.REVIEW)), List.of()));
            return ctx.phases.contains(TaskPhase.REVIEWING);
        });
        reviewEnds(name);
        TaskResult r = KubernetesExecutorTest.result(f);
        assertEquals(ResultStatus.COMPLETED, r.status(), String.valueOf(r.error()));
        assertNothingLeft();
    }
}
