package dev.aireview.runner.docker;

import com.github.dockerjava.api.DockerClient;
import dev.aireview.runner.execution.CancelSignal;
import dev.aireview.runner.execution.NoFollowFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;

/**
 * Start-up check of the Docker-out-of-Docker workspace rule: the runner writes a random token into a fresh
 * directory under its workspace base, and a short container (executor image, all hardening, network {@code none})
 * that bind-mounts the same path must read it back. It fails when the daemon resolves the path to another
 * directory, e.g. a runner in a container whose workspace base is not mounted at the identical host path, where
 * every task would otherwise fail with a missing task file.
 */
final class WorkspaceMountCheck {
    private static final Logger LOG = LoggerFactory.getLogger(WorkspaceMountCheck.class);
    static final String TASK_LABEL = "mount-check";
    private static final String FILE = "mount-check";
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private WorkspaceMountCheck() {
    }

    /** Checks with the same path on both sides (the production case). */
    static void verify(DockerClient docker, ContainerSpecs specs, ContainerRunner runner, Workspaces workspaces) {
        Path dir;
        try {
            dir = workspaces.create(TASK_LABEL + "-" + UUID.randomUUID().toString().substring(0, 8));
        } catch (IOException e) {
            throw new DockerExecutorException("cannot create a directory under " + workspaces.runnerDir()
                    + " (DOCKER_WORKSPACE_BASE): " + e.getMessage(), e);
        }
        try {
            verify(docker, specs, runner, dir, dir);
        } finally {
            if (!workspaces.delete(dir)) {
                LOG.warn("could not delete {}; the reaper removes it at the next start", dir);
            }
        }
    }

    /**
     * Writes the token into {@code runnerSide} and has a container mount {@code daemonSide}; they are the same path
     * in production, and differ only in tests that simulate a wrong mount.
     */
    static void verify(DockerClient docker, ContainerSpecs specs, ContainerRunner runner, Path runnerSide, Path daemonSide) {
        String token = UUID.randomUUID().toString();
        try {
            // a fresh directory no container has seen yet; still created exclusively, never through a link, and
            // readable by the container user whatever the runner's umask (systemd UMask=0027)
            NoFollowFiles.createNew(runnerSide.resolve(FILE), (token + "\n").getBytes(StandardCharsets.UTF_8), "rw-r--r--", false);
        } catch (IOException e) {
            throw new DockerExecutorException("cannot write into " + runnerSide + " (DOCKER_WORKSPACE_BASE): " + e.getMessage(), e);
        }
        List<String> lines = Collections.synchronizedList(new ArrayList<>());
        String id = null;
        ContainerRunner.Outcome outcome;
        try {
            var cmd = specs.script(docker, daemonSide, TASK_LABEL, "check",
                    "cat /workspace/" + FILE + " 2>/dev/null || echo 'no file'", List.of());
            cmd.getHostConfig().withNetworkMode("none").withExtraHosts((String[]) null);
            id = cmd.exec().getId();
            outcome = runner.run(id, false, new LogPump((stream, line) -> lines.add(line)), Instant.now().plus(TIMEOUT), new CancelSignal());
        } catch (RuntimeException e) {
            throw new DockerExecutorException("the workspace check container could not run: " + e.getMessage(), e);
        } finally {
            if (id != null) {
                runner.remove(id);
            }
        }
        if (lines.contains(token)) {
            LOG.debug("workspace mount check passed for {}", daemonSide);
            return;
        }
        if (outcome.exitCode() == null || outcome.exitCode() != 0) {
            throw new DockerExecutorException("the workspace check container ended " + outcome.end() + " with exit "
                    + outcome.exitCode() + ": " + String.join(" | ", lines));
        }
        throw new DockerExecutorException("the Docker engine does not see the runner's workspace directory " + runnerSide.getParent()
                + " (DOCKER_WORKSPACE_BASE): a container that mounts it does not find the file the runner just wrote there. "
                + "When the runner runs in a container, mount the workspace base at the identical path on both sides "
                + "(e.g. -v /var/lib/ai-review/workspaces:/var/lib/ai-review/workspaces) and set DOCKER_WORKSPACE_BASE to that path.");
    }
}
