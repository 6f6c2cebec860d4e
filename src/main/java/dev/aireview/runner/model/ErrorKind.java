package dev.aireview.runner.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/**
 * Why a task did not complete (PROTOCOL.md "result.error.kind"). {@code disk_limit}: the task's workspace grew past
 * DOCKER_WORKSPACE_LIMIT and its container was killed.
 */
public enum ErrorKind {
    CLONE_FAILED, IMAGE_MISSING, TIMEOUT, OOM_KILLED, DISK_LIMIT, EXECUTOR_FAILED, BAD_TASK, CANCELLED, RUNNER_SHUTDOWN;

    @JsonValue
    public String wire() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    @JsonCreator
    public static ErrorKind fromWire(String value) {
        if (value == null) {
            return null;
        }
        try {
            return valueOf(value.trim().toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            return EXECUTOR_FAILED;
        }
    }
}
