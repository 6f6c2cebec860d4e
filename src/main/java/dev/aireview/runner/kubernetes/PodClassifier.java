package dev.aireview.runner.kubernetes;

import dev.aireview.runner.model.ErrorKind;
import io.fabric8.kubernetes.api.model.ContainerState;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStateWaiting;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodStatus;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Turns a task pod's status into a {@link PodVerdict}: the one place where Kubernetes' words become the runner's
 * error kinds (docs/kubernetes.md "Failure classification"). Pod-level reasons (deadline, eviction, disruption) come
 * first, as the containers of such a pod only show the kill; then the steps in order (clone, review, report).
 */
public final class PodClassifier {
    /** Waiting reasons that never heal: the task fails at once. */
    static final Set<String> CONFIG_ERRORS = Set.of("InvalidImageName", "CreateContainerConfigError",
            "CreateContainerError", "RunContainerError", "PreCreateHookError", "PostStartHookError");
    /** Waiting reasons that may heal (registry hiccup): failed only after the pending timeout. */
    static final Set<String> PULL_ERRORS = Set.of("ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull", "RegistryUnavailable");
    /** Pod reasons of an infrastructure failure: the task is worth retrying elsewhere. */
    static final Set<String> INFRA_REASONS = Set.of("Preempting", "NodeLost", "NodeShutdown", "Terminated",
            "UnexpectedAdmissionError", "OutOfcpu", "OutOfmemory", "OutOfpods", "NodeAffinity");
    private static final int MAX_MESSAGE = 500;

    private final Duration pendingTimeout;

    public PodClassifier(Duration pendingTimeout) {
        this.pendingTimeout = pendingTimeout;
    }

    /** The verdict on {@code pod} at {@code now}; {@code created} is when the runner created it. */
    public PodVerdict classify(Pod pod, Instant created, Instant now) {
        PodStatus status = pod.getStatus();
        boolean overdue = Duration.between(created, now).compareTo(pendingTimeout) > 0;
        if (status == null) {
            return overdue ? PodVerdict.failed(ErrorKind.RUNNER_SHUTDOWN, "the task pod got no status within "
                    + pendingTimeout.toSeconds() + " s (KUBERNETES_PENDING_TIMEOUT_SECONDS)", null, null) : PodVerdict.at(PodVerdict.Step.PENDING);
        }
        String reason = status.getReason();
        String podMessage = clip(status.getMessage());
        if ("DeadlineExceeded".equals(reason)) {
            return PodVerdict.failed(ErrorKind.TIMEOUT, "the task pod ran past its activeDeadlineSeconds and was stopped by Kubernetes", null, null);
        }
        if ("Evicted".equals(reason)) {
            String m = podMessage == null ? "" : podMessage;
            String lower = m.toLowerCase(Locale.ROOT);
            if (lower.contains("ephemeral") || lower.contains("emptydir") || lower.contains("ephemeral-storage")) {
                return PodVerdict.failed(ErrorKind.DISK_LIMIT, "the task pod was evicted for its workspace limit (DOCKER_WORKSPACE_LIMIT): " + m, null, null);
            }
            return PodVerdict.failed(ErrorKind.RUNNER_SHUTDOWN, "the task pod was evicted: " + m, null, null);
        }
        if (reason != null && INFRA_REASONS.contains(reason)) {
            return PodVerdict.failed(ErrorKind.RUNNER_SHUTDOWN, "the task pod failed for an infrastructure reason: "
                    + reason + (podMessage == null ? "" : ": " + podMessage), null, null);
        }
        PodCondition disruption = condition(status, "DisruptionTarget");
        if (disruption != null && "True".equals(disruption.getStatus())) {
            return PodVerdict.failed(ErrorKind.RUNNER_SHUTDOWN, "the task pod was disrupted: " + disruption.getReason()
                    + (disruption.getMessage() == null ? "" : ": " + clip(disruption.getMessage())), null, null);
        }

        ContainerStatus clone = container(status.getInitContainerStatuses(), PodSpecs.CLONE);
        ContainerStatus review = container(status.getInitContainerStatuses(), PodSpecs.REVIEW);
        ContainerStatus report = container(status.getContainerStatuses(), PodSpecs.REPORT);
        for (ContainerStatus c : new ContainerStatus[]{clone, review, report}) {
            PodVerdict v = waitingProblem(c, overdue);
            if (v != null) {
                return v;
            }
        }
        ContainerStateTerminated cloneEnd = terminated(clone);
        if (cloneEnd != null && !zero(cloneEnd)) {
            String why = "OOMKilled".equals(cloneEnd.getReason()) ? "the clone ran out of memory (DOCKER_MEMORY_LIMIT)" : null;
            return PodVerdict.failed(ErrorKind.CLONE_FAILED, why, cloneEnd.getExitCode(), PodSpecs.CLONE);
        }
        ContainerStateTerminated reviewEnd = terminated(review);
        if (reviewEnd != null && "OOMKilled".equals(reviewEnd.getReason())) {
            // an OOM kill can be reported with exit code 0: the reason decides
            return PodVerdict.failed(ErrorKind.OOM_KILLED, "the review container was killed for exceeding its memory limit "
                    + "(DOCKER_MEMORY_LIMIT), exit code " + reviewEnd.getExitCode(), reviewEnd.getExitCode(), PodSpecs.REVIEW);
        }
        if (reviewEnd != null && !zero(reviewEnd)) {
            return PodVerdict.failed(ErrorKind.EXECUTOR_FAILED, "the review container exited with code " + reviewEnd.getExitCode(),
                    reviewEnd.getExitCode(), PodSpecs.REVIEW);
        }
        ContainerStateTerminated reportEnd = terminated(report);
        if (reportEnd != null) {
            if (zero(reportEnd) && !"OOMKilled".equals(reportEnd.getReason())) {
                return new PodVerdict(PodVerdict.Step.DONE, null, null, reviewEnd == null ? 0 : reviewEnd.getExitCode(), null);
            }
            return PodVerdict.failed(ErrorKind.EXECUTOR_FAILED, "the report container (reading result.json) ended with code "
                    + reportEnd.getExitCode() + (reportEnd.getReason() == null ? "" : " (" + reportEnd.getReason() + ")"),
                    reviewEnd == null ? null : reviewEnd.getExitCode(), PodSpecs.REPORT);
        }
        if ("Failed".equals(status.getPhase()) || "Succeeded".equals(status.getPhase())) {
            return PodVerdict.failed(ErrorKind.EXECUTOR_FAILED, "the task pod ended (" + status.getPhase() + ")"
                    + (reason == null ? "" : ": " + reason) + (podMessage == null ? "" : ": " + podMessage)
                    + " without a result", null, null);
        }
        if (running(report) || reviewEnd != null) {
            return PodVerdict.at(PodVerdict.Step.REPORTING);
        }
        if (running(review) || cloneEnd != null) {
            return PodVerdict.at(PodVerdict.Step.REVIEWING);
        }
        if (running(clone)) {
            return PodVerdict.at(PodVerdict.Step.CLONING);
        }
        PodCondition scheduled = condition(status, "PodScheduled");
        if (overdue) {
            String why = scheduled != null && "False".equals(scheduled.getStatus())
                    ? "the task pod could not be scheduled within " + pendingTimeout.toSeconds() + " s: "
                    + scheduled.getReason() + (scheduled.getMessage() == null ? "" : ": " + clip(scheduled.getMessage()))
                    : "the task pod did not start within " + pendingTimeout.toSeconds() + " s (KUBERNETES_PENDING_TIMEOUT_SECONDS)";
            return PodVerdict.failed(ErrorKind.RUNNER_SHUTDOWN, why, null, null);
        }
        return PodVerdict.at(PodVerdict.Step.PENDING);
    }

    /** A container stuck waiting: config errors at once, pull errors after the pending timeout; else null. */
    private PodVerdict waitingProblem(ContainerStatus c, boolean overdue) {
        ContainerStateWaiting w = c == null || c.getState() == null ? null : c.getState().getWaiting();
        if (w == null || w.getReason() == null) {
            return null;
        }
        String words = c.getName() + " container: " + w.getReason() + (w.getMessage() == null ? "" : ": " + clip(w.getMessage()));
        if (CONFIG_ERRORS.contains(w.getReason())) {
            return PodVerdict.failed(ErrorKind.EXECUTOR_FAILED, "the task pod cannot start its " + words, null, null);
        }
        if (PULL_ERRORS.contains(w.getReason()) && overdue) {
            return PodVerdict.failed(ErrorKind.EXECUTOR_FAILED, "the executor image (DOCKER_EXECUTOR_IMAGE) could not be pulled within "
                    + pendingTimeout.toSeconds() + " s: " + words, null, null);
        }
        return null;
    }

    private static ContainerStatus container(List<ContainerStatus> list, String name) {
        if (list == null) {
            return null;
        }
        return list.stream().filter(c -> name.equals(c.getName())).findFirst().orElse(null);
    }

    private static ContainerStateTerminated terminated(ContainerStatus c) {
        ContainerState s = c == null ? null : c.getState();
        return s == null ? null : s.getTerminated();
    }

    private static boolean running(ContainerStatus c) {
        return c != null && c.getState() != null && c.getState().getRunning() != null;
    }

    private static boolean zero(ContainerStateTerminated t) {
        return t.getExitCode() != null && t.getExitCode() == 0;
    }

    private static PodCondition condition(PodStatus status, String type) {
        if (status.getConditions() == null) {
            return null;
        }
        return status.getConditions().stream().filter(c -> type.equals(c.getType())).findFirst().orElse(null);
    }

    /** The cluster's words, bounded and on one line. */
    static String clip(String s) {
        if (s == null || s.isBlank()) {
            return null;
        }
        String one = s.replaceAll("[\\r\\n\\t]+", " ").strip();
        return one.length() > MAX_MESSAGE ? one.substring(0, MAX_MESSAGE) + "…" : one;
    }
}
