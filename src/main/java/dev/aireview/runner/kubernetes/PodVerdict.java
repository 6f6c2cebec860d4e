package dev.aireview.runner.kubernetes;

import dev.aireview.runner.model.ErrorKind;

/**
 * What a task pod's status says now ({@link PodClassifier}).
 *
 * @param step     where the pod is, or {@link Step#DONE} / {@link Step#FAILED}
 * @param error    for {@link Step#FAILED}: why the task failed
 * @param message  for {@link Step#FAILED}: the cluster's words (for the task's error message)
 * @param exitCode exit code of the container that ended the task, when there is one
 * @param logOf    for {@link Step#FAILED}: the container whose last log lines explain the failure, or null
 */
public record PodVerdict(Step step, ErrorKind error, String message, Integer exitCode, String logOf) {

    public enum Step {
        /** Not yet scheduled or its first container not yet started. */
        PENDING,
        CLONING,
        REVIEWING,
        REPORTING,
        /** The report container exited 0: its log holds the result frame. */
        DONE,
        FAILED
    }

    static PodVerdict at(Step step) {
        return new PodVerdict(step, null, null, null, null);
    }

    static PodVerdict failed(ErrorKind error, String message, Integer exitCode, String logOf) {
        return new PodVerdict(Step.FAILED, error, message, exitCode, logOf);
    }

    public boolean terminal() {
        return step == Step.DONE || step == Step.FAILED;
    }
}
