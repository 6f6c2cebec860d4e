package dev.aireview.runner.kubernetes;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.aireview.runner.config.DockerConfig;
import dev.aireview.runner.config.KubernetesConfig;
import dev.aireview.runner.config.PullPolicy;
import dev.aireview.runner.docker.GitFixture;
import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.Json;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskPhase;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.review.FixtureRepo;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * End to end without Docker: a task goes clone → review → report → result through the Kubernetes executor, with the
 * real steps. The cluster is fabric8's mock API server in CRUD mode with a {@link LocalKubelet} that runs each task
 * pod's containers as local processes, as the pod spec the executor made says: the clone step's script (reading its
 * stdin from the mounted Secret) against a {@code git daemon} on 127.0.0.1, the review as the executor image's
 * entrypoint ({@code execute}, the real engine; from {@code Dockerfile.executor}), and the report script, whose
 * framed output the executor reads from the report container's log. The repository has a change the offline rules
 * flag, so the result's comments are known.
 *
 * <p>What a real cluster adds (scheduling, admission, isolation, limits, real kubelet timing) is in docs/kubernetes.md.
 */
class KubernetesEndToEndTest {
    static final String NS = "ai-review-tasks";
    static final String TOKEN = "tok-E2e-Sup3rSecret-77";
    /** Findings the offline rules give on {@link FixtureRepo}'s change (as ExecuteEndToEndTest reads them). */
    static final Set<String> EXPECTED = Set.of("src/Cart.java:4:warning", "src/cart.js:3:warning", "src/cart.js:4:info",
            "src/cart.js:6:error", "notes.txt:2:info");

    /** The mock server logs every request at INFO; only its warnings are kept (held: JUL loggers are weak). */
    static final java.util.logging.Logger MOCK_LOG = java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

    static {
        MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
    }

    @TempDir
    static Path tmp;

    /** Shared by the tests (they run one after the other): the git daemon, the repository and the cluster. */
    private static GitFixture git;
    private static FixtureRepo change;
    private static LocalKubelet kubelet;
    private KubernetesTaskExecutor executor;
    private String runner;
    private final ListAppender<ILoggingEvent> runnerLog = new ListAppender<>();
    private final Logger runnerLogger = (Logger) LoggerFactory.getLogger("dev.aireview.runner");

    @BeforeAll
    static void startClusterAndGit() throws Exception {
        git = GitFixture.start();
        change = FixtureRepo.create(tmp.resolve("work"));
        FixtureRepo.git(tmp, "clone", "-q", "--bare", change.dir.toString(), git.root().resolve("change.git").toString());
        kubelet = LocalKubelet.start(NS, LocalExecutorImage.fromDockerfile(), tmp.resolve("node"));
    }

    @AfterAll
    static void stopClusterAndGit() throws Exception {
        try {
            if (kubelet != null) {
                kubelet.close();
            }
        } finally {
            if (git != null) {
                git.close();
            }
        }
    }

    @BeforeEach
    void startRunner() {
        runnerLog.start();
        runnerLogger.addAppender(runnerLog);
        runner = "k8s-e2e-" + UUID.randomUUID().toString().substring(0, 8);
        DockerConfig config = new DockerConfig("unix:///unused", "registry.example/ai-review-executor:1", PullPolicy.IF_NOT_PRESENT,
                512L << 20, 1.5, "bridge", tmp.resolve("runner"), Duration.ofMinutes(10), 0, 50, 512, "10001:10001",
                Duration.ofSeconds(0), runner);
        KubernetesClient own;
        try (KubernetesClient base = kubelet.server().createClient()) {
            own = new KubernetesClientBuilder().withConfig(new ConfigBuilder(base.getConfiguration())
                    .withUserAgent(KubernetesExecutorTest.EXECUTOR_AGENT).build()).build();
        }
        executor = new KubernetesTaskExecutor(config, new KubernetesConfig(NS, Duration.ofMinutes(2)), own);
        // the mock server ends every followed stream at once (it cannot hold one open): a long first back-off (10 s,
        // then 20 s, 40 s) keeps the follower from spending its resumes while the review runs, however slow the
        // machine; the pod's end wakes it at once for the last stream, so the test does not wait for it
        executor.logBackoff(Duration.ofSeconds(10));
        executor.start();
    }

    @AfterEach
    void stopRunner() {
        try {
            executor.close();
        } finally {
            runnerLogger.detachAppender(runnerLog);
        }
    }

    ReviewTask task(String url) throws Exception {
        var node = Json.mapper().createObjectNode();
        node.put("id", "task-e2e-" + UUID.randomUUID().toString().substring(0, 8));
        node.putObject("repository").put("url", url).put("cloneToken", TOKEN);
        node.put("branch", "main");
        node.put("headSha", change.headSha);
        node.put("baseSha", change.baseSha);
        return ReviewTask.fromJson(node);
    }

    TaskResult execute(ReviewTask task, TaskContextStub ctx) throws Exception {
        CompletableFuture<TaskResult> f = CompletableFuture.supplyAsync(() -> {
            try {
                return executor.execute(task, ctx);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        try {
            return f.get(90, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("no result within 90 s; phases " + ctx.phaseMessages + ", task log " + ctx.lines
                    + ", kubelet: pods seen " + kubelet.seen.size() + ", launches " + kubelet.launches + ", problems "
                    + kubelet.problems + ", log requests " + kubelet.logRequests + ", pod now "
                    + kubelet.client().pods().inNamespace(NS).list().getItems().stream().map(p -> p.getStatus()).toList(), e);
        }
    }

    @Test
    void aReviewGoesThroughCloneReviewAndReportAsLocalProcesses() throws Exception {
        ReviewTask task = task(git.url("change.git"));
        String pod = PodSpecs.name(runner, task.id());
        TaskContextStub ctx = new TaskContextStub(Duration.ofMinutes(2));

        TaskResult r = execute(task, ctx);

        assertEquals(ResultStatus.COMPLETED, r.status(), String.valueOf(r.error()) + "\n" + ctx.lines);
        assertEquals(EXPECTED, keys(r), ctx.lines.toString());
        assertEquals(4, r.stats().filesReviewed());
        assertEquals(0, r.stats().exitCode());
        // the three steps ran, in order, each to exit 0; the review was the image's entrypoint
        List<LocalKubelet.Launch> ran = kubelet.launches(pod);
        assertEquals(List.of("clone:0", "review:0", "report:0"), ran.stream().map(l -> l.container() + ":" + l.exitCode()).toList());
        assertTrue(ran.get(1).command().containsAll(List.of(dev.aireview.runner.cli.Main.class.getName(), "execute")),
                ran.get(1).command().toString());
        // the runner's task log: its phases in order, the clone's and the review's own lines
        assertEquals(TaskPhase.PREPARING, ctx.phases.get(0), ctx.phaseMessages.toString());
        assertEquals(TaskPhase.SUBMITTING, ctx.phases.get(ctx.phases.size() - 1), ctx.phaseMessages.toString());
        assertTrue(ctx.phases.contains(TaskPhase.REVIEWING), ctx.phaseMessages.toString());
        assertInOrder(ctx.phases);
        assertTrue(ctx.logged("checked out " + change.headSha), ctx.lines.toString());
        assertTrue(ctx.logged("[review] result written: completed, 5 comment(s)"), ctx.lines.toString());
        assertFalse(ctx.logged("log gap") || ctx.logged("stopped following"), ctx.lines.toString());
        // every line the clone and the review wrote reached the task log once: none lost, none twice
        for (String container : List.of(PodSpecs.CLONE, PodSpecs.REVIEW)) {
            List<String> written = kubelet.logLines(pod, container);
            assertFalse(written.isEmpty(), container);
            for (String line : written) {
                assertEquals(written.stream().filter(line::equals).count(), ctx.lines.stream().filter(("stdout: " + line)::equals).count(),
                        container + ": " + line + " in " + ctx.lines);
            }
        }
        assertTrue(kubelet.logRequests.stream().anyMatch(q -> q.contains("container=review&follow=true&timestamps=true")),
                kubelet.logRequests.toString());

        assertNoSecretAnywhere(task, r, ctx);
        assertNothingLeft();
    }

    @Test
    void aWrongRepositoryIsCloneFailedWithTheClonesWords() throws Exception {
        ReviewTask task = task(git.missingUrl());
        String pod = PodSpecs.name(runner, task.id());
        TaskContextStub ctx = new TaskContextStub(Duration.ofMinutes(2));

        TaskResult r = execute(task, ctx);

        assertEquals(ErrorKind.CLONE_FAILED, r.error().kind(), r.error().message());
        // git daemon's words, through the clone script's
        assertTrue(r.error().message().contains("access denied or repository not exported"), r.error().message());
        assertTrue(r.error().message().contains("cannot fetch branch main"), r.error().message());
        assertTrue(ctx.logged("cannot fetch branch main"), ctx.lines.toString());
        assertEquals(List.of("clone:1"), kubelet.launches(pod).stream().map(l -> l.container() + ":" + l.exitCode()).toList(),
                "neither review nor report ran");
        assertFalse(ctx.phases.contains(TaskPhase.SUBMITTING), ctx.phaseMessages.toString());

        assertNoSecretAnywhere(task, r, ctx);
        assertNothingLeft();
    }

    /**
     * The clone token went to the pod through its Secret only (the kubelet mounted it there), and is in no pod spec,
     * no container's command or environment, no container log, no task log line or phase message, no runner log
     * event, and not in the result.
     */
    void assertNoSecretAnywhere(ReviewTask task, TaskResult r, TaskContextStub ctx) throws Exception {
        String pod = PodSpecs.name(runner, task.id());
        assertTrue(kubelet.mounted.stream().filter(s -> s.getMetadata().getName().equals(pod))
                .anyMatch(s -> new String(Base64.getDecoder().decode(s.getData().get(PodSpecs.STDIN_KEY)), StandardCharsets.UTF_8)
                        .contains(TOKEN)), "the token travelled in the mounted Secret");
        List<String> places = new ArrayList<>();
        for (Pod p : kubelet.seen) {
            places.add("pod " + Json.mapper().writeValueAsString(p));
        }
        assertFalse(kubelet.seen.isEmpty());
        for (LocalKubelet.Launch l : kubelet.launches) {
            places.add("launch " + l.command() + " " + l.env());
        }
        kubelet.allLogLines().forEach(l -> places.add("container log: " + l));
        ctx.lines.forEach(l -> places.add("task log: " + l));
        ctx.phaseMessages.forEach(l -> places.add("phase: " + l));
        runnerLog.list.forEach(e -> places.add("runner log: " + e.getFormattedMessage()
                + (e.getThrowableProxy() == null ? "" : " " + e.getThrowableProxy().getMessage())));
        places.add("result " + Json.mapper().writeValueAsString(r));
        assertFalse(runnerLog.list.isEmpty(), "the runner's log was captured");
        for (String place : places) {
            assertFalse(place.contains(TOKEN), "the clone token leaked: " + place);
        }
    }

    /** No pod, no Secret in the namespace; the kubelet's processes ended and the pod's volumes removed; no kubelet trouble. */
    void assertNothingLeft() {
        KubernetesClient c = kubelet.client();
        assertTrue(c.pods().inNamespace(NS).list().getItems().isEmpty(), "pods left");
        assertTrue(c.secrets().inNamespace(NS).list().getItems().isEmpty(), "Secrets left");
        await().atMost(KubeletScript.WAIT).until(() -> kubelet.podsOnNode().isEmpty());
        assertEquals(List.of(), kubelet.problems);
    }

    private static void assertInOrder(List<TaskPhase> phases) {
        List<TaskPhase> order = List.of(TaskPhase.PREPARING, TaskPhase.CLONING, TaskPhase.REVIEWING, TaskPhase.SUBMITTING);
        int at = -1;
        for (TaskPhase p : phases) {
            int i = order.indexOf(p);
            assertTrue(i > at, "phases out of order: " + phases);
            at = i;
        }
    }

    static Set<String> keys(TaskResult result) {
        Set<String> keys = new TreeSet<>();
        result.comments().forEach(c -> keys.add(c.path() + ":" + c.line() + ":" + c.severity().wire()));
        return keys;
    }
}
