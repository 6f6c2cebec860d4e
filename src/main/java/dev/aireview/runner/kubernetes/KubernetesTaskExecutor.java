package dev.aireview.runner.kubernetes;

import dev.aireview.runner.config.DockerConfig;
import dev.aireview.runner.config.KubernetesConfig;
import dev.aireview.runner.docker.GitClone;
import dev.aireview.runner.execution.CancelReason;
import dev.aireview.runner.execution.CancelSignal;
import dev.aireview.runner.execution.ClaimJournal;
import dev.aireview.runner.execution.DirectoryClaimJournal;
import dev.aireview.runner.execution.TaskContext;
import dev.aireview.runner.execution.TaskExecutor;
import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.LogStream;
import dev.aireview.runner.model.RepositoryUrl;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskPhase;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.model.TaskStats;
import dev.aireview.runner.observability.SecretMasker;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The Kubernetes executor: one claimed task becomes one pod ({@link PodSpecs}: clone, review, report) and one Secret,
 * followed through the runner's shared pod watch ({@link PodWatch}), judged by {@link PodClassifier}, its result read
 * from the report container's log ({@link ResultFrame}); pod and Secret are deleted whatever happens. Every API call
 * attempt runs under the client's request deadline ({@link #API_REQUEST_TIMEOUT}); every request passes the
 * {@link ApiGate} (rate limit), and every call of the executor is retried by it within a whole-call deadline.
 *
 * <p>API calls of one task: create pod, create Secret, read the clone's log, follow the review's log (1 stream, up to
 * {@link LogFollower#MAX_RESUMES} reopenings, the final read after the container's end among them), read the report's log, delete pod, delete Secret (8 with the final read, at most 10; retries come on top). Watching costs nothing per task. The verbs are those of the chart's Role:
 * {@link #RBAC}.
 */
public final class KubernetesTaskExecutor implements TaskExecutor {
    private static final Logger LOG = LoggerFactory.getLogger(KubernetesTaskExecutor.class);
    /** Deadline of every API request (and of each retry of it). */
    static final Duration API_REQUEST_TIMEOUT = Duration.ofSeconds(10);
    static final Duration API_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    /** Longest wait between two looks at a pod (timeouts are checked at least this often). */
    static final Duration RECHECK = Duration.ofSeconds(1);
    /** How long a deleted pod may take to go beyond its grace before execute returns anyway. */
    static final Duration GONE_SLACK = Duration.ofSeconds(30);
    private static final int MESSAGE_TAIL_LINES = 10;

    /** What the executor calls, by resource: exactly what deploy/helm's Role grants (KubernetesExecutorTest checks both). */
    public static final Map<String, List<String>> RBAC = Map.of(
            "pods", List.of("create", "delete", "get", "list", "watch"),
            "pods/log", List.of("get"),
            "secrets", List.of("create", "delete", "list"),
            "leases", List.of("create", "delete", "get", "list", "update"));

    private final DockerConfig config;
    private final KubernetesConfig kubernetes;
    private final PodSpecs specs;
    private final PodClassifier classifier;
    private final DirectoryClaimJournal claimJournal;
    /** Rate limit, Retry-After and retries of every API call (one policy, {@link ApiGate}). */
    private final ApiGate gate;
    /** The client's settings when the executor makes its client (null: in-cluster or kubeconfig). */
    private Config clientConfig;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile KubernetesClient client;
    private volatile String namespace;
    private volatile PodWatch watch;
    private volatile PodLogs logs;
    private volatile List<String> leftoverTaskIds = List.of();
    private volatile RunnerLease lease;
    private Duration leaseDuration = RunnerLease.DURATION;
    private Duration leaseRenewEvery = RunnerLease.RENEW_EVERY;
    /** First wait before a followed log is resumed (then 2×, 4×; {@link LogFollower#MAX_RESUMES} at most). */
    static final Duration LOG_RESUME_BACKOFF = Duration.ofSeconds(1);
    private Duration logBackoff = LOG_RESUME_BACKOFF;
    /** How often the janitor looks for this runner's objects past their deadline annotation (2 list calls a round). */
    static final Duration JANITOR_EVERY = Duration.ofMinutes(5);
    private Duration janitorEvery = JANITOR_EVERY;
    private volatile java.util.concurrent.ScheduledExecutorService janitor;

    /** Production: in-cluster credentials (service account) or the kubeconfig, connected on {@link #start()}. */
    public KubernetesTaskExecutor(DockerConfig config, KubernetesConfig kubernetes) {
        this(config, kubernetes, null);
    }

    /**
     * With a given client (tests); closed by {@link #close()}. The executor's calls are retried by its gate, but the
     * client's requests pass no rate limit unless the client was made by {@link #connect} (see {@link #connecting}).
     */
    public KubernetesTaskExecutor(DockerConfig config, KubernetesConfig kubernetes, KubernetesClient client) {
        this.config = config;
        this.kubernetes = kubernetes;
        this.client = client;
        this.specs = new PodSpecs(config);
        this.classifier = new PodClassifier(kubernetes.pendingTimeout());
        this.claimJournal = new DirectoryClaimJournal(config.workspaceBase().resolve(config.runnerName()).resolve("claims"));
        this.gate = new ApiGate(kubernetes.apiQps(), kubernetes.apiBurst());
    }

    /** An executor that makes its client from {@code base} (tests: the mock server's), as production does. */
    static KubernetesTaskExecutor connecting(DockerConfig config, KubernetesConfig kubernetes, Config base) {
        KubernetesTaskExecutor ex = new KubernetesTaskExecutor(config, kubernetes, (KubernetesClient) null);
        ex.clientConfig = base;
        return ex;
    }

    /**
     * A client with whole-request deadlines, every request through {@code gate} (rate limit, Retry-After noted), and
     * fabric8's own retry off ({@link ApiGate#call} retries the executor's calls within their deadline).
     */
    static KubernetesClient connect(Config base, KubernetesConfig kubernetes, ApiGate gate) {
        Config c = new ConfigBuilder(base)
                .withRequestTimeout((int) API_REQUEST_TIMEOUT.toMillis())
                .withConnectionTimeout((int) API_CONNECT_TIMEOUT.toMillis())
                .withRequestRetryBackoffLimit(0)
                .build();
        if (kubernetes.namespace() != null) {
            c.setNamespace(kubernetes.namespace());
        }
        return new KubernetesClientBuilder().withConfig(c)
                .withHttpClientBuilderConsumer(b -> b.addOrReplaceInterceptor("ai-review-api-gate", gate)).build();
    }

    @Override
    public void start() {
        if (client == null) {
            client = connect(clientConfig != null ? clientConfig : Config.autoConfigure(null), kubernetes, gate);
        }
        namespace = kubernetes.namespace() != null ? kubernetes.namespace()
                : client.getNamespace() != null ? client.getNamespace() : "default";
        try {
            RunnerLease l = new RunnerLease(client, namespace, config.runnerName(), leaseDuration, java.time.Clock.systemUTC());
            l.acquire();
            lease = l;
            l.startRenewing(leaseRenewEvery);
            leftoverTaskIds = new PodReaper(client, namespace, config.runnerName(), gate).reap();
            logs = new PodLogs(client, namespace, gate);
            watch = gate.call("watch this runner's pods", () -> new PodWatch(client, namespace, config.runnerName()));
            startJanitor(new PodReaper(client, namespace, config.runnerName(), gate));
        } catch (KubernetesClientException e) {
            if (e.getCode() <= 0) {
                Throwable cause = e.getCause() == null ? e : e.getCause();
                throw new IllegalStateException("the Kubernetes API at " + client.getMasterUrl() + " cannot be reached: "
                        + cause + " (in-cluster service account or KUBECONFIG: docs/kubernetes.md)", e);
            }
            throw new IllegalStateException("the Kubernetes API (namespace " + namespace + ") refused the runner: HTTP "
                    + e.getCode() + " " + e.getMessage() + " (check the runner's Role: docs/kubernetes.md)", e);
        }
        LOG.info("Kubernetes executor ready: namespace {}, image {}, pending timeout {} s", namespace,
                config.executorImage(), kubernetes.pendingTimeout().toSeconds());
    }

    private void startJanitor(PodReaper reaper) {
        janitor = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "k8s-janitor-" + config.runnerName());
            t.setDaemon(true);
            return t;
        });
        long ms = janitorEvery.toMillis();
        janitor.scheduleWithFixedDelay(() -> {
            try {
                reaper.sweepExpired(Instant.now());
            } catch (RuntimeException e) {
                LOG.warn("janitor: this runner's task pods and Secrets could not be checked: {}", e.getMessage());
            }
        }, ms, ms, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    @Override
    public List<String> leftoverTaskIds() {
        return leftoverTaskIds;
    }

    /** {@code <DOCKER_WORKSPACE_BASE>/<runner>/claims/}: on the runner's own volume (the chart mounts one). */
    @Override
    public ClaimJournal claimJournal() {
        return claimJournal;
    }

    @Override
    public String engineVersion() {
        return null;
    }

    /** The namespace task pods are made in (after {@link #start()}). */
    public String namespace() {
        return namespace;
    }

    @Override
    public TaskResult execute(ReviewTask task, TaskContext ctx) throws InterruptedException {
        if (watch == null || closed.get()) {
            throw new IllegalStateException("the Kubernetes executor is not started or already closed");
        }
        Instant started = Instant.now();
        Instant deadline = started.plus(ctx.timeout());
        String previousMdc = MDC.get("taskId");
        MDC.put("taskId", task.id());
        String name = PodSpecs.name(config.runnerName(), task.id());
        SecretMasker masker = SecretMasker.of(task.secrets());
        CancelSignal cancel = ctx.cancel();
        boolean podMade = false;
        boolean secretMade = false;
        AtomicBoolean podDeleted = new AtomicBoolean();
        PodLogs.Following following = null;
        try {
            List<String> problems = GitClone.validate(task, config.cloneDepth());
            if (!problems.isEmpty()) {
                return finish(started, TaskResult.failure(ErrorKind.CLONE_FAILED, "refusing to clone: " + String.join("; ", problems)), null);
            }
            ctx.phase(TaskPhase.PREPARING, "creating task pod " + name + " in namespace " + namespace);
            if (cancel.isCancelled()) {
                return finish(started, cancelled(cancel.reason(), "before the pod was created"), null);
            }
            if (!lease.valid()) {
                // fencing: a runner that cannot renew its Lease may have been declared dead and its pods collected
                return finish(started, TaskResult.failure(ErrorKind.RUNNER_SHUTDOWN, lease.problem()
                        + "; no task pod was created"), null);
            }
            Pod pod;
            try {
                Pod wanted = specs.pod(task, ctx.timeout(), deadline);
                wanted.getMetadata().setOwnerReferences(List.of(lease.ownerReference()));
                pod = createPod(wanted, task.id());
                podMade = true;
                secretMade = createSecret(specs.secret(task, deadline), pod);
            } catch (KubernetesClientException e) {
                // a create without an answer may have reached the server: the finally deletes what may exist
                if (e.getCode() <= 0) {
                    podMade = true;
                    secretMade = true;
                }
                return finish(started, refused(e, masker), null);
            }
            Instant created = Instant.now();
            cancel.onCancel(watch::changed);
            cancel.onKill(() -> deletePod(name, 0, podDeleted));

            PodVerdict.Step shown = PodVerdict.Step.PENDING;
            boolean seen = false;
            boolean cloneLogged = false;
            PodVerdict verdict;
            Pod last = null;
            while (true) {
                long version = watch.version();
                if (cancel.isCancelled()) {
                    deletePod(name, config.stopGrace().toSeconds(), podDeleted);
                    awaitGone(name, config.stopGrace().plus(GONE_SLACK));
                    return finish(started, cancelled(cancel.reason(), "while " + shown.name().toLowerCase()), null);
                }
                Instant now = Instant.now();
                if (!now.isBefore(deadline)) {
                    deletePod(name, 0, podDeleted);
                    awaitGone(name, GONE_SLACK);
                    return finish(started, TaskResult.failure(ErrorKind.TIMEOUT, "the task ran out of its wall time while "
                            + shown.name().toLowerCase() + "; the pod was deleted"), null);
                }
                Pod current = watch.get(name);
                if (current == null) {
                    if (seen) {
                        podDeleted.set(true);
                        return finish(started, TaskResult.failure(ErrorKind.RUNNER_SHUTDOWN,
                                "the task pod " + name + " was deleted by someone else while " + shown.name().toLowerCase()), null);
                    }
                    verdict = Duration.between(created, now).compareTo(kubernetes.pendingTimeout()) > 0
                            ? PodVerdict.failed(ErrorKind.RUNNER_SHUTDOWN, "the task pod " + name + " never showed in the watch within "
                            + kubernetes.pendingTimeout().toSeconds() + " s", null, null) : PodVerdict.at(PodVerdict.Step.PENDING);
                } else {
                    seen = true;
                    last = current;
                    verdict = classifier.classify(current, created, now);
                    if (!verdict.terminal() && current.getMetadata().getDeletionTimestamp() != null) {
                        verdict = PodVerdict.failed(ErrorKind.RUNNER_SHUTDOWN, "the task pod " + name
                                + " is being deleted by someone else", null, null);
                    }
                }
                if (verdict.terminal()) {
                    break;
                }
                if (verdict.step() != shown) {
                    shown = verdict.step();
                    if (shown == PodVerdict.Step.CLONING) {
                        ctx.phase(TaskPhase.CLONING, "cloning " + masker.mask(RepositoryUrl.redact(task.repository().url()))
                                + (task.branch() == null ? "" : " branch " + task.branch()));
                    } else if (shown == PodVerdict.Step.REVIEWING) {
                        if (!cloneLogged) {
                            logs.pump(name, PodSpecs.CLONE, ctx::log);
                            cloneLogged = true;
                        }
                        ctx.phase(TaskPhase.REVIEWING, "reviewing in pod " + name);
                        if (following == null) {
                            following = logs.follow(name, PodSpecs.REVIEW, ctx::log, () -> over(watch.get(name), PodSpecs.REVIEW),
                                    logBackoff);
                        }
                    }
                }
                watch.awaitChange(version, min(RECHECK, Duration.between(now, deadline)));
            }
            return finish(started, judge(task, name, verdict, last, cloneLogged, following, ctx, masker), verdict.exitCode());
        } finally {
            if (following != null) {
                following.stop();
            }
            if (podMade && !podDeleted.get()) {
                deletePod(name, 0, podDeleted);
            }
            if (secretMade) {
                deleteSecret(name);
            }
            if (previousMdc == null) {
                MDC.remove("taskId");
            } else {
                MDC.put("taskId", previousMdc);
            }
        }
    }

    /** The task's result from a terminal verdict: logs handed on, failures explained, the frame read on success. */
    private TaskResult judge(ReviewTask task, String name, PodVerdict verdict, Pod pod, boolean cloneLogged,
                             PodLogs.Following following, TaskContext ctx, SecretMasker masker) throws InterruptedException {
        List<String> cloneTail = List.of();
        if (!cloneLogged && ended(pod, PodSpecs.CLONE)) {
            cloneTail = logs.pump(name, PodSpecs.CLONE, ctx::log);
        }
        List<String> reviewTail = List.of();
        if (following != null) {
            // followed live: what is left of its stream, within the package's whole-call deadline
            reviewTail = following.finish(API_REQUEST_TIMEOUT);
        } else if (ended(pod, PodSpecs.REVIEW)) {
            // ended before the watch showed it running: read once
            reviewTail = logs.pump(name, PodSpecs.REVIEW, ctx::log);
        }
        if (verdict.step() == PodVerdict.Step.FAILED) {
            String message = verdict.message();
            if (verdict.error() == ErrorKind.CLONE_FAILED && message == null) {
                message = "clone failed (exit " + verdict.exitCode() + "): " + lastLines(cloneTail, masker);
            } else if (PodSpecs.REVIEW.equals(verdict.logOf()) && verdict.error() == ErrorKind.EXECUTOR_FAILED) {
                message = message + ": " + lastLines(reviewTail, masker);
            }
            return TaskResult.failure(verdict.error(), masker.mask(message));
        }
        ctx.phase(TaskPhase.SUBMITTING, "review container exited with code " + verdict.exitCode());
        String log;
        try {
            log = logs.read(name, PodSpecs.REPORT, ResultFrame.logBytes(config.resultLimitBytes()));
        } catch (KubernetesClientException e) {
            return TaskResult.failure(ErrorKind.EXECUTOR_FAILED, "the result could not be read from the report container: HTTP "
                    + e.getCode() + " " + masker.mask(String.valueOf(e.getMessage())));
        }
        ResultFrame.Read read = ResultFrame.parse(log, config.resultLimitBytes());
        if (read.result() == null) {
            LOG.warn("task {}: {}", task.id(), read.problem());
            return TaskResult.failure(ErrorKind.EXECUTOR_FAILED, read.problem());
        }
        return read.result();
    }

    private Pod createPod(Pod pod, String taskId) {
        try {
            return gate.call("create pod " + pod.getMetadata().getName(), () -> client.pods().inNamespace(namespace).resource(pod).create());
        } catch (KubernetesClientException e) {
            if (e.getCode() != 409) {
                throw e;
            }
            // an earlier create of this very pod timed out on our side but reached the server: adopt it
            Pod existing = gate.call("get pod " + pod.getMetadata().getName(),
                    () -> client.pods().inNamespace(namespace).withName(pod.getMetadata().getName()).get());
            if (existing == null || !ours(existing, taskId)) {
                throw e;
            }
            LOG.info("task pod {} existed already (an earlier create timed out); adopting it", pod.getMetadata().getName());
            return existing;
        }
    }

    /** Creates the Secret owned by {@code pod} and the runner's Lease (the garbage collector removes it with either). */
    private boolean createSecret(Secret secret, Pod pod) {
        secret.getMetadata().setOwnerReferences(List.of(new OwnerReferenceBuilder().withApiVersion("v1").withKind("Pod")
                .withName(pod.getMetadata().getName()).withUid(pod.getMetadata().getUid()).withBlockOwnerDeletion(false)
                .build(), lease.ownerReference()));
        try {
            gate.call("create Secret " + secret.getMetadata().getName(), () -> client.secrets().inNamespace(namespace).resource(secret).create());
        } catch (KubernetesClientException e) {
            if (e.getCode() != 409) {
                throw e;
            }
            LOG.info("task Secret {} existed already (an earlier create timed out); using it", secret.getMetadata().getName());
        }
        return true;
    }

    private boolean ours(Pod pod, String taskId) {
        Map<String, String> labels = pod.getMetadata().getLabels();
        Map<String, String> annotations = pod.getMetadata().getAnnotations();
        return labels != null && config.runnerName().equals(labels.get(PodSpecs.LABEL_RUNNER))
                && annotations != null && taskId.equals(annotations.get(PodSpecs.ANNOTATION_TASK));
    }

    /** A create the API server refused: a full ResourceQuota is retryable, anything else names the refusal. */
    private static TaskResult refused(KubernetesClientException e, SecretMasker masker) {
        String words = masker.mask(String.valueOf(e.getStatus() != null && e.getStatus().getMessage() != null
                ? e.getStatus().getMessage() : e.getMessage()));
        if (e.getCode() == 403 && words.contains("exceeded quota")) {
            return TaskResult.failure(ErrorKind.RUNNER_SHUTDOWN, "the task namespace's ResourceQuota is full; the task pod "
                    + "was not created: " + PodClassifier.clip(words));
        }
        if (ApiGate.retryable(e)) {
            // throttled, failing or silent beyond the call's retries and deadline: the cluster's trouble, retryable
            return TaskResult.failure(ErrorKind.RUNNER_SHUTDOWN, "the Kubernetes API did not take the task pod "
                    + (e.getCode() > 0 ? "(HTTP " + e.getCode() + ")" : "(no answer)") + ": " + PodClassifier.clip(words));
        }
        return TaskResult.failure(ErrorKind.EXECUTOR_FAILED, "the Kubernetes API refused the task pod (HTTP " + e.getCode() + "): "
                + PodClassifier.clip(words));
    }

    private void deletePod(String name, long graceSeconds, AtomicBoolean deleted) {
        if (graceSeconds > 0 && deleted.get()) {
            return;
        }
        try {
            gate.call("delete pod " + name, () -> client.pods().inNamespace(namespace).withName(name).withGracePeriod(graceSeconds).delete());
            deleted.set(true);
        } catch (KubernetesClientException e) {
            LOG.warn("task pod {} could not be deleted ({}); the next start of this runner removes it", name, e.getMessage());
        }
    }

    private void deleteSecret(String name) {
        try {
            gate.call("delete Secret " + name, () -> client.secrets().inNamespace(namespace).withName(name).delete());
        } catch (KubernetesClientException e) {
            LOG.warn("task Secret {} could not be deleted ({}); it goes with its pod, or at the next start", name, e.getMessage());
        }
    }

    /** Waits (through the watch) until the pod is gone from the cache, at most {@code max}. */
    private void awaitGone(String name, Duration max) throws InterruptedException {
        Instant until = Instant.now().plus(max);
        while (watch.get(name) != null) {
            long version = watch.version();
            Duration left = Duration.between(Instant.now(), until);
            if (left.isNegative() || left.isZero()) {
                LOG.warn("task pod {} was still there {} s after its deletion", name, max.toSeconds());
                return;
            }
            watch.awaitChange(version, min(left, RECHECK));
        }
    }

    /** For a log follower: the container has ended, or the pod is gone or over (nothing more will be written). */
    private static boolean over(Pod pod, String container) {
        return pod == null || ended(pod, container) || (pod.getStatus() != null
                && ("Succeeded".equals(pod.getStatus().getPhase()) || "Failed".equals(pod.getStatus().getPhase())));
    }

    private static boolean ended(Pod pod, String container) {
        if (pod == null || pod.getStatus() == null) {
            return false;
        }
        List<ContainerStatus> all = new java.util.ArrayList<>();
        if (pod.getStatus().getInitContainerStatuses() != null) {
            all.addAll(pod.getStatus().getInitContainerStatuses());
        }
        return all.stream().anyMatch(c -> container.equals(c.getName()) && c.getState() != null
                && c.getState().getTerminated() != null);
    }

    private static TaskResult cancelled(CancelReason reason, String when) {
        CancelReason r = reason == null ? CancelReason.RUNNER_SHUTDOWN : reason;
        return TaskResult.failure(r.errorKind(), "cancelled " + when + " (" + r.name().toLowerCase() + "); the pod was deleted");
    }

    private static TaskResult finish(Instant started, TaskResult result, Integer exitCode) {
        TaskStats s = result.stats();
        return result.withStats(new TaskStats(Duration.between(started, Instant.now()).toMillis(), s.queueToStartMs(),
                exitCode != null ? exitCode : s.exitCode(), s.filesReviewed()));
    }

    private static String lastLines(List<String> tail, SecretMasker masker) {
        List<String> last = tail.subList(Math.max(0, tail.size() - MESSAGE_TAIL_LINES), tail.size());
        String text = String.join("\n", last).strip();
        return text.isEmpty() ? "(no output)" : masker.mask(text);
    }

    private static Duration min(Duration a, Duration b) {
        Duration m = a.compareTo(b) <= 0 ? a : b;
        return m.isNegative() ? Duration.ZERO : m;
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (janitor != null) {
            janitor.shutdownNow();
        }
        if (watch != null) {
            watch.close();
        }
        if (lease != null) {
            lease.close();
        }
        if (client != null) {
            client.close();
        }
    }

    /** Lease timing (tests; before {@link #start()}). */
    void leaseTiming(Duration duration, Duration renewEvery) {
        this.leaseDuration = duration;
        this.leaseRenewEvery = renewEvery;
    }

    /** The janitor's period (tests; before {@link #start()}). */
    void janitorEvery(Duration every) {
        this.janitorEvery = every;
    }

    /** The pod as the runner's watch shows it (tests). */
    Pod watchedPod(String name) {
        return watch.get(name);
    }

    /** The API gate (tests). */
    ApiGate gate() {
        return gate;
    }

    /** First back-off of a log resume (tests). */
    void logBackoff(Duration base) {
        this.logBackoff = base;
    }

    /** The runner's Lease (tests). */
    RunnerLease lease() {
        return lease;
    }

    /** The client (tests). */
    KubernetesClient client() {
        return Objects.requireNonNull(client);
    }
}
