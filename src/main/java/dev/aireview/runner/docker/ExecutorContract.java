package dev.aireview.runner.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.NotFoundException;

/**
 * The part of docs/executor-contract.md the runner checks before it hands a review container its task: the image's
 * entrypoint must still be running, waiting for {@code /workspace/task.json}. An image whose command exits at once
 * (e.g. a plain {@code debian:bookworm-slim}) fails its task with {@link Violation} naming the contract, instead of a
 * raw engine error or a wrong guess about the engine.
 */
final class ExecutorContract {
    static final String DOC = "docs/executor-contract.md";

    /** The review container ended before its task arrived. */
    static final class Violation extends DockerExecutorException {
        Violation(String message) {
            super(message);
        }
    }

    private ExecutorContract() {
    }

    /** True while {@code containerId} runs (false when it ended or is gone). */
    static boolean isRunning(DockerClient docker, String containerId) {
        try {
            InspectContainerResponse.ContainerState state = docker.inspectContainerCmd(containerId).exec().getState();
            return state == null || Boolean.TRUE.equals(state.getRunning());
        } catch (NotFoundException e) {
            return false;
        }
    }

    /** Throws {@link Violation} when {@code containerId} is no longer running (or is gone); returns otherwise. */
    static void requireWaiting(DockerClient docker, String image, String containerId) {
        InspectContainerResponse.ContainerState state;
        try {
            state = docker.inspectContainerCmd(containerId).exec().getState();
        } catch (NotFoundException e) {
            throw violation(image, containerId, "was removed");
        }
        if (state == null || Boolean.TRUE.equals(state.getRunning())) {
            return;
        }
        Long exit = state.getExitCodeLong();
        throw violation(image, containerId, Boolean.TRUE.equals(state.getOOMKilled()) ? "was killed for memory (DOCKER_MEMORY_LIMIT)"
                : "exited" + (exit == null ? "" : " with code " + exit));
    }

    /** The image has no {@code git}: the checkout in its container could not run (CachedCheckout.EXIT_NO_GIT). */
    static Violation noGit(String image) {
        return new Violation("the executor image DOCKER_EXECUTOR_IMAGE='" + image + "' broke the executor contract: it has"
                + " no git, which the checkout in its container needs before task.json arrived (" + DOC + ": the image must"
                + " contain sh and git); set DOCKER_EXECUTOR_IMAGE to an executor image (e.g. one built from Dockerfile.executor)");
    }

    private static Violation violation(String image, String containerId, String what) {
        return new Violation("the executor image DOCKER_EXECUTOR_IMAGE='" + image + "' broke the executor contract: its review "
                + "container " + ContainerRunner.shortId(containerId) + " " + what + " before task.json arrived. The image's "
                + "entrypoint must keep running, wait for /workspace/task.json, then write /workspace/result.json and exit 0 ("
                + DOC + "); set DOCKER_EXECUTOR_IMAGE to an executor image (e.g. one built from Dockerfile.executor)");
    }
}
