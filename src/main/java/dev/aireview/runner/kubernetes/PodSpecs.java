package dev.aireview.runner.kubernetes;

import dev.aireview.runner.config.DockerConfig;
import dev.aireview.runner.docker.ContainerSpecs;
import dev.aireview.runner.docker.GitClone;
import dev.aireview.runner.model.Json;
import dev.aireview.runner.model.ReviewTask;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the two objects of a task: its Secret (the clone's stdin and task.json) and its pod. The pod runs three
 * steps in order, as init containers run one after the other:
 * <ol>
 *   <li>{@code clone} (init): the clone script ({@link GitClone#SCRIPT}) in the trusted git image (RUNNER_GIT_IMAGE,
 *       docker/git/Dockerfile), never the executor image, with its stdin read from the Secret, mounted here only; then
 *       task.json is copied into the workspace;</li>
 *   <li>{@code review} (init): the executor image's own entrypoint, unchanged contract (docs/executor-contract.md);</li>
 *   <li>{@code report}: in the trusted git image too (the executor image's own {@code sh} could print a forged
 *       frame), a fixed script that checks result.json (regular file, size cap) after the review has ended and
 *       prints it framed with its length and SHA-256 ({@link ResultFrame}); the review cannot write to its log.</li>
 * </ol>
 * Every container: non-root, read-only root, no capabilities, no privilege escalation, seccomp RuntimeDefault,
 * memory request = limit (DOCKER_MEMORY_LIMIT), CPU (DOCKER_CPU_LIMIT); the pod: restartPolicy Never,
 * activeDeadlineSeconds, no service-account token, no service links; workspace and /tmp are emptyDirs with size limits.
 */
public final class PodSpecs {
    public static final String CLONE = "clone";
    public static final String REVIEW = "review";
    public static final String REPORT = "report";
    /** Labels every object of the executor carries; values are label-safe (the task id is in an annotation). */
    public static final String LABEL_RUNNER = "ai-review.dev/runner";
    public static final String LABEL_MANAGED = "ai-review.dev/managed";
    public static final String LABEL_TASK_HASH = "ai-review.dev/task-hash";
    public static final String ANNOTATION_TASK = "ai-review.dev/task-id";
    /**
     * When the runner has stopped caring about the object: the task's wall-time deadline plus {@link #DEADLINE_GRACE}
     * (by then execute has deleted it, or given up on deleting it). The janitor ({@link PodReaper#sweepExpired})
     * deletes this runner's objects past it, a backstop beside activeDeadlineSeconds.
     */
    public static final String ANNOTATION_DEADLINE = "ai-review.dev/deadline";
    /**
     * After the task's deadline, how long execute may still be busy with its objects: the delete at the deadline
     * and the wait for the pod to go ({@code GONE_SLACK}), the Secret's delete (each call within its deadline).
     */
    public static final java.time.Duration DEADLINE_GRACE = java.time.Duration.ofMinutes(2);
    static final String SECRET_DIR = "/run/ai-review";
    static final String STDIN_KEY = "clone-stdin";
    static final String TASK_KEY = "task.json";
    /** Size of /tmp (as the Docker path's tmpfs): memory-backed, counted against the pod's memory. */
    static final String TMP_SIZE = "256Mi";

    private final DockerConfig config;

    public PodSpecs(DockerConfig config) {
        this.config = config;
    }

    /**
     * The deterministic name of a task's pod and Secret: {@code ai-review-} and 20 hex digits of SHA-256 over runner
     * name and task id. A create that timed out and is retried meets its own object (409) and adopts it.
     */
    public static String name(String runnerName, String taskId) {
        return "ai-review-" + hash(runnerName + "\n" + taskId).substring(0, 20);
    }

    public static Map<String, String> runnerSelector(String runnerName) {
        return Map.of(LABEL_RUNNER, runnerName, LABEL_MANAGED, "true");
    }

    Map<String, String> labels(String taskId) {
        Map<String, String> m = new LinkedHashMap<>(runnerSelector(config.runnerName()));
        m.put(LABEL_TASK_HASH, hash(taskId).substring(0, 20));
        return m;
    }

    private static Map<String, String> annotations(String taskId, Instant deadline) {
        return Map.of(ANNOTATION_TASK, taskId, ANNOTATION_DEADLINE, deadline.plus(DEADLINE_GRACE).toString());
    }

    /** The instant of an object's deadline annotation; null when it has none or it does not parse. */
    static Instant expiry(io.fabric8.kubernetes.api.model.HasMetadata o) {
        Map<String, String> a = o.getMetadata().getAnnotations();
        String v = a == null ? null : a.get(ANNOTATION_DEADLINE);
        if (v == null) {
            return null;
        }
        try {
            return Instant.parse(v);
        } catch (java.time.format.DateTimeParseException e) {
            return null;
        }
    }

    /** The task's Secret: the clone's stdin (token and URL) and task.json (which may carry the AI key). */
    public Secret secret(ReviewTask task, Instant deadline) {
        byte[] taskJson;
        try {
            taskJson = Json.mapper().writeValueAsBytes(task.toContainerJson());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("task.json could not be written: " + e.getOriginalMessage(), e);
        }
        Base64.Encoder b64 = Base64.getEncoder();
        return new SecretBuilder()
                .withNewMetadata()
                .withName(name(config.runnerName(), task.id()))
                .withLabels(labels(task.id()))
                .withAnnotations(annotations(task.id(), deadline))
                .endMetadata()
                .withType("Opaque")
                .withImmutable(true)
                .withData(Map.of(STDIN_KEY, b64.encodeToString(GitClone.stdin(task)),
                        TASK_KEY, b64.encodeToString(taskJson)))
                .build();
    }

    /** The task's pod; {@code wallTime} becomes activeDeadlineSeconds (the cluster's own backstop). */
    public Pod pod(ReviewTask task, Duration wallTime, Instant deadline) {
        String name = name(config.runnerName(), task.id());
        long[] ids = numericUser(config.user());
        VolumeMount workspace = mount("workspace", ContainerSpecs.WORKSPACE, false);
        VolumeMount tmp = mount("tmp", "/tmp", false);
        List<EnvVar> cloneEnv = env(GitClone.env(task, config.cloneDepth()));
        cloneEnv.add(new EnvVar("HOME", "/tmp", null));
        Container clone = hardened(new ContainerBuilder()
                .withName(CLONE)
                .withImage(config.gitImage())
                .withCommand("sh", "-c", cloneScript())
                .withWorkingDir(ContainerSpecs.WORKSPACE)
                .withEnv(cloneEnv)
                .withVolumeMounts(workspace, tmp, mount("task-secret", SECRET_DIR, true)), ids);
        List<String> reviewEnv = new ArrayList<>(ContainerSpecs.reviewEnv());
        reviewEnv.add("AI_REVIEW_WARM_UP=false");
        Container review = hardened(new ContainerBuilder()
                .withName(REVIEW)
                .withImage(config.executorImage())
                .withEnv(env(reviewEnv))
                .withVolumeMounts(workspace, tmp), ids);
        Container report = hardened(new ContainerBuilder()
                .withName(REPORT)
                .withImage(config.gitImage())
                .withCommand("sh", "-c", ResultFrame.SCRIPT)
                .withEnv(new EnvVar(ResultFrame.LIMIT_ENV, Long.toString(config.resultLimitBytes()), null))
                .withVolumeMounts(mount("workspace", ContainerSpecs.WORKSPACE, true), tmp), ids);
        PodBuilder pod = new PodBuilder()
                .withNewMetadata()
                .withName(name)
                .withLabels(labels(task.id()))
                .withAnnotations(annotations(task.id(), deadline))
                .endMetadata()
                .withNewSpec()
                .withRestartPolicy("Never")
                .withActiveDeadlineSeconds(Math.max(1, wallTime.toSeconds()))
                .withAutomountServiceAccountToken(false)
                .withEnableServiceLinks(false)
                .withTerminationGracePeriodSeconds(config.stopGrace().toSeconds())
                .withRuntimeClassName(config.runtime())
                .withNewSecurityContext()
                .withRunAsNonRoot(true)
                .withRunAsUser(ids == null ? null : ids[0])
                .withRunAsGroup(ids == null ? null : ids[1])
                .withFsGroup(ids == null ? null : ids[1])
                .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile()
                .endSecurityContext()
                .withInitContainers(clone, review)
                .withContainers(report)
                .addNewVolume().withName("workspace").withNewEmptyDir()
                .withSizeLimit(config.workspaceLimitBytes() > 0 ? new Quantity(Long.toString(config.workspaceLimitBytes())) : null)
                .endEmptyDir().endVolume()
                .addNewVolume().withName("tmp").withNewEmptyDir().withMedium("Memory").withSizeLimit(new Quantity(TMP_SIZE))
                .endEmptyDir().endVolume()
                .addNewVolume().withName("task-secret").withNewSecret().withSecretName(name).withDefaultMode(0440)
                .endSecret().endVolume()
                .endSpec();
        return pod.build();
    }

    /** Clone step: the shared clone script reading the Secret as its stdin, then task.json into the workspace. */
    static String cloneScript() {
        return "exec 0<" + SECRET_DIR + "/" + STDIN_KEY + "\n" + GitClone.SCRIPT
                + "cp " + SECRET_DIR + "/" + TASK_KEY + " " + ContainerSpecs.WORKSPACE + "/task.json || die 'cannot write task.json'\n";
    }

    private Container hardened(ContainerBuilder b, long[] ids) {
        SecurityContext sc = new SecurityContextBuilder()
                .withRunAsNonRoot(true)
                .withRunAsUser(ids == null ? null : ids[0])
                .withRunAsGroup(ids == null ? null : ids[1])
                .withReadOnlyRootFilesystem(true)
                .withAllowPrivilegeEscalation(false)
                .withPrivileged(false)
                .withNewCapabilities().withDrop("ALL").endCapabilities()
                .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile()
                .build();
        return b.withImagePullPolicy(pullPolicy())
                .withSecurityContext(sc)
                .withResources(resources())
                .withTerminationMessagePolicy("FallbackToLogsOnError")
                .build();
    }

    ResourceRequirements resources() {
        ResourceRequirementsBuilder r = new ResourceRequirementsBuilder();
        Map<String, Quantity> limits = new LinkedHashMap<>();
        if (config.memoryBytes() > 0) {
            limits.put("memory", new Quantity(Long.toString(config.memoryBytes())));
        }
        if (config.cpus() > 0) {
            limits.put("cpu", new Quantity(Math.max(1, Math.round(config.cpus() * 1000)) + "m"));
        }
        if (config.workspaceLimitBytes() > 0) {
            limits.put("ephemeral-storage", new Quantity(Long.toString(config.workspaceLimitBytes())));
        }
        return r.withLimits(limits).withRequests(new LinkedHashMap<>(limits)).build();
    }

    private String pullPolicy() {
        return switch (config.pullPolicy()) {
            case ALWAYS -> "Always";
            case NEVER -> "Never";
            default -> "IfNotPresent";
        };
    }

    private static VolumeMount mount(String volume, String path, boolean readOnly) {
        return new VolumeMountBuilder().withName(volume).withMountPath(path).withReadOnly(readOnly).build();
    }

    private static List<EnvVar> env(List<String> pairs) {
        List<EnvVar> out = new ArrayList<>();
        for (String p : pairs) {
            int eq = p.indexOf('=');
            out.add(new EnvVar(p.substring(0, eq), p.substring(eq + 1), null));
        }
        return out;
    }

    /** {uid, gid} of a numeric DOCKER_USER ({@code uid[:gid]}), or null for a named user (the image's USER then). */
    static long[] numericUser(String user) {
        if (user == null || !user.matches("\\d+(:\\d+)?")) {
            return null;
        }
        String[] p = user.split(":");
        long uid = Long.parseLong(p[0]);
        return new long[]{uid, p.length > 1 ? Long.parseLong(p[1]) : uid};
    }

    static String hash(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
