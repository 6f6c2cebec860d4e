package dev.aireview.runner.docker;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * DOCKER_WORKSPACE_LIMIT, enforced while a task runs: every {@code period} one thread walks each watched workspace
 * (never following links, stopping as soon as it is over the limit or past {@link #MAX_ENTRIES} entries) and, when
 * it is over, runs the watch's action once (the executor kills the container; the task then fails with
 * {@code disk_limit}). A walk is used rather than a quota because it needs nothing from the host's file system
 * (no project quotas, no loop devices) and works the same for a runner in a container; the price is that a
 * container can overshoot the limit by what it writes in one period (the free-space guard covers the host).
 * Apparent file sizes are counted, so a sparse file counts whole: that errs on the side of stopping.
 */
final class DiskWatch implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DiskWatch.class);
    /** More directory entries than this in one workspace count as over the limit (an inode flood). */
    static final long MAX_ENTRIES = 500_000;
    static final Duration DEFAULT_PERIOD = Duration.ofSeconds(2);

    private final long limitBytes;
    private final Duration period;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "workspace-disk-watch");
        t.setDaemon(true);
        return t;
    });

    DiskWatch(long limitBytes, Duration period) {
        this.limitBytes = limitBytes;
        this.period = period;
    }

    long limitBytes() {
        return limitBytes;
    }

    /** One watched workspace. {@link #exceeded()} tells why it is over the limit, null while it is not. */
    final class Watch implements AutoCloseable {
        private final Path workspace;
        private volatile Runnable action;
        private volatile String exceeded;
        private volatile ScheduledFuture<?> future;

        private Watch(Path workspace, Runnable action) {
            this.workspace = workspace;
            this.action = action;
        }

        /** What to do when the workspace goes over the limit (replaces the earlier action; runs at once if already over). */
        void onExceeded(Runnable newAction) {
            this.action = newAction;
            if (exceeded != null) {
                newAction.run();
            }
        }

        String exceeded() {
            return exceeded;
        }

        /** Measures now (also called at checkpoints, e.g. right after a container ended). */
        synchronized String check() {
            if (exceeded != null) {
                return exceeded;
            }
            Usage u = measure(workspace, limitBytes, MAX_ENTRIES);
            if (u.over(limitBytes)) {
                exceeded = u.entries() > MAX_ENTRIES
                        ? "the workspace holds more than " + MAX_ENTRIES + " files and directories (DOCKER_WORKSPACE_LIMIT counts them too)"
                        : "the workspace grew past DOCKER_WORKSPACE_LIMIT (" + limitBytes + " bytes; at least " + u.bytes() + " written)";
                LOG.warn("{}: {}", workspace.getFileName(), exceeded);
                ScheduledFuture<?> f = future;
                if (f != null) {
                    f.cancel(false);
                }
                try {
                    action.run();
                } catch (RuntimeException e) {
                    LOG.warn("disk-limit action for {} failed: {}", workspace.getFileName(), e.getMessage());
                }
            }
            return exceeded;
        }

        @Override
        public void close() {
            ScheduledFuture<?> f = future;
            if (f != null) {
                f.cancel(false);
            }
        }
    }

    /** Starts watching {@code workspace}; {@code action} runs once when it goes over the limit. */
    Watch watch(Path workspace, Runnable action) {
        Watch w = new Watch(workspace, action);
        w.future = timer.scheduleWithFixedDelay(() -> {
            try {
                w.check();
            } catch (RuntimeException e) {
                LOG.debug("measuring {} failed: {}", workspace, e.toString());
            }
        }, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
        return w;
    }

    /** Bytes and entries found; the walk stops early once either is over its bound. */
    record Usage(long bytes, long entries) {
        boolean over(long limit) {
            return bytes > limit || entries > MAX_ENTRIES;
        }
    }

    /** Sums apparent sizes below {@code dir} without following links; stops past {@code stopAbove} bytes or {@code maxEntries}. */
    static Usage measure(Path dir, long stopAbove, long maxEntries) {
        long[] bytes = {0};
        long[] entries = {0};
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
                    return add(attrs);
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    return add(attrs);
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException exc) {
                    return FileVisitResult.CONTINUE;
                }

                private FileVisitResult add(BasicFileAttributes attrs) {
                    bytes[0] += attrs.size();
                    entries[0]++;
                    return bytes[0] > stopAbove || entries[0] > maxEntries ? FileVisitResult.TERMINATE : FileVisitResult.CONTINUE;
                }
            });
        } catch (NoSuchFileException e) {
            // deleted meanwhile
        } catch (IOException e) {
            LOG.debug("walking {} failed: {}", dir, e.toString());
        }
        return new Usage(bytes[0], entries[0]);
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
