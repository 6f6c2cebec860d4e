package dev.aireview.runner.docker;

import dev.aireview.runner.config.FreeDiskThreshold;
import dev.aireview.runner.execution.ClaimGate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * DOCKER_MIN_FREE_DISK: claims pause while the file system under DOCKER_WORKSPACE_BASE has less free space than the
 * threshold (absolute, or a share of its size), and resume by themselves when space returns. Running tasks are not
 * touched (each is capped by DOCKER_WORKSPACE_LIMIT). How free space is read is injectable ({@link FreeSpace}), so the
 * guard is tested without filling a disk.
 */
public final class DiskPressureGuard implements ClaimGate {
    private static final Logger LOG = LoggerFactory.getLogger(DiskPressureGuard.class);

    /** Free (usable by this process) and total bytes of the file system holding a directory. */
    public record Space(long usableBytes, long totalBytes) {
    }

    /** Reads the free space of the file system holding {@code dir}. */
    @FunctionalInterface
    public interface FreeSpace {
        Space read(Path dir) throws IOException;

        /** The real file system ({@code statvfs} through {@link FileStore}). */
        FreeSpace FILE_STORE = dir -> {
            FileStore store = Files.getFileStore(dir);
            return new Space(store.getUsableSpace(), store.getTotalSpace());
        };
    }

    private final Path dir;
    private final FreeDiskThreshold threshold;
    private final FreeSpace freeSpace;

    public DiskPressureGuard(Path dir, FreeDiskThreshold threshold, FreeSpace freeSpace) {
        this.dir = dir;
        this.threshold = threshold;
        this.freeSpace = freeSpace;
    }

    @Override
    public String pausedReason() {
        if (threshold.off()) {
            return null;
        }
        Space s;
        try {
            s = freeSpace.read(dir);
        } catch (IOException | RuntimeException e) {
            // an unreadable file system is not a reason to stop: the workspace creation reports real trouble
            LOG.debug("cannot read free space of {}: {}", dir, e.toString());
            return null;
        }
        long required = threshold.requiredBytes(s.totalBytes());
        if (s.usableBytes() >= required) {
            return null;
        }
        return "low disk space: " + mib(s.usableBytes()) + " free under " + dir + ", below DOCKER_MIN_FREE_DISK ("
                + threshold + (threshold.percent() >= 0 ? " = " + mib(required) : "") + ")";
    }

    private static String mib(long bytes) {
        return (bytes >> 20) + " MiB";
    }
}
