package dev.aireview.runner.docker;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.attribute.BasicFileAttributeView;
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
 * Apparent file sizes are counted, so a sparse file counts whole: that errs on the side of stopping. The walk goes
 * through directory descriptors and fails closed: what it cannot measure counts as over the limit.
 */
final class DiskWatch implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DiskWatch.class);
    /** More directory entries than this in one workspace count as over the limit (an inode flood). */
    static final long MAX_ENTRIES = 500_000;
    /** A tree nested deeper than this cannot be measured (one open descriptor per level): it counts as over. */
    static final int MAX_DEPTH = 256;
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

    /**
     * Which enforcement is used, for the start-up log: a walk, not a kernel-enforced size. The engine's own size cap
     * ({@code --storage-opt size}) covers only the container's root file system (read-only here), not the bind-mounted
     * workspace, and overlay2 offers it only on xfs with {@code pquota}; a tmpfs or a loop device of fixed size
     * would need the host's help. This is what the operator reads to know the limit is measured, not enforced.
     */
    String describe() {
        return "DOCKER_WORKSPACE_LIMIT=" + limitBytes + " bytes: measured by walking each workspace every "
                + period.toMillis() + " ms (no kernel-enforced size: the workspace is a bind mount of the host; a"
                + " container can overshoot by what it writes in one period; unmeasurable counts as over)";
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
                exceeded = u.unmeasured() != null
                        ? "the workspace cannot be measured: " + u.unmeasured() + " (DOCKER_WORKSPACE_LIMIT fails closed)"
                        : u.entries() > MAX_ENTRIES
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

    /**
     * Bytes and entries found; the walk stops early once either is over its bound. {@code unmeasured} says why (part
     * of) the workspace could not be measured, null when it was: anything the walk cannot measure counts as over.
     */
    record Usage(long bytes, long entries, String unmeasured) {
        Usage(long bytes, long entries) {
            this(bytes, entries, null);
        }

        boolean over(long limit) {
            return unmeasured != null || bytes > limit || entries > MAX_ENTRIES;
        }
    }

    /** Thrown inside the walk when a part of the workspace cannot be measured. */
    private static final class Unmeasurable extends IOException {
        Unmeasurable(String message) {
            super(message);
        }
    }

    /** Running totals of one walk. */
    private static final class Totals {
        private final long stopAbove;
        private final long maxEntries;
        long bytes;
        long entries;

        Totals(long stopAbove, long maxEntries) {
            this.stopAbove = stopAbove;
            this.maxEntries = maxEntries;
        }

        /** Counts one entry; true once the walk may stop (over a bound). */
        boolean add(long size) {
            bytes += size;
            entries++;
            return done();
        }

        boolean done() {
            return bytes > stopAbove || entries > maxEntries;
        }
    }

    /**
     * Sums apparent sizes below {@code dir}; stops past {@code stopAbove} bytes or {@code maxEntries}. The walk goes
     * through directory descriptors ({@link SecureDirectoryStream}: {@code openat}/{@code fstatat} by name, never a
     * path from the root, never following a link), so no path length, rename or link planted by the container hides
     * anything. It fails closed: an entry it cannot stat, a directory it cannot open or list, or a tree deeper than
     * {@link #MAX_DEPTH} makes the usage {@link Usage#unmeasured() unmeasured}, which is over the limit.
     */
    static Usage measure(Path dir, long stopAbove, long maxEntries) {
        Totals totals = new Totals(stopAbove, maxEntries);
        try (DirectoryStream<Path> root = Files.newDirectoryStream(dir)) {
            if (!(root instanceof SecureDirectoryStream<Path> secure)) {
                return new Usage(0, 0, "this platform offers no directory descriptors (SecureDirectoryStream) to measure it safely");
            }
            totals.add(Files.readAttributes(dir, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).size());
            walk(secure, totals, 1);
        } catch (NoSuchFileException e) {
            return new Usage(totals.bytes, totals.entries); // the workspace itself is gone: nothing to hold
        } catch (IOException e) {
            return new Usage(totals.bytes, totals.entries, describe(e));
        } catch (DirectoryIteratorException e) {
            return new Usage(totals.bytes, totals.entries, describe(e.getCause()));
        }
        return new Usage(totals.bytes, totals.entries);
    }

    private static String describe(IOException e) {
        return e instanceof Unmeasurable ? e.getMessage()
                : "part of it cannot be read by the runner (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")";
    }

    private static void walk(SecureDirectoryStream<Path> dir, Totals totals, int depth) throws IOException {
        for (Path entry : dir) {
            Path name = entry.getFileName();
            BasicFileAttributes attrs;
            try {
                attrs = dir.getFileAttributeView(name, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).readAttributes();
            } catch (NoSuchFileException gone) {
                continue; // deleted meanwhile: takes no space
            }
            if (totals.add(attrs.size())) {
                return;
            }
            if (attrs.isDirectory()) {
                if (depth >= MAX_DEPTH) {
                    throw new Unmeasurable("its directories are nested deeper than " + MAX_DEPTH + " levels");
                }
                SecureDirectoryStream<Path> sub;
                try {
                    sub = dir.newDirectoryStream(name, LinkOption.NOFOLLOW_LINKS);
                } catch (NoSuchFileException gone) {
                    continue;
                }
                try (sub) {
                    walk(sub, totals, depth + 1);
                }
                if (totals.done()) {
                    return;
                }
            }
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
