package dev.aireview.runner.review;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Scratch files and directories of the review engine in {@code java.io.tmpdir}, as {@link Files#createTempFile} makes
 * them (created exclusively, so never through a link or over another file; owner-only) but named from a per-process
 * counter: the JDK's names come from a {@code SecureRandom}, whose first use costs a short-lived executor JVM ~15 ms
 * on the path of every review. A name that exists already (another process, a planted entry) is skipped.
 */
final class Scratch {
    private static final AtomicLong NEXT = new AtomicLong(System.nanoTime() & 0xffffff);
    private static final int ATTEMPTS = 1000;
    private static final boolean POSIX = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
    private static final String PID = ProcessHandle.current().pid() + "-";

    private Scratch() {
    }

    static Path file(String prefix, String suffix) throws IOException {
        return file(tmpdir(), prefix, suffix);
    }

    /** A new empty file in {@code dir} (the result file's directory, for its atomic rename). */
    static Path file(Path dir, String prefix, String suffix) throws IOException {
        return create(dir, prefix, suffix, false);
    }

    static Path directory(String prefix) throws IOException {
        return create(tmpdir(), prefix, "", true);
    }

    private static Path tmpdir() {
        return Path.of(System.getProperty("java.io.tmpdir"));
    }

    private static Path create(Path dir, String prefix, String suffix, boolean directory) throws IOException {
        FileAttribute<?>[] ownerOnly = !POSIX ? new FileAttribute<?>[0]
                : new FileAttribute<?>[]{PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(directory ? "rwx------" : "rw-------"))};
        for (int i = 0; ; i++) {
            Path p = dir.resolve(prefix + PID + Long.toString(NEXT.getAndIncrement(), 36) + suffix);
            try {
                return directory ? Files.createDirectory(p, ownerOnly) : Files.createFile(p, ownerOnly);
            } catch (FileAlreadyExistsException e) {
                if (i == ATTEMPTS) {
                    throw new IOException("no free scratch name in " + dir + " after " + ATTEMPTS + " attempts (last " + p + ")", e);
                }
            }
        }
    }
}
