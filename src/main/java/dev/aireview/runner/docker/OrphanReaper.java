package dev.aireview.runner.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectVolumeResponse;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Container;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;

/**
 * Removes what an earlier run of the same runner left behind (crash, kill -9): every container and volume labelled
 * {@code ai-review.runner=<name>} and every workspace under {@code <base>/<name>/}. Runs at start-up, before the pool.
 */
final class OrphanReaper {
    private static final Logger LOG = LoggerFactory.getLogger(OrphanReaper.class);

    record Reaped(int containers, int volumes, int workspaces) {
    }

    private final DockerClient docker;
    private final String runnerName;
    private final Workspaces workspaces;
    private final Predicate<Path> workspaceDeleter;

    OrphanReaper(DockerClient docker, String runnerName, Workspaces workspaces, Predicate<Path> workspaceDeleter) {
        this.docker = docker;
        this.runnerName = runnerName;
        this.workspaces = workspaces;
        this.workspaceDeleter = workspaceDeleter;
    }

    Reaped reap() {
        int containers = 0;
        List<Container> found = docker.listContainersCmd().withShowAll(true)
                .withLabelFilter(Labels.runnerFilter(runnerName)).exec();
        for (Container c : found) {
            try {
                docker.removeContainerCmd(c.getId()).withForce(true).withRemoveVolumes(true).exec();
                containers++;
                LOG.info("reaped container {} ({}, task {}, state {})", ContainerRunner.shortId(c.getId()), c.getImage(),
                        c.getLabels() == null ? "?" : c.getLabels().get(Labels.TASK), c.getState());
            } catch (NotFoundException e) {
                // removed meanwhile
            } catch (RuntimeException e) {
                LOG.warn("could not reap container {}: {}", ContainerRunner.shortId(c.getId()), e.getMessage());
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
                    LOG.info("reaped volume {}", v.getName());
                } catch (NotFoundException e) {
                    // removed meanwhile
                } catch (RuntimeException e) {
                    LOG.warn("could not reap volume {}: {}", v.getName(), e.getMessage());
                }
            }
        }
        int dirs = 0;
        for (Path dir : workspaces.existing()) {
            if (workspaceDeleter.test(dir)) {
                dirs++;
                LOG.info("reaped workspace {}", dir);
            } else {
                LOG.warn("could not reap workspace {}", dir);
            }
        }
        Reaped reaped = new Reaped(containers, volumes, dirs);
        LOG.info("reaper for runner '{}': removed {} container(s), {} volume(s), {} workspace(s) left by an earlier run",
                runnerName, containers, volumes, dirs);
        return reaped;
    }
}
