package dev.aireview.runner.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.command.WaitContainerResultCallback;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.exception.NotModifiedException;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.WaitResponse;
import dev.aireview.runner.execution.CancelReason;
import dev.aireview.runner.execution.CancelSignal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs one container to its end: follows its output into a {@link LogPump}, waits for it to exit, and stops it
 * at the deadline (kill) or on cancel (stop with grace, then kill). The caller removes the container.
 */
final class ContainerRunner {
    private static final Logger LOG = LoggerFactory.getLogger(ContainerRunner.class);
    private static final long LOG_DRAIN_MILLIS = 10_000;
    /** How long attaching to a container's output may take before it is started anyway. */
    private static final long ATTACH_MILLIS = 30_000;
    /** A wait cut this many times while the container keeps running is given up (the outcome is {@link End#LOST}). */
    static final int MAX_REFOLLOWS = 20;

    /** How waiting ended; {@code LOST}: the container could not be followed to its end (an infrastructure failure). */
    enum End { EXITED, TIMED_OUT, CANCELLED, LOST }

    /**
     * How a container ended: exit code and OOM flag as Docker reports them, the last log lines, and for
     * {@link End#LOST} why it was lost.
     */
    record Outcome(End end, Integer exitCode, boolean oomKilled, CancelReason cancelReason, List<String> tail, String lost) {
        Outcome(End end, Integer exitCode, boolean oomKilled, CancelReason cancelReason, List<String> tail) {
            this(end, exitCode, oomKilled, cancelReason, tail, null);
        }
    }

    /**
     * An interrupt of the worker thread cancels the container; the flag is parked here (not restored at once, so the
     * clean-up calls to Docker still work) and restored by {@link #restoreInterrupt()} at the end of the task.
     */
    private static final ThreadLocal<Boolean> INTERRUPTED = new ThreadLocal<>();

    private final DockerClient docker;
    private final Duration stopGrace;

    /** Re-asserts an interrupt parked while a container was being waited for on this thread. */
    static void restoreInterrupt() {
        if (Boolean.TRUE.equals(INTERRUPTED.get())) {
            INTERRUPTED.remove();
            Thread.currentThread().interrupt();
        }
    }

    ContainerRunner(DockerClient docker, Duration stopGrace) {
        this.docker = docker;
        this.stopGrace = stopGrace;
    }

    /** Starts {@code containerId} unless {@code alreadyStarted}, then follows it to the end. */
    Outcome run(String containerId, boolean alreadyStarted, LogPump pump, Instant deadline, CancelSignal cancel) {
        return run(containerId, alreadyStarted, pump, deadline, cancel, null);
    }

    /**
     * As {@link #run(String, boolean, LogPump, Instant, CancelSignal)}, writing {@code stdin} (when not null) to the
     * container's standard input after the start and closing it: secrets for the container's process that must not
     * be in its configuration ({@code docker inspect}). The container must be created with stdin open, once.
     */
    Outcome run(String containerId, boolean alreadyStarted, LogPump pump, Instant deadline, CancelSignal cancel, byte[] stdin) {
        return run(containerId, alreadyStarted, pump, deadline, cancel, stdin, null);
    }

    /**
     * As above; {@code go} (when not null) runs once the output is followed, before the wait: what sets a started
     * container going (its task file), so that nothing it prints is missed.
     *
     * <p>The output is followed by attaching to the container before it is started (or before {@code go}), not by
     * reading the engine's log: that log is bounded (json-file, 2 files of 1 MB, {@link ContainerSpecs}) and rotates, so a reader
     * that lags would lose lines, while an attached stream holds the container back instead. A container started
     * earlier gets what it printed before (at most that bounded log) replayed first.
     *
     * <p>A wait stream that ends without an exit status (a proxy or the engine closed it) is not an exit: the
     * container is inspected and, while it runs, followed again until the deadline; when it cannot be inspected the
     * outcome is {@link End#LOST} (an infrastructure failure, the container killed). The exit code is read only once
     * the container has stopped.
     */
    Outcome run(String containerId, boolean alreadyStarted, LogPump pump, Instant deadline, CancelSignal cancel, byte[] stdin,
                Runnable go) {
        AtomicReference<CompletableFuture<Object>> current = new AtomicReference<>(new CompletableFuture<>());
        cancel.onCancel(() -> current.get().complete(End.CANCELLED));
        if (cancel.isCancelled()) {
            return new Outcome(End.CANCELLED, null, false, cancel.reason(), List.of());
        }
        // the scheduler's escalation, from its own thread: this one may be stuck in the stop call
        cancel.onKill(() -> kill(containerId));
        // a started container's earlier output (a pooled one's, before its task) is replayed from its log first
        docker.attachContainerCmd(containerId).withFollowStream(true).withStdOut(true).withStdErr(true).withLogs(alreadyStarted)
                .exec(pump);
        if (!awaitAttached(containerId, pump, deadline)) {
            return new Outcome(End.TIMED_OUT, null, false, null, pump.tail(), null);
        }
        if (!alreadyStarted) {
            docker.startContainerCmd(containerId).exec();
        }
        if (go != null) {
            go.run();
        }
        ResultCallback.Adapter<Frame> input = null;
        if (stdin != null) {
            try {
                input = docker.attachContainerCmd(containerId).withStdIn(new ByteArrayInputStream(stdin)).withFollowStream(true)
                        .withStdOut(false).withStdErr(false).exec(new ResultCallback.Adapter<>());
            } catch (RuntimeException e) {
                // the process would wait for its input until the deadline: end it now (it exits non-zero)
                LOG.warn("could not write the standard input of container {} ({}); killing it", shortId(containerId), e.getMessage());
                kill(containerId);
            }
        }
        End end = null;
        Integer waitedCode = null;
        String lost = null;
        int refollows = 0;
        while (end == null) {
            CompletableFuture<Object> ended = current.get();
            if (cancel.isCancelled()) {
                ended.complete(End.CANCELLED);
            }
            WaitContainerResultCallback waiter = follow(containerId, ended);
            Object how = awaitEnd(ended, deadline);
            closeQuietly(waiter);
            if (how == End.TIMED_OUT) {
                end = End.TIMED_OUT;
                kill(containerId);
            } else if (how == End.CANCELLED) {
                end = End.CANCELLED;
                stop(containerId);
            } else if (how instanceof Integer code) {
                end = End.EXITED;
                waitedCode = code;
            } else {
                // the wait ended without an exit status: look before judging
                LOG.debug("the wait on container {} ended without a status ({})", shortId(containerId), how);
                Boolean running = runningOrNull(containerId);
                if (running == null) {
                    end = End.LOST;
                    lost = "the engine's wait on container " + shortId(containerId) + " was cut and the container cannot be inspected";
                    kill(containerId);
                } else if (!running) {
                    end = End.EXITED;
                } else if (++refollows > MAX_REFOLLOWS) {
                    end = End.LOST;
                    lost = "the engine's wait on container " + shortId(containerId) + " was cut " + refollows
                            + " times while it kept running";
                    kill(containerId);
                } else {
                    LOG.warn("the wait on running container {} was cut ({}); following it again", shortId(containerId), how);
                    current.set(new CompletableFuture<>());
                }
            }
        }
        if (input != null) {
            closeQuietly(input);
        }
        pump.drain(LOG_DRAIN_MILLIS);
        if (end == End.EXITED && Integer.valueOf(0).equals(waitedCode)) {
            // The wait answered exit 0: not OOM-killed (that is 137) and not running; no inspect round trip needed.
            return new Outcome(end, 0, false, null, pump.tail(), null);
        }
        Integer exitCode = null;
        boolean oom = false;
        try {
            InspectContainerResponse.ContainerState state = docker.inspectContainerCmd(containerId).exec().getState();
            if (state != null && !Boolean.TRUE.equals(state.getRunning())) {
                // read only once it has stopped: a running container's exit code is not one
                exitCode = state.getExitCodeLong() == null ? null : state.getExitCodeLong().intValue();
                oom = Boolean.TRUE.equals(state.getOOMKilled());
            }
        } catch (NotFoundException e) {
            LOG.debug("container {} vanished before inspection", shortId(containerId));
        } catch (RuntimeException e) {
            LOG.debug("inspecting container {} failed: {}", shortId(containerId), e.toString());
        }
        if (exitCode == null && waitedCode != null) {
            exitCode = waitedCode;
        }
        return new Outcome(end, exitCode, oom, end == End.CANCELLED ? cancelReasonOf(cancel) : null, pump.tail(), lost);
    }

    /** Follows the container's wait into {@code ended}: its exit status, or what ended the stream without one. */
    private WaitContainerResultCallback follow(String containerId, CompletableFuture<Object> ended) {
        try {
            return docker.waitContainerCmd(containerId).exec(new WaitContainerResultCallback() {
                @Override
                public void onNext(WaitResponse response) {
                    ended.complete(response.getStatusCode());
                    super.onNext(response);
                }

                @Override
                public void onError(Throwable throwable) {
                    ended.complete(throwable);
                    super.onError(throwable);
                }

                @Override
                public void onComplete() {
                    ended.complete("the stream ended");
                    super.onComplete();
                }
            });
        } catch (RuntimeException e) {
            ended.complete(e);
            return null;
        }
    }

    /** True while running, false once stopped (or gone), null when the engine cannot say. */
    private Boolean runningOrNull(String containerId) {
        try {
            InspectContainerResponse.ContainerState state = docker.inspectContainerCmd(containerId).exec().getState();
            return state == null ? null : Boolean.TRUE.equals(state.getRunning());
        } catch (NotFoundException e) {
            return false;
        } catch (RuntimeException e) {
            LOG.debug("inspecting container {} failed: {}", shortId(containerId), e.toString());
            return null;
        }
    }

    /**
     * Waits (bounded by the deadline and {@link #ATTACH_MILLIS}) until the output stream is established. False when
     * the task's deadline came first without a failure of the stream (the container is killed; the task timed out);
     * when the stream failed or did not come within {@link #ATTACH_MILLIS}, kills the container and throws
     * {@link DockerExecutorException} (an infrastructure failure).
     */
    private boolean awaitAttached(String containerId, LogPump pump, Instant deadline) {
        long wait = Math.min(ATTACH_MILLIS, Math.max(1, Duration.between(Instant.now(), deadline).toMillis()));
        try {
            if (!pump.awaitFollowing(wait)) {
                kill(containerId);
                Throwable why = pump.failure();
                if (why == null && !Instant.now().isBefore(deadline)) {
                    return false; // the task's wall time ran out while its output was being attached
                }
                // an infrastructure failure (no connection free, the engine refused): never judged as the container's exit
                throw new DockerExecutorException("cannot follow the output of container " + shortId(containerId) + ": "
                        + (why == null ? "not established within " + wait + " ms" : why.getMessage()), why);
            }
        } catch (InterruptedException e) {
            INTERRUPTED.set(Boolean.TRUE);
        }
        return true;
    }

    /**
     * Waits for {@code ended} until {@code deadline}: its value, {@link End#TIMED_OUT} at the deadline,
     * {@link End#CANCELLED} when the worker is interrupted (remembered, restored after clean-up), or the failure.
     */
    private static Object awaitEnd(CompletableFuture<Object> ended, Instant deadline) {
        try {
            long remaining = Math.max(1, Duration.between(Instant.now(), deadline).toMillis());
            return ended.get(remaining, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return End.TIMED_OUT;
        } catch (InterruptedException e) {
            INTERRUPTED.set(Boolean.TRUE);
            return End.CANCELLED;
        } catch (ExecutionException e) {
            return e.getCause();
        }
    }

    /**
     * Runs {@code sh -c script} as {@code user} inside the running container {@code containerId} with {@code env} given
     * to that process only, following its output into {@code pump}. At the deadline the container is killed, on cancel
     * it is stopped; either ends the exec. {@code stdin} (when not null) is copied to the process's standard input by
     * the Docker client's own thread while the process runs (the engine sees no end of it: the process must know where
     * its input ends). A failing read of {@code stdin} ends that copy only; the caller ends the process (kills the
     * container).
     */
    Outcome exec(String containerId, String user, String script, List<String> env, LogPump pump, Instant deadline,
                 CancelSignal cancel, java.io.InputStream stdin) {
        if (cancel.isCancelled()) {
            return new Outcome(End.CANCELLED, null, false, cancel.reason(), List.of());
        }
        String execId = startExec(containerId, user, script, env, pump, stdin);
        return awaitExec(containerId, execId, pump, deadline, cancel);
    }

    /**
     * Creates and starts {@code sh -c script} as {@code user} in the running container {@code containerId} (as
     * {@link #exec}), its output followed into {@code pump}, {@code stdin} (when not null) copied to it by the Docker
     * client's own thread; does not wait. Its id, for {@link #awaitExec}.
     */
    String startExec(String containerId, String user, String script, List<String> env, LogPump pump, java.io.InputStream stdin) {
        String execId = docker.execCreateCmd(containerId).withCmd("sh", "-c", script).withEnv(env).withUser(user)
                .withWorkingDir(ContainerSpecs.WORKSPACE).withAttachStdin(stdin != null).withAttachStdout(true)
                .withAttachStderr(true).withTty(false).exec().getId();
        var start = docker.execStartCmd(execId).withDetach(false).withTty(false);
        if (stdin != null) {
            start.withStdIn(stdin);
        }
        start.exec(pump);
        return execId;
    }

    /**
     * Follows a started exec ({@link #startExec}) to its end: at the deadline the container is killed, on cancel it is
     * stopped; either ends the exec. Its exit code (and, when it failed, the container's OOM flag).
     */
    Outcome awaitExec(String containerId, String execId, LogPump pump, Instant deadline, CancelSignal cancel) {
        CompletableFuture<Object> ended = new CompletableFuture<>();
        cancel.onCancel(() -> ended.complete(End.CANCELLED));
        // the scheduler's escalation, from its own thread: this one may be stuck in the stop call
        cancel.onKill(() -> kill(containerId));
        pump.ended().whenComplete((v, t) -> ended.complete(End.EXITED));
        Object how = awaitEnd(ended, deadline);
        End end = how instanceof End e ? e : End.EXITED;
        if (end == End.TIMED_OUT) {
            kill(containerId);
        } else if (end == End.CANCELLED) {
            stop(containerId);
        }
        pump.drain(LOG_DRAIN_MILLIS);
        Integer exitCode = null;
        boolean oom = false;
        try {
            Long code = docker.inspectExecCmd(execId).exec().getExitCodeLong();
            exitCode = code == null ? null : code.intValue();
            if (exitCode == null || exitCode != 0) {
                // the container's OOM flag matters only for a failed exec
                InspectContainerResponse.ContainerState state = docker.inspectContainerCmd(containerId).exec().getState();
                oom = state != null && Boolean.TRUE.equals(state.getOOMKilled());
            }
        } catch (NotFoundException e) {
            LOG.debug("exec {} vanished before inspection", shortId(execId));
        }
        return new Outcome(end, exitCode, oom, end == End.CANCELLED ? cancelReasonOf(cancel) : null, pump.tail());
    }

    /** True while the exec {@code execId} runs; false once it has ended, is gone, or the engine cannot say. */
    boolean execRunning(String execId) {
        try {
            return Boolean.TRUE.equals(docker.inspectExecCmd(execId).exec().isRunning());
        } catch (RuntimeException e) {
            LOG.debug("inspecting exec {} failed: {}", shortId(execId), e.toString());
            return false;
        }
    }

    private static CancelReason cancelReasonOf(CancelSignal cancel) {
        return cancel.reason() == null ? CancelReason.RUNNER_SHUTDOWN : cancel.reason();
    }

    /** SIGTERM, then SIGKILL after the grace period (Docker does the escalation). */
    void stop(String containerId) {
        try {
            docker.stopContainerCmd(containerId).withTimeout((int) Math.max(0, stopGrace.toSeconds())).exec();
        } catch (NotModifiedException | NotFoundException e) {
            // already stopped or gone
        } catch (RuntimeException e) {
            LOG.warn("stopping container {} failed ({}); killing it", shortId(containerId), e.getMessage());
            kill(containerId);
        }
    }

    void kill(String containerId) {
        try {
            docker.killContainerCmd(containerId).exec();
        } catch (NotFoundException | NotModifiedException e) {
            // gone already
        } catch (RuntimeException e) {
            LOG.debug("killing container {}: {}", shortId(containerId), e.getMessage());
        }
    }

    /** Force-removes a container with its anonymous volumes; true when it is gone. */
    boolean remove(String containerId) {
        String failure = forceRemove(docker, containerId);
        if (failure != null) {
            LOG.warn("removing container {} failed: {}", shortId(containerId), failure);
        }
        return failure == null;
    }

    /**
     * Removes a container (killed first, with its anonymous volumes): null when it is gone, already gone, or its removal
     * is already in progress (a removal a killed runner asked for goes on in the engine); else why not.
     */
    static String forceRemove(DockerClient docker, String containerId) {
        try {
            docker.removeContainerCmd(containerId).withForce(true).withRemoveVolumes(true).exec();
            return null;
        } catch (NotFoundException e) {
            return null;
        } catch (RuntimeException e) {
            if (e.getMessage() != null && e.getMessage().contains("already in progress")) {
                return null;
            }
            return String.valueOf(e.getMessage());
        }
    }

    static String shortId(String id) {
        return id == null ? "null" : id.length() > 12 ? id.substring(0, 12) : id;
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // best effort
        }
    }
}
