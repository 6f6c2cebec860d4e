package dev.aireview.runner.docker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aireview.runner.model.Json;
import dev.aireview.runner.model.TaskResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Task workspaces: {@code <base>/<runnerName>/<id>}, mode 0777 so the non-root container user can write them,
 * bind-mounted at /workspace. The runner's path must be the Docker daemon's path (docs/docker-executor.md).
 */
public final class Workspaces {
    private static final Logger LOG = LoggerFactory.getLogger(Workspaces.class);
    public static final String TASK_FILE = "task.json";
    public static final String RESULT_FILE = "result.json";

    private final Path runnerDir;

    public Workspaces(Path base, String runnerName) {
        this.runnerDir = base.toAbsolutePath().normalize().resolve(safeName(runnerName));
    }

    /** {@code <base>/<runnerName>}: everything below belongs to this runner. */
    public Path runnerDir() {
        return runnerDir;
    }

    /** Creates (fresh) the workspace for {@code id}. */
    public Path create(String id) throws IOException {
        Files.createDirectories(runnerDir);
        Path dir = runnerDir.resolve(safeName(id));
        if (Files.exists(dir)) {
            deleteTree(dir);
        }
        Files.createDirectory(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        return dir;
    }

    /** Writes task.json whole: to task.json.tmp first, then renamed. */
    public void writeTask(Path workspace, JsonNode task) throws IOException {
        Path tmp = workspace.resolve(TASK_FILE + ".tmp");
        Files.write(tmp, Json.mapper().writeValueAsBytes(task));
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
        try {
            Files.move(tmp, workspace.resolve(TASK_FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, workspace.resolve(TASK_FILE), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Reads result.json tolerantly; empty when absent or unreadable (the reason is logged). */
    public Optional<TaskResult> readResult(Path workspace) {
        Path file = workspace.resolve(RESULT_FILE);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            return Optional.ofNullable(Json.mapper().readValue(file.toFile(), TaskResult.class));
        } catch (IOException | RuntimeException e) {
            LOG.warn("unreadable {}: {}", file, e.getMessage());
            return Optional.empty();
        }
    }

    /** Workspaces left under this runner's directory (from an earlier run). */
    public List<Path> existing() {
        List<Path> dirs = new ArrayList<>();
        if (!Files.isDirectory(runnerDir)) {
            return dirs;
        }
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(runnerDir)) {
            stream.forEach(dirs::add);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dirs;
    }

    /** Deletes a workspace tree; false when some of it could not be deleted (e.g. files owned by the container user). */
    public boolean delete(Path workspace) {
        try {
            deleteTree(workspace);
            return true;
        } catch (IOException e) {
            LOG.debug("deleting {} failed: {}", workspace, e.toString());
            return false;
        }
    }

    /** Deletes {@code dir} and everything below it (links are removed, not followed); nothing when it is absent. */
    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
                if (exc instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                throw exc;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                if (exc != null && !(exc instanceof NoSuchFileException)) {
                    throw exc;
                }
                Files.deleteIfExists(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** A path component made of [A-Za-z0-9._-] only (never "." or ".."). */
    static String safeName(String name) {
        String s = name == null ? "" : name.replaceAll("[^A-Za-z0-9._-]", "_");
        if (s.isEmpty() || s.chars().allMatch(c -> c == '.')) {
            s = "_" + s;
        }
        return s.length() > 120 ? s.substring(0, 120) : s;
    }
}
