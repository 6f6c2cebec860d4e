package dev.aireview.runner.execution;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * File reads and writes where another party may swap a path (workspace files, the claim journal): never through a
 * link, reads bounded.
 */
public final class NoFollowFiles {
    /** Reader threads: daemon threads, so one stuck opening a swapped-in FIFO never holds the caller or the JVM. */
    private static final ExecutorService READERS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "no-follow-reader");
        t.setDaemon(true);
        return t;
    });

    private NoFollowFiles() {
    }

    /**
     * Runs {@code read} on a reader thread and waits for it at most {@code deadline}: its value, or its own failure as
     * an {@link ExecutionException}. Past the deadline (TimeoutException) or on an interrupt of the caller the read is
     * cancelled; a read blocked opening a FIFO is released by {@link #unblock}.
     */
    public static <T> T within(Duration deadline, Callable<T> read)
            throws TimeoutException, ExecutionException, InterruptedException {
        Future<T> f = READERS.submit(read);
        try {
            return f.get(deadline.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | InterruptedException e) {
            f.cancel(true);
            throw e;
        }
    }

    /** Unblocks a reader stuck opening {@code file} if it is a FIFO: opens it for writing (never through a link) once. */
    public static void unblock(Path file) {
        READERS.execute(() -> {
            try {
                BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                if (a.isOther()) {
                    Files.newByteChannel(file, Set.<OpenOption>of(StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)).close();
                }
            } catch (IOException | RuntimeException ignored) {
                // gone or not a FIFO: nothing blocks on it
            }
        });
    }

    /**
     * At most {@code limit} bytes of {@code file}, opened without following a link; null when it holds more. The
     * buffer grows with what is really there (a file may grow after its size was checked), never past limit + 1.
     */
    public static byte[] readBounded(Path file, long limit) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(64 * 1024, limit + 1));
        try (SeekableByteChannel ch = Files.newByteChannel(file, Set.<OpenOption>of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS))) {
            while (out.size() <= limit && ch.read(buf) >= 0) {
                buf.flip();
                out.write(buf.array(), 0, (int) Math.min(buf.remaining(), limit + 1 - out.size()));
                buf.clear();
            }
        }
        return out.size() > limit ? null : out.toByteArray();
    }

    /**
     * Creates {@code file} exclusively (never through a link; an existing file or link is an error) with exactly the
     * POSIX mode {@code perms}, writes all of {@code bytes}, and with {@code sync} forces them to disk.
     *
     * <p>The mode given at creation is filtered by the process umask (systemd's {@code UMask=0027} turns 0644 into
     * 0640: a file the container user must read would be unreadable), so it is set again while the file is open,
     * never following a link (an {@code fchmod} on a descriptor opened with {@code O_NOFOLLOW}): the mode no longer
     * depends on the umask.
     */
    public static void createNew(Path file, byte[] bytes, String perms, boolean sync) throws IOException {
        Set<OpenOption> options = Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
        Set<PosixFilePermission> mode = PosixFilePermissions.fromString(perms);
        try (FileChannel ch = FileChannel.open(file, options, PosixFilePermissions.asFileAttribute(mode))) {
            PosixFileAttributeView view = Files.getFileAttributeView(file, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
            if (view == null) {
                throw new IOException("cannot set the mode of " + file + ": not a POSIX file system");
            }
            view.setPermissions(mode);
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            if (sync) {
                ch.force(true);
            }
        }
    }
}
