package dev.aireview.runner.docker;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectVolumeResponse;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Container;
import dev.aireview.runner.execution.ClaimJournal;
import dev.aireview.runner.model.Json;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Removes what an earlier run of the same runner left behind (crash, kill -9): every container and volume labelled
 * {@code ai-review.runner=<name>} and every workspace under {@code <base>/<name>/} (not the scheduler's claim journal,
 * {@code <base>/<name>/claims/}: {@link Workspaces#existing()} leaves it out). Runs at start-up, before the pool.
 *
 * <p>It also tells which tasks those leftovers belonged to ({@link Reaped#taskIds()}), so the scheduler can report
 * them {@code runner_shutdown}: the {@code ai-review.task} label of clone and review containers (and volumes), and,
 * for a pre-warmed container (labelled {@code pool}), the {@code id} in its workspace's task.json. A pooled task that
 * died before its task.json was written (while cloning) cannot be named here; the scheduler's claim journal
 * ({@code TaskExecutor.claimJournal()}) still names it, and the scheduler reports the union of both, once each.
 *
 * <p>A task marked in {@code <base>/<name>/cleaning/} ({@link HandOver}) had its result handed over before the process
 * died in its clean-up: its leftovers are removed like any other, but it is not named (its result was sent, or the claim
 * journal, which keeps an entry until delivery, names it). The marks go once the reaping removed everything.
 */
final class OrphanReaper {
    private static final Logger LOG = LoggerFactory.getLogger(OrphanReaper.class);

    record Reaped(int containers, int volumes, int workspaces, List<String> taskIds) {
    }


    private final DockerClient docker;
    private final String runnerName;
    /** Larger task.json files are not read for their id. */
    private static final long MAX_TASK_FILE_BYTES = 16L * 1024 * 1024;
    private final Workspaces workspaces;
    private final Predicate<Path> workspaceDeleter;
    private final ClaimJournal cleaning;

    OrphanReaper(DockerClient docker, String runnerName, Workspaces workspaces, Predicate<Path> workspaceDeleter) {
        this(docker, runnerName, workspaces, workspaceDeleter, ClaimJournal.NONE);
    }

    OrphanReaper(DockerClient docker, String runnerName, Workspaces workspaces, Predicate<Path> workspaceDeleter,
                 ClaimJournal cleaning) {
        this.cleaning = cleaning;
        this.docker = docker;
        this.runnerName = runnerName;
        this.workspaces = workspaces;
        this.workspaceDeleter = workspaceDeleter;
    }

    Reaped reap() {
        Set<String> tasks = new LinkedHashSet<>();
        boolean failed = false;
        int containers = 0;
        List<Container> found = docker.listContainersCmd().withShowAll(true)
                .withLabelFilter(Labels.runnerFilter(runnerName)).exec();
        for (Container c : found) {
            // a removal the killed run had asked for may still be in progress in the engine: that counts as removed
            String failure = ContainerRunner.forceRemove(docker, c.getId());
            if (failure == null) {
                containers++;
                taskOf(c.getLabels(), true).ifPresent(tasks::add);
                LOG.info("reaped container {} ({}, task {}, state {})", ContainerRunner.shortId(c.getId()), c.getImage(),
                        c.getLabels() == null ? "?" : c.getLabels().get(Labels.TASK), c.getState());
            } else {
                failed = true;
                LOG.warn("could not reap container {}: {}", ContainerRunner.shortId(c.getId()), failure);
            }
        }
        int volumes = 0;
        List<InspectVolumeResponse> vols = docker.listVolumesCmd()
                .withFilter("label", Labels.runnerFilter(runnerName)).exec().getVolumes();
        if (vols != null) {
            for (InspectVolumeResponse v : vols) {
                try {
                    docker.removeVolumeCmd(v.getName()).exec();
                    volumes++;
                    taskOf(v.getLabels(), false).ifPresent(tasks::add);
                    LOG.info("reaped volume {}", v.getName());
                } catch (NotFoundException e) {
                    // removed meanwhile
                } catch (RuntimeException e) {
                    failed = true;
                    LOG.warn("could not reap volume {}: {}", v.getName(), e.getMessage());
                }
            }
        }
        int dirs = 0;
        for (Path dir : workspaces.existing()) {
            Optional<String> task = taskInWorkspace(dir);
            if (workspaceDeleter.test(dir)) {
                task.ifPresent(tasks::add);
                dirs++;
                LOG.info("reaped workspace {}", dir);
            } else {
                failed = true;
                LOG.warn("could not reap workspace {}", dir);
            }
        }
        List<String> cleaned = cleaning.list();
        for (String id : cleaned) {
            if (tasks.remove(id)) {
                LOG.info("task {} had its result handed over before the earlier run died cleaning up: its leftovers are "
                        + "removed, the task is not reported again", id);
            }
            if (!failed) {
                cleaning.remove(id);
            }
        }
        Reaped reaped = new Reaped(containers, volumes, dirs, List.copyOf(tasks));
        LOG.info("reaper for runner '{}': removed {} container(s), {} volume(s), {} workspace(s) left by an earlier run; "
                + "{} task(s) to report: {}", runnerName, containers, volumes, dirs, tasks.size(), tasks);
        return reaped;
    }

    /** The task a clone/review container (or volume) ran for; empty for pooled, clean-up and check ones. */
    private static Optional<String> taskOf(Map<String, String> labels, boolean container) {
        if (labels == null) {
            return Optional.empty();
        }
        String task = labels.get(Labels.TASK);
        String role = labels.get(Labels.ROLE);
        if (task == null || task.isBlank() || Labels.POOL_TASK.equals(task)) {
            return Optional.empty();
        }
        if (container && !("clone".equals(role) || "checkout".equals(role) || "review".equals(role))) {
            return Optional.empty();
        }
        return Optional.of(task);
    }

    /**
     * The {@code id} in a workspace's task.json (how a pooled container's task is known), if readable. Read like
     * result.json ({@link Workspaces#readWithin}): never through a link, bounded in size and time, since a container
     * may have swapped the file.
     */
    private Optional<String> taskInWorkspace(Path dir) {
        Path file = dir.resolve(Workspaces.TASK_FILE);
        try {
            if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                return Optional.empty();
            }
            byte[] bytes = workspaces.readWithin(file, Workspaces.READ_DEADLINE, MAX_TASK_FILE_BYTES);
            if (bytes == null) {
                return Optional.empty();
            }
            JsonNode id = Json.mapper().readTree(bytes).path("id");
            return id.isTextual() && !id.asText().isBlank() ? Optional.of(id.asText()) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            LOG.debug("no task id in {}: {}", file, e.toString());
            return Optional.empty();
        }
    }
}
