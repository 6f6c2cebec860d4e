package dev.aireview.runner.execution;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

/**
 * A {@link ClaimJournal} in a directory: one small file per claimed task, named by the SHA-256 of its id (64 hex
 * digits) and holding the id (UTF-8). The directory should be closed to everybody but the runner (the Docker
 * executor's is {@code <DOCKER_WORKSPACE_BASE>/<runner>/claims/}, inside the root-owned 0700 runner directory, seen
 * by no container); it is still read as if it were not:
 * <ul>
 *   <li>an entry is written into a new file created exclusively (never through a link), mode 0600, fsync'd, then
 *       renamed to its final name and the directory fsync'd: a crash leaves the whole entry or none;</li>
 *   <li>reading takes only regular files (not following links) with a 64-hex name, at most {@value #MAX_ID_BYTES}
 *       bytes, whose content hashes to their name; anything else is skipped. At most {@value #MAX_ENTRIES} entries
 *       are read, on a daemon reader thread within {@link #READ_DEADLINE} (a FIFO swapped in cannot block the caller);</li>
 *   <li>the journal refuses to grow past {@value #MAX_ENTRIES} entries (logged; such a task is only not crash-safe);</li>
 *   <li>the directory is created on the first record and removed again once its last entry is (an idle runner leaves
 *       nothing); a directory that is a link is refused.</li>
 * </ul>
 * One process uses a journal at a time (one runner per runner name); its methods are thread-safe.
 */
public final class DirectoryClaimJournal implements ClaimJournal {
    private static final Logger LOG = LoggerFactory.getLogger(DirectoryClaimJournal.class);
    /** Most entries kept and read: far above any runner's slots, small enough to read at start in a moment. */
    public static final int MAX_ENTRIES = 10_000;
    /** Longest id recorded (UTF-8 bytes); a longer one is not recorded (logged). */
    public static final int MAX_ID_BYTES = 4096;
    /** How long {@link #list()} may take. */
    static final Duration READ_DEADLINE = Duration.ofSeconds(10);
    private static final Pattern ENTRY_NAME = Pattern.compile("[0-9a-f]{64}");
    static final String TMP_PREFIX = ".tmp-";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path dir;
    private final Object lock = new Object();
    /** Guarded by {@link #lock}: entries in the directory, -1 until counted. */
    private int entries = -1;

    public DirectoryClaimJournal(Path dir) {
        this.dir = dir.toAbsolutePath().normalize();
    }

    /** The journal's directory (it exists only while it holds entries). */
    public Path directory() {
        return dir;
    }

    @Override
    public boolean record(String taskId) {
        if (taskId == null || taskId.isBlank()) {
            return false;
        }
        byte[] bytes = taskId.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > MAX_ID_BYTES) {
            LOG.warn("task id of {} bytes is too long for the claim journal (limit {}); not recorded: a crash now would "
                    + "not report it", bytes.length, MAX_ID_BYTES);
            return false;
        }
        synchronized (lock) {
            Path tmp = null;
            try {
                ensureDir();
                Path file = dir.resolve(entryName(taskId));
                if (Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                    return true;
                }
                if (count() >= MAX_ENTRIES) {
                    LOG.error("the claim journal {} holds {} entries already (its limit); task {} is not recorded: a "
                            + "crash now would not report it", dir, MAX_ENTRIES, taskId);
                    return false;
                }
                tmp = dir.resolve(TMP_PREFIX + HexFormat.of().formatHex(randomBytes()));
                NoFollowFiles.createNew(tmp, bytes, "rw-------", true);
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
                tmp = null;
                syncDir();
                entries++;
                return true;
            } catch (IOException | RuntimeException e) {
                LOG.warn("task {}: the claim could not be recorded in {} ({}); a crash now would not report it", taskId,
                        dir, e.toString());
                deleteQuietly(tmp);
                return false;
            }
        }
    }

    @Override
    public void remove(String taskId) {
        if (taskId == null || taskId.isBlank()) {
            return;
        }
        synchronized (lock) {
            try {
                if (!isRealDirectory()) {
                    return;
                }
                if (Files.deleteIfExists(dir.resolve(entryName(taskId)))) {
                    if (entries > 0) {
                        entries--;
                    }
                    syncDir();
                }
                removeDirIfEmpty();
            } catch (IOException | RuntimeException e) {
                LOG.warn("task {}: the claim could not be removed from {} ({}); the next start reports it once more",
                        taskId, dir, e.toString());
            }
        }
    }

    @Override
    public List<String> list() {
        if (!isRealDirectory()) {
            if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                LOG.warn("the claim journal {} is not a directory (a link?); not read", dir);
            }
            return List.of();
        }
        List<String> found = Collections.synchronizedList(new ArrayList<>());
        try {
            NoFollowFiles.within(READ_DEADLINE, () -> {
                readAll(found);
                return null;
            });
        } catch (TimeoutException e) {
            LOG.warn("the claim journal {} could not be read within {} ms (a FIFO?); using the {} entries read so far",
                    dir, READ_DEADLINE.toMillis(), found.size());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            LOG.warn("the claim journal {} could not be read ({}); using the {} entries read so far", dir,
                    e.getCause().toString(), found.size());
        }
        dropLeftovers();
        synchronized (found) {
            List<String> ids = new ArrayList<>(found);
            Collections.sort(ids);
            return List.copyOf(ids);
        }
    }

    /**
     * What a runner killed mid-write leaves is dropped when the journal is read (at a start): a temporary file of a
     * record that never got its rename (killed between the two), and the directory once it holds nothing (killed
     * between the last entry's delete and the directory's). Under the lock no record of this journal is half-done;
     * rmdir removes nothing that holds an entry.
     */
    private void dropLeftovers() {
        synchronized (lock) {
            try {
                if (!isRealDirectory()) {
                    return;
                }
                try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir, TMP_PREFIX + "*")) {
                    for (Path p : stream) {
                        Files.deleteIfExists(p);
                    }
                }
                removeDirIfEmpty();
            } catch (IOException | RuntimeException e) {
                LOG.debug("the claim journal {} keeps what a killed runner left: {}", dir, e.toString());
            }
        }
    }

    private void readAll(List<String> found) throws IOException {
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
            for (Path p : stream) {
                if (Thread.currentThread().isInterrupted()) {
                    return;
                }
                if (found.size() >= MAX_ENTRIES) {
                    LOG.error("the claim journal {} holds more than {} entries; only that many are read", dir, MAX_ENTRIES);
                    return;
                }
                String id = readEntry(p);
                if (id != null) {
                    found.add(id);
                }
            }
        }
    }

    /** The id in entry {@code p}, or null when it is not a well-formed entry (skipped). */
    private static String readEntry(Path p) {
        String name = p.getFileName().toString();
        if (!ENTRY_NAME.matcher(name).matches()) {
            return null;
        }
        try {
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!a.isRegularFile() || a.size() == 0 || a.size() > MAX_ID_BYTES) {
                LOG.warn("claim journal entry {} is not a regular file of 1..{} bytes; skipped", p, MAX_ID_BYTES);
                return null;
            }
            byte[] bytes = NoFollowFiles.readBounded(p, MAX_ID_BYTES);
            if (bytes == null) {
                return null;
            }
            String id = new String(bytes, StandardCharsets.UTF_8);
            if (!entryName(id).equals(name)) {
                LOG.warn("claim journal entry {} does not hold the id its name is the hash of; skipped", p);
                return null;
            }
            return id;
        } catch (IOException | RuntimeException e) {
            LOG.warn("claim journal entry {} could not be read ({}); skipped", p, e.toString());
            return null;
        }
    }

    /** Creates the directory (mode 0700) when absent; refuses one that is not a real directory. */
    private void ensureDir() throws IOException {
        Path parent = dir.getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            entries = 0;
        } catch (FileAlreadyExistsException e) {
            if (!isRealDirectory()) {
                throw new IOException(dir + " exists and is not a directory (a link?); refusing to use it");
            }
        }
    }

    private boolean isRealDirectory() {
        try {
            return Files.readAttributes(dir, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isDirectory();
        } catch (IOException e) {
            return false;
        }
    }

    /** Entries in the directory (counted once, then kept up to date), at most {@value #MAX_ENTRIES}. */
    private int count() throws IOException {
        if (entries < 0) {
            int n = 0;
            try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
                for (Path p : stream) {
                    if (ENTRY_NAME.matcher(p.getFileName().toString()).matches() && ++n >= MAX_ENTRIES) {
                        break;
                    }
                }
            }
            entries = n;
        }
        return entries;
    }

    /** Removes the directory once it holds nothing (rmdir never removes a directory with anything in it). */
    private void removeDirIfEmpty() throws IOException {
        try {
            Files.delete(dir);
            entries = -1;
        } catch (DirectoryNotEmptyException | NoSuchFileException e) {
            // entries left (or junk): it stays
        }
    }

    /** Makes a create, rename or delete in the directory durable. */
    private void syncDir() {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | RuntimeException e) {
            LOG.debug("fsync of {} failed: {}", dir, e.toString());
        }
    }

    private static void deleteQuietly(Path p) {
        if (p == null) {
            return;
        }
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // a stray temporary file is skipped when reading
        }
    }

    /** The file name of {@code taskId}'s entry: its SHA-256, 64 lowercase hex digits. */
    static String entryName(String taskId) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(taskId.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] randomBytes() {
        byte[] b = new byte[8];
        RANDOM.nextBytes(b);
        return b;
    }
}
