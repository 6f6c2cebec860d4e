package dev.aireview.runner.kubernetes;

import dev.aireview.runner.config.DockerConfig;
import dev.aireview.runner.config.KubernetesConfig;
import dev.aireview.runner.config.PullPolicy;
import dev.aireview.runner.execution.CancelReason;
import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.Json;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskPhase;
import dev.aireview.runner.model.TaskResult;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static dev.aireview.runner.kubernetes.KubeletScript.podFailed;
import static dev.aireview.runner.kubernetes.KubeletScript.running;
import static dev.aireview.runner.kubernetes.KubeletScript.status;
import static dev.aireview.runner.kubernetes.KubeletScript.terminated;
import static dev.aireview.runner.kubernetes.KubeletScript.unschedulable;
import static dev.aireview.runner.kubernetes.KubeletScript.waiting;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Kubernetes executor against fabric8's mock API server in CRUD mode, the test acting as the kubelet
 * ({@link KubeletScript}): every scenario ends with exactly one result, the pod and Secret deleted, and no secret in
 * a pod spec or log line.
 */
@EnableKubernetesMockClient(crud = true)
class KubernetesExecutorTest {
    /** The mock server logs every request at INFO through java.util.logging; only its warnings are kept (held: JUL loggers are weak). */
    static final java.util.logging.Logger MOCK_LOG = java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

    static {
        MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
    }

    static final String NS = "ai-review-tasks";
    static final String TOKEN = "tok-Sup3rSecret-99";
    /** User agent of the executor's client: tells its requests from the fake kubelet's and the assertions'. */
    static final String EXECUTOR_AGENT = "ai-review-runner-under-test";

    KubernetesMockServer server;
    KubernetesClient client;
    @TempDir
    Path tmp;

    private final List<KubernetesTaskExecutor> executors = new ArrayList<>();
    private KubeletScript kubelet;
    private String runner;

    @BeforeEach
    void setUp() {
        kubelet = new KubeletScript(client, server, NS);
        runner = "k8s-" + UUID.randomUUID().toString().substring(0, 8);
        // the JVM's first TLS handshake (class loading, on a loaded machine) on the test's client, with its 10 s to connect
        client.pods().inNamespace(NS).withName("warm-up").get();
    }

    @AfterEach
    void tearDown() {
        executors.forEach(KubernetesTaskExecutor::close);
    }

    DockerConfig config(String runnerName) {
        return new DockerConfig("unix:///unused", "registry.example/ai-review-executor:1", PullPolicy.IF_NOT_PRESENT,
                512L << 20, 1.5, "bridge", tmp, Duration.ofMinutes(10), 0, 50, 512, "10001:10001", Duration.ofSeconds(0), runnerName);
    }

    KubernetesTaskExecutor started(String runnerName, Duration pendingTimeout) {
        return started(runnerName, new KubernetesConfig(NS, pendingTimeout), ex -> { });
    }

    /** An executor that makes its client as production does (gate, deadlines, no fabric8 retry) from the mock's settings. */
    KubernetesTaskExecutor started(String runnerName, KubernetesConfig kubernetes, java.util.function.Consumer<KubernetesTaskExecutor> before) {
        io.fabric8.kubernetes.client.Config base;
        try (KubernetesClient c = server.createClient()) {
            base = new ConfigBuilder(c.getConfiguration()).withUserAgent(EXECUTOR_AGENT).build();
        }
        KubernetesTaskExecutor ex = KubernetesTaskExecutor.connecting(config(runnerName), kubernetes, base);
        ex.logBackoff(Duration.ofMillis(200));
        before.accept(ex);
        executors.add(ex);
        ex.start();
        return ex;
    }

    /**
     * The pending time runs out only once the executor's watch shows the status the test set: on a slow machine the
     * status would otherwise come after the timeout and the task end as a pod that got no status.
     */
    static void pendingTimeRunsOutOnceSeen(KubernetesTaskExecutor ex, String pod, ManualClock pendingClock) {
        await().atMost(KubeletScript.WAIT).until(() -> {
            Pod seen = ex.watched(pod);
            return seen != null && seen.getStatus() != null && seen.getStatus().getPhase() != null;
        });
        pendingClock.advance(Duration.ofSeconds(1));
    }

    /** A clock that moves only when told. */
    static final class ManualClock extends java.time.Clock {
        private volatile java.time.Instant now = java.time.Instant.parse("2026-01-01T00:00:00Z");

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public java.time.ZoneId getZone() {
            return java.time.ZoneOffset.UTC;
        }

        @Override
        public java.time.Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public java.time.Instant instant() {
            return now;
        }
    }

    KubernetesTaskExecutor started() {
        return started(runner, Duration.ofMinutes(5));
    }

    static ReviewTask task(String token) {
        var node = Json.mapper().createObjectNode();
        node.put("id", "task-" + UUID.randomUUID().toString().substring(0, 8));
        var repo = node.putObject("repository");
        repo.put("url", "https://git.example/acme/app.git");
        if (token != null) {
            repo.put("cloneToken", token);
        }
        node.put("branch", "feature/x");
        node.put("headSha", "0123456789abcdef0123456789abcdef01234567");
        try {
            return ReviewTask.fromJson(node);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    CompletableFuture<TaskResult> run(KubernetesTaskExecutor ex, ReviewTask task, TaskContextStub ctx) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return ex.execute(task, ctx);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    String name(ReviewTask task) {
        return PodSpecs.name(runner, task.id());
    }

    static TaskResult result(CompletableFuture<TaskResult> f) throws Exception {
        return f.get(60, TimeUnit.SECONDS);
    }

    void assertNothingLeft() {
        assertTrue(client.pods().inNamespace(NS).withLabel(PodSpecs.LABEL_RUNNER, runner).list().getItems().isEmpty(), "pods left");
        assertTrue(client.secrets().inNamespace(NS).withLabel(PodSpecs.LABEL_RUNNER, runner).list().getItems().isEmpty(), "secrets left");
    }

    static final String RESULT_JSON = "{\"status\":\"completed\",\"comments\":[],\"summary\":\"all good\"}";

    /** Runs a task through clone, review and report with the given report log; the result. */
    TaskResult happy(KubernetesTaskExecutor ex, ReviewTask task, TaskContextStub ctx, String reportLog) throws Exception {
        String name = name(task);
        kubelet.log(name, PodSpecs.CLONE, PodLogs.MAX_BYTES, "fetching branch feature/x\nchecked out 0123456\n");
        // followed live: served with timestamps (the first stream and its resume from the start of its second)
        kubelet.followLog(name, PodSpecs.REVIEW, new KubeletScript.FakeLog().add("2026-12-06T10:00:00.100Z", "reviewing 3 files")
                .add("2026-12-06T10:00:00.200Z", "printing the token " + TOKEN), "2026-12-06T10:00:00Z");
        kubelet.log(name, PodSpecs.REPORT, ResultFrame.logBytes(DockerConfig.DEFAULT_RESULT_LIMIT_BYTES), reportLog);
        CompletableFuture<TaskResult> f = run(ex, task, ctx);
        kubelet.awaitPod(name);
        kubelet.status(name, status("Pending", List.of(running(PodSpecs.CLONE)), List.of()));
        await().atMost(KubeletScript.WAIT).until(() -> ctx.phases.contains(TaskPhase.CLONING));
        kubelet.status(name, status("Pending", List.of(terminated(PodSpecs.CLONE, 0, "Completed"), running(PodSpecs.REVIEW)), List.of()));
        await().atMost(KubeletScript.WAIT).until(() -> ctx.phases.contains(TaskPhase.REVIEWING));
        kubelet.status(name, status("Succeeded", List.of(terminated(PodSpecs.CLONE, 0, "Completed"),
                terminated(PodSpecs.REVIEW, 0, "Completed")), List.of(terminated(PodSpecs.REPORT, 0, "Completed"))));
        return result(f);
    }

    @Test
    void happyPathReturnsTheFramedResultAndLeavesNothing() throws Exception {
        KubernetesTaskExecutor ex = started();
        ReviewTask task = task(TOKEN);
        TaskContextStub ctx = new TaskContextStub(Duration.ofMinutes(5));
        TaskResult r = happy(ex, task, ctx, ResultFrame.frame(RESULT_JSON.getBytes(StandardCharsets.UTF_8)));
        assertEquals(ResultStatus.COMPLETED, r.status(), String.valueOf(r.error()));
        assertEquals("all good", r.summary());
        assertEquals(0, r.stats().exitCode());
        assertEquals(List.of(TaskPhase.PREPARING, TaskPhase.CLONING, TaskPhase.REVIEWING, TaskPhase.SUBMITTING), ctx.phases);
        assertTrue(ctx.logged("checked out 0123456"), ctx.lines.toString());
        assertTrue(ctx.logged("reviewing 3 files"), ctx.lines.toString());
        assertNothingLeft();
    }

    static long count(TaskContextStub ctx, String line) {
        return ctx.lines.stream().filter(l -> l.equals("stdout: " + line)).count();
    }

    /** Starts a task and brings its pod to a running review container; the future of its result. */
    CompletableFuture<TaskResult> reviewing(KubernetesTaskExecutor ex, ReviewTask task, TaskContextStub ctx) {
        String name = name(task);
        kubelet.log(name, PodSpecs.CLONE, PodLogs.MAX_BYTES, "checked out 0123456\n");
        kubelet.log(name, PodSpecs.REPORT, ResultFrame.logBytes(DockerConfig.DEFAULT_RESULT_LIMIT_BYTES),
                ResultFrame.frame(RESULT_JSON.getBytes(StandardCharsets.UTF_8)));
        CompletableFuture<TaskResult> f = run(ex, task, ctx);
        kubelet.awaitPod(name);
        kubelet.status(name, status("Pending", List.of(terminated(PodSpecs.CLONE, 0, "Completed"), running(PodSpecs.REVIEW)), List.of()));
        return f;
    }

    void reviewEnds(String name) {
        kubelet.status(name, status("Succeeded", List.of(terminated(PodSpecs.CLONE, 0, "Completed"),
                terminated(PodSpecs.REVIEW, 0, "Completed")), List.of(terminated(PodSpecs.REPORT, 0, "Completed"))));
    }

    /**
     * The review's log reaches the task log while the review container runs (the fake kubelet ends it only after the
     * test has seen its lines), and the streams that close early (every mock stream does) are resumed without a line
     * twice: two identical "tick" lines at one timestamp stay two.
     */
    @Test
    void reviewLogArrivesLiveAndResumesWithoutDuplicates() throws Exception {
        KubernetesTaskExecutor ex = started();
        ReviewTask task = task(null);
        String name = name(task);
        TaskContextStub ctx = new TaskContextStub(Duration.ofMinutes(5));
        KubeletScript.FakeLog log = new KubeletScript.FakeLog().add("2026-12-06T10:00:00.100Z", "step 1")
                .add("2026-12-06T10:00:00.200Z", "tick").add("2026-12-06T10:00:00.200Z", "tick");
        kubelet.followLog(name, PodSpecs.REVIEW, log, "2026-12-06T10:00:00Z", "2026-12-06T10:00:01Z");
        CompletableFuture<TaskResult> f = reviewing(ex, task, ctx);
        await().atMost(KubeletScript.WAIT).pollInterval(Duration.ofMillis(10)).until(() -> count(ctx, "tick") == 2);
        assertFalse(f.isDone(), "the lines arrived while the review container runs");
        assertEquals(1, count(ctx, "step 1"));
        log.add("2026-12-06T10:00:01.000Z", "step 2"); // written later: only a resumed stream carries it
        await().atMost(KubeletScript.WAIT).pollInterval(Duration.ofMillis(10)).until(() -> ctx.logged("step 2"));
        assertFalse(f.isDone());
        assertTrue(log.served.get() >= 2, "resumed: " + log.served.get());
        reviewEnds(name);
        TaskResult r = result(f);
        assertEquals(ResultStatus.COMPLETED, r.status(), String.valueOf(r.error()));
        assertEquals(1, count(ctx, "step 1"), ctx.lines.toString());
        assertEquals(2, count(ctx, "tick"), ctx.lines.toString());
        assertEquals(1, count(ctx, "step 2"), ctx.lines.toString());
        assertFalse(ctx.logged("log gap"), ctx.lines.toString());
        assertTrue(log.served.get() <= 1 + LogFollower.MAX_RESUMES, "log streams: " + log.served.get());
        assertNothingLeft();
    }

    /** A followed review that fails: its failure message quotes the tail of the followed log, masked. */
    @Test
    void aFollowedReviewThatFailsQuotesItsTail() throws Exception {
        KubernetesTaskExecutor ex = started();
        ReviewTask task = task(TOKEN);
        String name = name(task);
        TaskContextStub ctx = new TaskContextStub(Duration.ofMinutes(5));
        kubelet.followLog(name, PodSpecs.REVIEW, new KubeletScript.FakeLog().add("2026-12-06T10:00:00.100Z", "boom with " + TOKEN),
                "2026-12-06T10:00:00Z");
        CompletableFuture<TaskResult> f = reviewing(ex, task, ctx);
        await().atMost(KubeletScript.WAIT).pollInterval(Duration.ofMillis(10)).until(() -> ctx.logged("boom with"));
        kubelet.status(name, status("Failed", List.of(terminated(PodSpecs.CLONE, 0, "Completed"),
                terminated(PodSpecs.REVIEW, 3, "Error")), List.of()));
        TaskResult r = result(f);
        assertEquals(ErrorKind.EXECUTOR_FAILED, r.error().kind());
        assertTrue(r.error().message().contains("boom with"), r.error().message());
        assertFalse(r.error().message().contains(TOKEN), r.error().message());
        assertEquals(1, ctx.lines.stream().filter(l -> l.contains("boom with")).count(), ctx.lines.toString());
        assertNothingLeft();
    }

    /** A resumed stream that no longer holds the last line delivered (the kubelet rotated the log): one gap line. */
    @Test
    void aRotatedLogIsSaidAsAGap() throws Exception {
        KubernetesTaskExecutor ex = started();
        ReviewTask task = task(null);
        String name = name(task);
        TaskContextStub ctx = new TaskContextStub(Duration.ofMinutes(5));
        KubeletScript.FakeLog log = new KubeletScript.FakeLog().add("2026-12-06T10:00:00.100Z", "before rotation");
        kubelet.followLog(name, PodSpecs.REVIEW, log, "2026-12-06T10:00:00Z", "2026-12-06T10:05:00Z");
        CompletableFuture<TaskResult> f = reviewing(ex, task, ctx);
        await().atMost(KubeletScript.WAIT).pollInterval(Duration.ofMillis(10)).until(() -> ctx.logged("before rotation"));
        log.rotate();
        log.add("2026-12-06T10:05:00.500Z", "after rotation");
        await().atMost(KubeletScript.WAIT).pollInterval(Duration.ofMillis(10)).until(() -> ctx.logged("after rotation"));
        reviewEnds(name);
        assertEquals(ResultStatus.COMPLETED, result(f).status());
        assertEquals(1, ctx.lines.stream().filter(l -> l.contains("log gap")).count(), ctx.lines.toString());
        assertEquals(1, count(ctx, "after rotation"), ctx.lines.toString());
        assertNothingLeft();
    }

    @Test
    void podSpecIsHardenedAndLimited() throws Exception {
        KubernetesTaskExecutor ex = started();
        ReviewTask task = task(TOKEN);
        TaskContextStub ctx = new TaskContextStub(Duration.ofSeconds(300));
        CompletableFuture<TaskResult> f = run(ex, task, ctx);
        Pod pod = kubelet.awaitPod(name(task));
        var spec = pod.getSpec();
        assertEquals("Never", spec.getRestartPolicy());
        assertEquals(300L, spec.getActiveDeadlineSeconds());
        assertEquals(Boolean.FALSE, spec.getAutomountServiceAccountToken());
        assertEquals(Boolean.FALSE, spec.getEnableServiceLinks());
        assertEquals(Boolean.TRUE, spec.getSecurityContext().getRunAsNonRoot());
        assertEquals("RuntimeDefault", spec.getSecurityContext().getSeccompProfile().getType());
        assertEquals(List.of(PodSpecs.CLONE, PodSpecs.REVIEW), spec.getInitContainers().stream().map(Container::getName).toList());
        assertEquals(List.of(PodSpecs.REPORT), spec.getContainers().stream().map(Container::getName).toList());
        for (Container c : Stream.concat(spec.getInitContainers().stream(), spec.getContainers().stream()).toList()) {
            var sc = c.getSecurityContext();
            assertEquals(Boolean.TRUE, sc.getRunAsNonRoot(), c.getName());
            assertEquals(10001L, sc.getRunAsUser(), c.getName());
            assertEquals(Boolean.TRUE, sc.getReadOnlyRootFilesystem(), c.getName());
            assertEquals(Boolean.FALSE, sc.getAllowPrivilegeEscalation(), c.getName());
            assertEquals(List.of("ALL"), sc.getCapabilities().getDrop(), c.getName());
            // only the review runs the executor image: the clone (token) and the report (frame) run the trusted git image
            assertEquals(c.getName().equals(PodSpecs.REVIEW) ? "registry.example/ai-review-executor:1" : DockerConfig.DEFAULT_GIT_IMAGE,
                    c.getImage(), c.getName());
            var limits = c.getResources().getLimits();
            assertEquals(limits, c.getResources().getRequests(), c.getName() + ": requests = limits");
            assertEquals(512L << 20, limits.get("memory").getNumericalAmount().longValueExact(), c.getName());
            assertEquals("1500m", limits.get("cpu").toString(), c.getName());
            boolean secretMounted = c.getVolumeMounts().stream().anyMatch(m -> m.getName().equals("task-secret"));
            assertEquals(c.getName().equals(PodSpecs.CLONE), secretMounted, c.getName() + ": the Secret is the clone's only");
        }
        assertEquals(runner, pod.getMetadata().getLabels().get(PodSpecs.LABEL_RUNNER));
        assertEquals(task.id(), pod.getMetadata().getAnnotations().get(PodSpecs.ANNOTATION_TASK));
        String json = Json.mapper().writeValueAsString(pod);
        assertFalse(json.contains(TOKEN), "no secret in the pod spec");
        ctx.cancel().cancel(CancelReason.SERVER_CANCELLED);
        assertEquals(ErrorKind.CANCELLED, result(f).error().kind());
        assertNothingLeft();
    }

    @Test
    void secretCarriesTheCloneStdinAndIsOwnedByThePod() throws Exception {
        KubernetesTaskExecutor ex = started();
        ReviewTask task = task(TOKEN);
        TaskContextStub ctx = new TaskContextStub(Duration.ofMinutes(5));
        CompletableFuture<TaskResult> f = run(ex, task, ctx);
        Pod pod = kubelet.awaitPod(name(task));
        await().atMost(KubeletScript.WAIT).until(() -> client.secrets().inNamespace(NS).withName(name(task)).get() != null);
        Secret s = client.secrets().inNamespace(NS).withName(name(task)).get();
        String stdin = new String(Base64.getDecoder().decode(s.getData().get(PodSpecs.STDIN_KEY)), StandardCharsets.UTF_8);
        assertEquals(TOKEN + "\nhttps://git.example/acme/app.git\n", stdin);
        assertTrue(s.getData().containsKey(PodSpecs.TASK_KEY));
        assertEquals("Pod", s.getMetadata().getOwnerReferences().get(0).getKind());
        assertEquals(pod.getMetadata().getName(), s.getMetadata().getOwnerReferences().get(0).getName());
        ctx.cancel().cancel(CancelReason.RUNNER_SHUTDOWN);
        assertEquals(ErrorKind.RUNNER_SHUTDOWN, result(f).error().kind());
        assertNothingLeft();
    }

    @Test
    void reviewLogIsMaskedAndTheFailureQuotesItsTail() throws Exception {
        KubernetesTaskExecutor ex = started();
        ReviewTask task = task(TOKEN);
        TaskContextStub ctx = new TaskContextStub(Duration.ofMinutes(5));
        String name = name(task);
        kubelet.log(name, PodSpecs.CLONE, PodLogs.MAX_BYTES, "checked out 0123456\n");
        kubelet.log(name, PodSpecs.REVIEW, PodLogs.MAX_BYTES, "boom with " + TOKEN + "\n");
        CompletableFuture<TaskResult> f = run(ex, task, ctx);
        kubelet.awaitPod(name);
        kubelet.status(name, status("Failed", List.of(terminated(PodSpecs.CLONE, 0, "Completed"),
                terminated(PodSpecs.REVIEW, 3, "Error")), List.of()));
        TaskResult r = result(f);
        assertEquals(ErrorKind.EXECUTOR_FAILED, r.error().kind());
        assertTrue(r.error().message().contains("exited with code 3"), r.error().message());
        assertTrue(r.error().message().contains("boom with"), r.error().message());
        assertFalse(r.error().message().contains(TOKEN), r.error().message());
        assertEquals(3, r.stats().exitCode());
        assertNothingLeft();
    }

    @Test
    void cloneFailureIsCloneFailedWithItsLog() throws Exception {
        KubernetesTaskExecutor ex = started();
        ReviewTask task = task(null);
        TaskContextStub ctx = new TaskContextStub(Duration.ofMinutes(5));
        String name = name(task);
        kubelet.log(name, PodSpecs.CLONE, PodLogs.MAX_BYTES, "clone failed: cannot fetch branch feature/x\n");
        CompletableFuture<TaskResult> f = run(ex, task, ctx);
        kubelet.awaitPod(name);
        kubelet.status(name, status("Failed", List.of(terminated(PodSpecs.CLONE, 1, "Error")), List.of()));
        TaskResult r = result(f);
        assertEquals(ErrorKind.CLONE_FAILED, r.error().kind());
        assertTrue(r.error().message().contains("cannot fetch branch feature/x"), r.error().message());
        assertTrue(ctx.logged("cannot fetch branch"), ctx.lines.toString());
        assertNothingLeft();
    }

    /** A task whose pod, once created, takes {@code status}; its result (pod and Secret checked gone). */
    TaskResult endsWith(io.fabric8.kubernetes.api.model.PodStatus status) throws Exception {
        KubernetesTaskExecutor ex = started();
        ReviewTask task = task(TOKEN);
        String name = name(task);
        kubelet.log(name, PodSpecs.CLONE, PodLogs.MAX_BYTES, "checked out 0123456\n");
        kubelet.log(name, PodSpecs.REVIEW, PodLogs.MAX_BYTES, "reviewing\n");
        CompletableFuture<TaskResult> f = run(ex, task, new TaskContextStub(Duration.ofMinutes(5)));
        kubelet.awaitPod(name);
        kubelet.status(name, status);
        TaskResult r = result(f);
        assertNotNull(r.error(), "a failure");
        assertNothingLeft();
        return r;
    }

    @Test
    void oomKillWithExitCodeZeroIsOomKilled() throws Exception {
        TaskResult r = endsWith(status("Failed", List.of(terminated(PodSpecs.CLONE, 0, "Completed"),
                terminated(PodSpecs.REVIEW, 0, "OOMKilled")), List.of()));
        assertEquals(ErrorKind.OOM_KILLED, r.error().kind());
    }

    @Test
    void activeDeadlineIsTimeout() throws Exception {
        assertEquals(ErrorKind.TIMEOUT, endsWith(podFailed("DeadlineExceeded", "Pod was active on the node longer than the specified deadline")).error().kind());
    }

    @Test
    void evictionForTheWorkspaceIsDiskLimit() throws Exception {
        TaskResult r = endsWith(podFailed("Evicted", "Usage of EmptyDir volume \"workspace\" exceeds the limit \"2Gi\"."));
        assertEquals(ErrorKind.DISK_LIMIT, r.error().kind());
        assertTrue(r.error().message().contains("exceeds the limit"), r.error().message());
    }

    @Test
    void otherEvictionIsRetryable() throws Exception {
        TaskResult r = endsWith(podFailed("Evicted", "The node was low on resource: memory."));
        assertEquals(ErrorKind.RUNNER_SHUTDOWN, r.error().kind());
        assertTrue(r.error().message().contains("low on resource"), r.error().message());
    }

    @Test
    void preemptionIsRetryable() throws Exception {
        assertEquals(ErrorKind.RUNNER_SHUTDOWN, endsWith(podFailed("Preempting", "preempted by a higher priority pod")).error().kind());
    }

    @Test
    void invalidImageFailsAtOnceWithTheKubeletsWords() throws Exception {
        TaskResult r = endsWith(status("Pending", List.of(waiting(PodSpecs.CLONE, "InvalidImageName",
                "couldn't parse image name \"bad::image\"")), List.of()));
        assertEquals(ErrorKind.EXECUTOR_FAILED, r.error().kind());
        assertTrue(r.error().message().contains("couldn't parse image name"), r.error().message());
    }

    @Test
    void pullFailureBeyondThePendingTimeoutIsExecutorFailed() throws Exception {
        ManualClock pendingClock = new ManualClock();
        KubernetesTaskExecutor ex = started(runner, new KubernetesConfig(NS, Duration.ofMillis(300)), e -> e.pendingClock(pendingClock));
        ReviewTask task = task(null);
        TaskContextStub ctx = new TaskContextStub(Duration.ofMinutes(5));
        CompletableFuture<TaskResult> f = run(ex, task, ctx);
        kubelet.awaitPod(name(task));
        kubelet.status(name(task), status("Pending", List.of(waiting(PodSpecs.CLONE, "ImagePullBackOff",
                "Back-off pulling image \"registry.example/ai-review-executor:1\"")), List.of()));
        pendingTimeRunsOutOnceSeen(ex, name(task), pendingClock);
        TaskResult r = result(f);
        assertEquals(ErrorKind.EXECUTOR_FAILED, r.error().kind());
        assertTrue(r.error().message().contains("Back-off pulling image"), r.error().message());
        assertNothingLeft();
    }

    @Test
    void unschedulableBeyondThePendingTimeoutIsRetryableAndQuotesTheScheduler() throws Exception {
        ManualClock pendingClock = new ManualClock();
        KubernetesTaskExecutor ex = started(runner, new KubernetesConfig(NS, Duration.ofMillis(300)), e -> e.pendingClock(pendingClock));
        ReviewTask task = task(null);
        TaskContextStub ctx = new TaskContextStub(Duration.ofMinutes(5));
        CompletableFuture<TaskResult> f = run(ex, task, ctx);
        kubelet.awaitPod(name(task));
        kubelet.status(name(task), status("Pending", List.of(), List.of(),
                unschedulable("0/3 nodes are available: 3 Insufficient memory.")));
        pendingTimeRunsOutOnceSeen(ex, name(task), pendingClock);
        TaskResult r = result(f);
        assertEquals(ErrorKind.RUNNER_SHUTDOWN, r.error().kind());
        assertTrue(r.error().message().contains("3 Insufficient memory"), r.error().message());
        assertNothingLeft();
    }

    @Test
    void deletionBySomeoneElseIsRetryable() throws Exception {
        KubernetesTaskExecutor ex = started();
        ReviewTask task = task(null);
        TaskContextStub ctx = new TaskContextStub(Duration.ofMinutes(5));
        CompletableFuture<TaskResult> f = run(ex, task, ctx);
        kubelet.awaitPod(name(task));
        kubelet.status(name(task), status("Running", List.of(running(PodSpecs.CLONE)), List.of()));
        await().atMost(KubeletScript.WAIT).until(() -> ctx.phases.contains(TaskPhase.CLONING));
        client.pods().inNamespace(NS).withName(name(task)).delete();
        TaskResult r = result(f);
        assertEquals(ErrorKind.RUNNER_SHUTDOWN, r.error().kind());
        assertTrue(r.error().message().contains("deleted by someone else"), r.error().message());
        assertNothingLeft();
    }

    @Test
    void forgedOrBrokenFramesFailTheTask() throws Exception {
        KubernetesTaskExecutor ex = started();
        byte[] json = RESULT_JSON.getBytes(StandardCharsets.UTF_8);
        String wrongHash = "ai-review-result ok " + json.length + " " + "0".repeat(64) + "\n"
                + Base64.getEncoder().encodeToString(json) + "\n";
        TaskContextStub ctx = new TaskContextStub(Duration.ofMinutes(5));
        TaskResult r = happy(ex, task(null), ctx, wrongHash);
        assertEquals(ErrorKind.EXECUTOR_FAILED, r.error().kind());
        assertTrue(r.error().message().contains("SHA-256"), r.error().message());
        assertNothingLeft();
    }

    @Test
    void cancelWhilePendingDeletesThePod() throws Exception {
        KubernetesTaskExecutor ex = started();
        ReviewTask task = task(null);
        TaskContextStub ctx = new TaskContextStub(Duration.ofMinutes(5));
        CompletableFuture<TaskResult> f = run(ex, task, ctx);
        kubelet.awaitPod(name(task));
        ctx.cancel().cancel(CancelReason.TASK_GONE);
        TaskResult r = result(f);
        assertEquals(ErrorKind.CANCELLED, r.error().kind());
        assertTrue(r.error().message().contains("pending"), r.error().message());
        assertNothingLeft();
    }

    @Test
    void cancelWhileReviewingDeletesThePod() throws Exception {
        KubernetesTaskExecutor ex = started();
        ReviewTask task = task(null);
        TaskContextStub ctx = new TaskContextStub(Duration.ofMinutes(5));
        kubelet.log(name(task), PodSpecs.CLONE, PodLogs.MAX_BYTES, "checked out 0123456\n");
        CompletableFuture<TaskResult> f = run(ex, task, ctx);
        kubelet.awaitPod(name(task));
        kubelet.status(name(task), status("Pending", List.of(terminated(PodSpecs.CLONE, 0, "Completed"), running(PodSpecs.REVIEW)), List.of()));
        await().atMost(KubeletScript.WAIT).until(() -> ctx.phases.contains(TaskPhase.REVIEWING));
        ctx.cancel().kill(CancelReason.SERVER_CANCELLED);
        TaskResult r = result(f);
        assertEquals(ErrorKind.CANCELLED, r.error().kind());
        assertTrue(r.error().message().contains("reviewing"), r.error().message());
        assertNothingLeft();
    }

    @Test
    void wallTimeRunsOutWhilePending() throws Exception {
        KubernetesTaskExecutor ex = started();
        ReviewTask task = task(null);
        TaskContextStub ctx = new TaskContextStub(Duration.ofMillis(700));
        TaskResult r = result(run(ex, task, ctx));
        assertEquals(ErrorKind.TIMEOUT, r.error().kind());
        assertNothingLeft();
    }

    @Test
    void aPodLeftByATimedOutCreateIsAdopted() throws Exception {
        KubernetesTaskExecutor ex = started();
        ReviewTask task = task(null);
        // what an earlier create of the same task left when its answer never came
        Pod earlier = new PodSpecs(config(runner)).pod(task, Duration.ofMinutes(5), java.time.Instant.now().plusSeconds(300));
        client.pods().inNamespace(NS).resource(earlier).create();
        TaskContextStub ctx = new TaskContextStub(Duration.ofMinutes(5));
        TaskResult r = happy(ex, task, ctx, ResultFrame.frame(RESULT_JSON.getBytes(StandardCharsets.UTF_8)));
        assertEquals(ResultStatus.COMPLETED, r.status(), String.valueOf(r.error()));
        assertNothingLeft();
    }

    @Test
    void aFullQuotaIsRetryable() throws Exception {
        KubernetesTaskExecutor ex = started();
        server.expect().post().withPath("/api/v1/namespaces/" + NS + "/pods").andReturn(403, new StatusBuilder()
                .withStatus("Failure").withCode(403).withReason("Forbidden")
                .withMessage("pods \"x\" is forbidden: exceeded quota: tasks, requested: memory=512Mi, used: memory=4Gi, limited: memory=4Gi")
                .build()).once();
        TaskResult r = result(run(ex, task(null), new TaskContextStub(Duration.ofMinutes(5))));
        assertEquals(ErrorKind.RUNNER_SHUTDOWN, r.error().kind());
        assertTrue(r.error().message().contains("exceeded quota"), r.error().message());
        assertNothingLeft();
    }

    @Test
    void refusedCloneInputsCreateNoPod() throws Exception {
        KubernetesTaskExecutor ex = started();
        var node = Json.mapper().createObjectNode();
        node.put("id", "task-bad");
        node.putObject("repository").put("url", "ext::sh -c evil");
        node.put("branch", "main");
        TaskResult r = result(run(ex, ReviewTask.fromJson(node), new TaskContextStub(Duration.ofMinutes(5))));
        assertEquals(ErrorKind.CLONE_FAILED, r.error().kind());
        assertNothingLeft();
    }

    @Test
    void startReapsThisRunnersLeftoversOnlyAndNamesTheirTasks() throws Exception {
        String other = runner + "-other";
        for (String[] owner : new String[][]{{runner, "task-left-1"}, {other, "task-theirs"}}) {
            PodSpecs specs = new PodSpecs(config(owner[0]));
            ReviewTask t = task(null);
            ReviewTask leftover = ReviewTask.fromJson(((com.fasterxml.jackson.databind.node.ObjectNode) Json.mapper()
                    .valueToTree(t.toContainerJson())).put("id", owner[1]));
            client.pods().inNamespace(NS).resource(specs.pod(leftover, Duration.ofMinutes(5), java.time.Instant.now())).create();
            client.secrets().inNamespace(NS).resource(specs.secret(leftover, java.time.Instant.now())).create();
        }
        KubernetesTaskExecutor ex = started();
        assertEquals(List.of("task-left-1"), ex.leftoverTaskIds());
        assertNothingLeft();
        assertEquals(1, client.pods().inNamespace(NS).withLabel(PodSpecs.LABEL_RUNNER, other).list().getItems().size());
        assertEquals(1, client.secrets().inNamespace(NS).withLabel(PodSpecs.LABEL_RUNNER, other).list().getItems().size());
    }

    /**
     * The executor's calls go through its {@link ApiGate}: a pod create answered 429 (Retry-After) and a report log
     * read answered 503 are retried; the task completes with one pod made and exactly one result.
     */
    @Test
    void throttledAndUnavailableCallsAreRetriedAndTheTaskCompletes() throws Exception {
        KubernetesTaskExecutor ex = started();
        ReviewTask task = task(TOKEN);
        String name = name(task);
        server.expect().post().withPath("/api/v1/namespaces/" + NS + "/pods").andReturn(429, new StatusBuilder()
                .withStatus("Failure").withCode(429).withReason("TooManyRequests").withMessage("slow down").build())
                .withHeader("Retry-After", "1").once();
        // before happy() serves the report's log: the first read of it meets a 503
        server.expect().get().withPath("/api/v1/namespaces/" + NS + "/pods/" + name + "/log?pretty=false&container=" + PodSpecs.REPORT
                + "&limitBytes=" + ResultFrame.logBytes(DockerConfig.DEFAULT_RESULT_LIMIT_BYTES)).andReturn(503, "unavailable").once();
        drain();
        TaskResult r = happy(ex, task, new TaskContextStub(Duration.ofMinutes(5)), ResultFrame.frame(RESULT_JSON.getBytes(StandardCharsets.UTF_8)));
        assertEquals(ResultStatus.COMPLETED, r.status(), String.valueOf(r.error()));
        List<RecordedRequest> calls = executorCalls(drain());
        assertEquals(2, calls.stream().filter(q -> q.getMethod().equals("POST") && q.getPath().endsWith("/pods")).count(),
                "the throttled create and its retry");
        assertEquals(2, calls.stream().filter(q -> q.getPath().contains("container=" + PodSpecs.REPORT)).count(),
                "the report's log read and its retry");
        assertEquals(1, calls.stream().filter(q -> q.getMethod().equals("DELETE") && q.getPath().endsWith("/pods/" + name)).count());
        assertNothingLeft();
    }

    /** A create the API keeps throttling beyond the call's deadline: retryable, named, no pod and no Secret left. */
    @Test
    void aCreateThrottledBeyondItsDeadlineIsRetryable() throws Exception {
        KubernetesTaskExecutor ex = started();
        server.expect().post().withPath("/api/v1/namespaces/" + NS + "/pods").andReturn(429, new StatusBuilder()
                .withStatus("Failure").withCode(429).withReason("TooManyRequests").withMessage("slow down").build())
                .withHeader("Retry-After", "600").always();
        TaskResult r = result(run(ex, task(TOKEN), new TaskContextStub(Duration.ofMinutes(5))));
        assertEquals(ErrorKind.RUNNER_SHUTDOWN, r.error().kind(), r.error().message());
        assertTrue(r.error().message().contains("HTTP 429") && r.error().message().contains("asked to retry after 600 s"),
                r.error().message());
        assertTrue(r.stats().durationMs() < ApiGate.CALL_DEADLINE.toMillis(), "ended after " + r.stats().durationMs() + " ms");
        assertNothingLeft();
    }

    /**
     * Each task object carries its deadline annotation (start + wall time + grace); the janitor deletes this runner's
     * pods and Secrets past theirs, and leaves its live task's and another runner's.
     */
    @Test
    void theJanitorDeletesOnlyThisRunnersObjectsPastTheirDeadline() throws Exception {
        KubernetesTaskExecutor ex = started(runner, new KubernetesConfig(NS, Duration.ofMinutes(5)), e -> e.janitorEvery(Duration.ofMillis(200)));
        java.time.Instant before = java.time.Instant.now();
        ReviewTask live = task(TOKEN);
        TaskContextStub ctx = new TaskContextStub(Duration.ofMinutes(5));
        CompletableFuture<TaskResult> f = run(ex, live, ctx);
        Pod livePod = kubelet.awaitPod(name(live));
        java.time.Instant after = java.time.Instant.now();
        java.time.Instant expiry = PodSpecs.expiry(livePod);
        assertNotNull(expiry, livePod.getMetadata().getAnnotations().toString());
        java.time.Instant lo = before.plus(Duration.ofMinutes(5)).plus(PodSpecs.DEADLINE_GRACE).minusSeconds(1);
        java.time.Instant hi = after.plus(Duration.ofMinutes(5)).plus(PodSpecs.DEADLINE_GRACE).plusSeconds(1);
        assertTrue(!expiry.isBefore(lo) && !expiry.isAfter(hi), expiry + " within " + lo + " .. " + hi);
        await().atMost(KubeletScript.WAIT).until(() -> client.secrets().inNamespace(NS).withName(name(live)).get() != null);
        assertEquals(expiry, PodSpecs.expiry(client.secrets().inNamespace(NS).withName(name(live)).get()));

        // an object of this runner whose task's deadline passed long ago (its deletes failed), and another runner's
        java.time.Instant longAgo = java.time.Instant.now().minus(Duration.ofMinutes(30));
        ReviewTask stale = task(null);
        PodSpecs mine = new PodSpecs(config(runner));
        client.pods().inNamespace(NS).resource(mine.pod(stale, Duration.ofMinutes(5), longAgo)).create();
        client.secrets().inNamespace(NS).resource(mine.secret(stale, longAgo)).create();
        String other = runner + "-other";
        PodSpecs theirs = new PodSpecs(config(other));
        ReviewTask otherTask = task(null);
        client.pods().inNamespace(NS).resource(theirs.pod(otherTask, Duration.ofMinutes(5), longAgo)).create();
        client.secrets().inNamespace(NS).resource(theirs.secret(otherTask, longAgo)).create();

        await().atMost(KubeletScript.WAIT).until(() -> client.pods().inNamespace(NS).withName(name(stale)).get() == null
                && client.secrets().inNamespace(NS).withName(name(stale)).get() == null);
        assertNotNull(client.pods().inNamespace(NS).withName(name(live)).get(), "the live task's pod is kept");
        assertNotNull(client.secrets().inNamespace(NS).withName(name(live)).get(), "the live task's Secret is kept");
        String otherName = PodSpecs.name(other, otherTask.id());
        assertNotNull(client.pods().inNamespace(NS).withName(otherName).get(), "another runner's pod is not this janitor's");
        assertNotNull(client.secrets().inNamespace(NS).withName(otherName).get(), "another runner's Secret is not this janitor's");
        assertFalse(f.isDone());
        ctx.cancel().cancel(CancelReason.SERVER_CANCELLED);
        assertEquals(ErrorKind.CANCELLED, result(f).error().kind());
        assertNothingLeft();
    }

    /** A Lease of {@code runnerName} last renewed a minute ago (its runner died), with a pod and a Secret it owns. */
    io.fabric8.kubernetes.api.model.coordination.v1.Lease expiredLease(String runnerName) {
        java.time.Instant old = java.time.Instant.now().minusSeconds(60);
        return client.leases().inNamespace(NS).resource(new io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder()
                .withNewMetadata().withName(RunnerLease.name(runnerName)).addToLabels(RunnerLease.LABEL, "true")
                .addToAnnotations(PodSpecs.LABEL_RUNNER, runnerName).endMetadata()
                .withNewSpec().withHolderIdentity(runnerName + "/dead").withLeaseDurationSeconds(30)
                .withRenewTime(RunnerLease.micro(old)).withAcquireTime(RunnerLease.micro(old)).endSpec().build()).create();
    }

    io.fabric8.kubernetes.api.model.coordination.v1.Lease leaseOf(String runnerName) {
        return client.leases().inNamespace(NS).withName(RunnerLease.name(runnerName)).get();
    }

    @Test
    void taskPodAndSecretAreOwnedByTheRunnersRenewedLease() throws Exception {
        KubernetesTaskExecutor ex = started();
        var lease = leaseOf(runner);
        assertNotNull(lease, "the runner's Lease");
        assertEquals(30, lease.getSpec().getLeaseDurationSeconds());
        ReviewTask task = task(TOKEN);
        TaskContextStub ctx = new TaskContextStub(Duration.ofMinutes(5));
        CompletableFuture<TaskResult> f = run(ex, task, ctx);
        Pod pod = kubelet.awaitPod(name(task));
        await().atMost(KubeletScript.WAIT).until(() -> client.secrets().inNamespace(NS).withName(name(task)).get() != null);
        Secret s = client.secrets().inNamespace(NS).withName(name(task)).get();
        for (var refs : List.of(pod.getMetadata().getOwnerReferences(), s.getMetadata().getOwnerReferences())) {
            assertTrue(refs.stream().anyMatch(o -> o.getKind().equals("Lease") && o.getApiVersion().equals("coordination.k8s.io/v1")
                    && o.getUid().equals(lease.getMetadata().getUid()) && o.getName().equals(lease.getMetadata().getName())), refs.toString());
        }
        java.time.ZonedDateTime before = lease.getSpec().getRenewTime();
        await().atMost(KubeletScript.WAIT).until(() -> ex.lease().renew());
        assertTrue(leaseOf(runner).getSpec().getRenewTime().isAfter(before) || leaseOf(runner).getSpec().getRenewTime().isEqual(before));
        ctx.cancel().cancel(CancelReason.SERVER_CANCELLED);
        assertEquals(ErrorKind.CANCELLED, result(f).error().kind());
        assertNothingLeft();
        ex.close();
        assertNull(leaseOf(runner), "a clean stop deletes its Lease");
    }

    @Test
    void aSecondLiveRunnerWithTheSameNameRefusesToStart() {
        KubernetesTaskExecutor first = new KubernetesTaskExecutor(config(runner), new KubernetesConfig(NS, Duration.ofMinutes(5)),
                server.createClient());
        executors.add(first);
        first.leaseTiming(Duration.ofSeconds(2), Duration.ofMillis(200));
        first.start();
        KubernetesTaskExecutor second = new KubernetesTaskExecutor(config(runner), new KubernetesConfig(NS, Duration.ofMinutes(5)),
                server.createClient());
        executors.add(second);
        second.leaseTiming(Duration.ofSeconds(2), Duration.ofMillis(200));
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, second::start);
        assertTrue(e.getMessage().contains("another runner named '" + runner + "' is alive"), e.getMessage());
        assertTrue(first.lease().valid(), "the first keeps its Lease");
    }

    @Test
    void aSuccessorTakesOverItsDeadPredecessorsLeaseAndReapsItsPods() throws Exception {
        var old = expiredLease(runner);
        KubernetesTaskExecutor ex = started();
        var now = leaseOf(runner);
        assertEquals(old.getMetadata().getUid(), now.getMetadata().getUid(), "the same Lease (its pods stay owned)");
        assertFalse(now.getSpec().getHolderIdentity().endsWith("/dead"), now.getSpec().getHolderIdentity());
        assertTrue(ex.lease().valid());
    }

    @Test
    void anotherRunnersExpiredLeaseIsDeletedAndALiveOneIsKept() throws Exception {
        String dead = runner + "-dead";
        expiredLease(dead);
        KubernetesTaskExecutor alive = started(runner + "-alive", Duration.ofMinutes(5));
        assertNotNull(leaseOf(runner + "-alive"));
        started();
        assertNull(leaseOf(dead), "the expired Lease is deleted: the garbage collector removes what it owns");
        assertNotNull(leaseOf(runner + "-alive"), "a live runner's Lease is kept");
        assertTrue(alive.lease().valid());
    }

    @Test
    void aRunnerThatLostItsLeaseCreatesNoPod() throws Exception {
        KubernetesTaskExecutor ex = started();
        client.leases().inNamespace(NS).withName(RunnerLease.name(runner)).delete();
        await().atMost(KubeletScript.WAIT).until(() -> leaseOf(runner) == null);
        assertFalse(ex.lease().renew());
        assertFalse(ex.lease().valid());
        ReviewTask task = task(TOKEN);
        TaskResult r = result(run(ex, task, new TaskContextStub(Duration.ofMinutes(5))));
        assertEquals(ErrorKind.RUNNER_SHUTDOWN, r.error().kind());
        assertTrue(r.error().message().contains("Lease"), r.error().message());
        assertNull(client.pods().inNamespace(NS).withName(name(task)).get(), "no pod after the Lease was lost");
    }

    /**
     * RBAC conformance and the API budget: every request the executor made (start, a task, adoption, a cancel) is one
     * the Role grants, together they use every verb it grants (the Role is no wider than needed), none is exec or
     * attach, and one task costs at most 10 calls.
     */
    @Test
    void everyRequestIsGrantedByTheRoleAndATaskCostsAtMostTenCalls() throws Exception {
        expiredLease(runner + "-dead"); // start deletes it
        drain();
        KubernetesTaskExecutor ex = started();
        List<RecordedRequest> all = new ArrayList<>(executorCalls(drain()));
        ReviewTask task = task(TOKEN);
        TaskResult r = happy(ex, task, new TaskContextStub(Duration.ofMinutes(5)), ResultFrame.frame(RESULT_JSON.getBytes(StandardCharsets.UTF_8)));
        assertEquals(ResultStatus.COMPLETED, r.status());
        // a Lease renewal is the runner's, every 10 s, not the task's
        List<RecordedRequest> oneTask = executorCalls(drain()).stream().filter(q -> !q.getPath().contains("/leases")).toList();
        assertTrue(oneTask.size() <= 10, "API calls of one task: " + oneTask.size() + " "
                + oneTask.stream().map(q -> q.getMethod() + " " + q.getPath()).toList());
        assertTrue(oneTask.stream().anyMatch(q -> q.getPath().contains("/log?container=review&follow=true&timestamps=true")),
                "the review's log is followed by the executor's client: " + oneTask.stream().map(RecordedRequest::getPath).toList());
        // worst case: create pod and Secret, clone log, the review log's stream and its resumes, report log, two deletes
        assertTrue(2 + 1 + 1 + LogFollower.MAX_RESUMES + 1 + 2 <= 10, "the bound of the resumes keeps the budget");
        all.addAll(oneTask);
        // adoption needs a get
        ReviewTask adopted = task(null);
        client.pods().inNamespace(NS).resource(new PodSpecs(config(runner)).pod(adopted, Duration.ofMinutes(5), java.time.Instant.now())).create();
        happy(ex, adopted, new TaskContextStub(Duration.ofMinutes(5)), ResultFrame.frame(RESULT_JSON.getBytes(StandardCharsets.UTF_8)));
        all.addAll(executorCalls(drain()));
        assertTrue(ex.lease().renew());
        all.addAll(executorCalls(drain()));
        Map<String, Set<String>> used = new TreeMap<>();
        for (RecordedRequest q : all) {
            String[] rv = resourceAndVerb(q);
            assertFalse(rv[0].endsWith("/exec") || rv[0].endsWith("/attach"), q.getPath());
            used.computeIfAbsent(rv[0], k -> new TreeSet<>()).add(rv[1]);
        }
        Map<String, Set<String>> granted = new TreeMap<>();
        KubernetesTaskExecutor.RBAC.forEach((res, verbs) -> granted.put(res, new TreeSet<>(verbs)));
        assertEquals(granted, used, "verbs used vs. the executor's declared verbs");
        assertEquals(granted, HelmChartTest.roleRules(HelmChartTest.render(Map.of())), "the chart's Role");
    }

    private static List<RecordedRequest> executorCalls(List<RecordedRequest> requests) {
        return requests.stream().filter(q -> EXECUTOR_AGENT.equals(q.getHeader("User-Agent"))).toList();
    }

    private List<RecordedRequest> drain() throws InterruptedException {
        List<RecordedRequest> out = new ArrayList<>();
        RecordedRequest q;
        while ((q = server.takeRequest(50, TimeUnit.MILLISECONDS)) != null) {
            out.add(q);
        }
        return out;
    }

    /** {resource, verb} of a request (core group and /apis/{group}/v1 paths). */
    static String[] resourceAndVerb(RecordedRequest q) {
        String path = q.getPath();
        String query = path.contains("?") ? path.substring(path.indexOf('?') + 1) : "";
        String[] parts = (path.contains("?") ? path.substring(0, path.indexOf('?')) : path).split("/");
        // /api/v1/namespaces/{ns}/{resource}[/{name}[/{sub}]] or /apis/{group}/v1/namespaces/...: drop the group
        if (parts.length > 2 && parts[1].equals("apis")) {
            parts = java.util.stream.Stream.concat(Stream.of(parts[0]), Arrays.stream(parts, 2, parts.length)).toArray(String[]::new);
        }
        String resource = parts.length > 5 ? parts[5] : "?";
        boolean named = parts.length > 6;
        if (parts.length > 7) {
            resource = resource + "/" + parts[7];
        }
        String verb = switch (q.getMethod()) {
            case "POST" -> "create";
            case "DELETE" -> named ? "delete" : "deletecollection";
            case "PUT" -> "update";
            case "PATCH" -> "patch";
            default -> query.contains("watch=true") ? "watch" : named ? "get" : "list";
        };
        return new String[]{resource, verb};
    }
}
