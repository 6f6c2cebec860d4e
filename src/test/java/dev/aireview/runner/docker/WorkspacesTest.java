package dev.aireview.runner.docker;

import dev.aireview.runner.model.Json;
import dev.aireview.runner.model.ResultStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Host-side workspace operations against planted links and special files (no Docker; the runner runs as root). */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WorkspacesTest {
    private Path root;
    private Path outside;
    private Workspaces workspaces;

    @BeforeEach
    void setUp() throws Exception {
        root = Files.createTempDirectory("ws-test");
        outside = Files.createDirectory(root.resolve("outside"));
        Files.setPosixFilePermissions(outside, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(outside.resolve("host-file"), "host content\n");
        Files.setPosixFilePermissions(outside.resolve("host-file"), PosixFilePermissions.fromString("rw-------"));
        workspaces = new Workspaces(root.resolve("base"), "runner-a", "10001:10001", 1024 * 1024);
    }

    @AfterEach
    void tearDown() throws Exception {
        Workspaces.deleteTree(root);
    }

    private void assertHostFileUnchanged() throws Exception {
        assertEquals("host content\n", Files.readString(outside.resolve("host-file")));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(outside.resolve("host-file"))));
        assertEquals(0, (Integer) Files.getAttribute(outside.resolve("host-file"), "unix:uid"));
    }

    @Test
    void shouldCreateWorkspacesOwnedByTheContainerUserInAClosedRunnerDirectory() throws Exception {
        Path ws = workspaces.create("task-1");

        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(workspaces.runnerDir())));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(ws)));
        assertEquals(10001, (Integer) Files.getAttribute(ws, "unix:uid"));
        assertEquals(10001, (Integer) Files.getAttribute(ws, "unix:gid"));
        assertEquals(workspaces.runnerDir(), ws.getParent());
    }

    @Test
    void shouldReadTheCheckoutStatusWithoutFollowingOrWaitingOnWhatTheContainerPlanted() throws Exception {
        Path ws = workspaces.create("task-s");
        Path status = ws.resolve(dev.aireview.runner.source.CachedCheckout.STATUS_FILE);
        assertNull(workspaces.checkoutStatus(ws), "no status yet");
        Files.writeString(status, "0\n");
        assertEquals(0, workspaces.checkoutStatus(ws));
        Files.writeString(status, "128\n");
        assertEquals(128, workspaces.checkoutStatus(ws));
        Files.writeString(status, "done");
        assertEquals(-1, workspaces.checkoutStatus(ws), "garbage");
        Files.writeString(status, "0".repeat(40));
        assertEquals(-1, workspaces.checkoutStatus(ws), "too large");
        Files.delete(status);
        Files.writeString(outside.resolve("zero"), "0\n");
        Files.createSymbolicLink(status, outside.resolve("zero"));
        assertEquals(-1, workspaces.checkoutStatus(ws), "a link is not followed");
        Files.delete(status);
        Process mkfifo = new ProcessBuilder("mkfifo", status.toString()).start();
        assertEquals(0, mkfifo.waitFor());
        assertEquals(-1, workspaces.checkoutStatus(ws), "a FIFO is not opened");
    }

    @Test
    void shouldMapIdsThatReadAlikeToDifferentDirectories() throws Exception {
        assertNotEquals(Workspaces.dirName("task/7"), Workspaces.dirName("task_7"));
        assertNotEquals(Workspaces.dirName("a".repeat(60) + "1"), Workspaces.dirName("a".repeat(60) + "2"));
        assertTrue(Workspaces.dirName("../../etc").matches("[A-Za-z0-9._-]+"), Workspaces.dirName("../../etc"));
        assertTrue(Workspaces.dirName("x".repeat(500)).length() <= 53);
        Path a = workspaces.create("task/7");
        Path b = workspaces.create("task_7");
        assertNotEquals(a, b);
        assertTrue(Files.isDirectory(a) && Files.isDirectory(b), "creating the second did not replace the first");
        assertEquals(2, workspaces.existing().size());
        Files.createDirectory(workspaces.claimsDir());
        assertEquals(2, workspaces.existing().size(), "the claim journal's directory is not a workspace");
        assertNotEquals(Workspaces.CLAIMS_DIR, Workspaces.dirName(Workspaces.CLAIMS_DIR), "no task id maps onto it");
    }

    @Test
    void shouldWriteTheTaskFileNeverThroughAPlantedLink() throws Exception {
        Path ws = workspaces.create("task-1");
        Files.createSymbolicLink(ws.resolve("task.json.tmp"), outside.resolve("host-file"));
        Files.createSymbolicLink(ws.resolve("task.json"), outside.resolve("host-file"));

        workspaces.writeTask(ws, Json.mapper().readTree("{\"id\":\"task-1\",\"ai\":{\"apiKey\":\"k\"}}"));

        assertHostFileUnchanged();
        Path task = ws.resolve("task.json");
        assertFalse(Files.isSymbolicLink(task), "the link was replaced, not followed");
        assertEquals("task-1", Json.mapper().readTree(Files.readString(task)).get("id").asText());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(task)), "readable by its owner only");
        assertEquals(10001, (Integer) Files.getAttribute(task, "unix:uid", LinkOption.NOFOLLOW_LINKS));
        try (var s = Files.list(ws)) {
            assertEquals(List.of("task.json", "task.json.tmp"), s.map(p -> p.getFileName().toString()).sorted().toList(),
                    "no temporary file left; the planted link is left alone");
        }
    }

    @Test
    void shouldReadARegularResult() throws Exception {
        Path ws = workspaces.create("task-1");
        Files.writeString(ws.resolve("result.json"), "{\"status\":\"completed\",\"summary\":\"fine\"}");

        Workspaces.ResultFile r = workspaces.readResult(ws);

        assertNull(r.problem());
        assertEquals(ResultStatus.COMPLETED, r.result().status());
        assertEquals("fine", r.result().summary());
    }

    @Test
    void shouldRefuseAResultLinkedToAHostFile() throws Exception {
        Path ws = workspaces.create("task-1");
        Files.writeString(outside.resolve("secret.json"), "{\"status\":\"completed\",\"summary\":\"SECRET\"}");
        Files.createSymbolicLink(ws.resolve("result.json"), outside.resolve("secret.json"));

        Workspaces.ResultFile r = workspaces.readResult(ws);

        assertNull(r.result());
        assertEquals("result.json is not a regular file (it is a symbolic link); it was not read", r.problem());
    }

    @Test
    void shouldRefuseAFifoResultAtOnce() throws Exception {
        Path ws = workspaces.create("task-1");
        Process mk = new ProcessBuilder("mkfifo", ws.resolve("result.json").toString()).start();
        assertEquals(0, mk.waitFor());

        long t0 = System.nanoTime();
        Workspaces.ResultFile r = workspaces.readResult(ws);

        assertEquals("result.json is not a regular file (it is a FIFO); it was not read", r.problem());
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(Workspaces.READ_DEADLINE.toSeconds()), "not blocked");
    }

    @Test
    void shouldGiveUpOnAFifoSwappedInAfterTheCheckWithinTheDeadline() throws Exception {
        // what a container could do between the type check and the open: the read itself must not block
        Path ws = workspaces.create("task-1");
        Path fifo = ws.resolve("result.json");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());

        long t0 = System.nanoTime();
        var e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                () -> workspaces.readWithin(fifo, java.time.Duration.ofMillis(300)));

        assertEquals("result.json could not be read within 300 ms (a FIFO or device?); it was not used", e.getMessage());
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(20), "returned at the deadline");
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("no-follow-reader")).noneMatch(t -> t.getState() == Thread.State.RUNNABLE
                        && java.util.Arrays.stream(t.getStackTrace()).anyMatch(f -> f.getMethodName().equals("open0") || f.getMethodName().equals("open"))));
    }

    @Test
    void shouldRefuseAResultOverTheLimitAndSayWhich() throws Exception {
        Path ws = workspaces.create("task-1");
        Files.write(ws.resolve("result.json"), new byte[1024 * 1024 + 1]);

        Workspaces.ResultFile r = workspaces.readResult(ws);

        assertNull(r.result());
        assertEquals("result.json is larger than DOCKER_RESULT_LIMIT_BYTES (1048577 bytes, limit 1048576 bytes); it was not read", r.problem());
    }

    @Test
    void shouldReportMalformedAndMissingResultsPlainly() throws Exception {
        Path ws = workspaces.create("task-1");
        assertEquals("no result file: the review container exited 0 without writing /workspace/result.json",
                workspaces.readResult(ws).problem());
        Files.writeString(ws.resolve("result.json"), "{\"status\": \"completed\", \"summary\": \"SECRET-CONTENT");
        String problem = workspaces.readResult(ws).problem();
        assertTrue(problem.startsWith("result.json is not valid JSON or not a result object (line 1, column"), problem);
        assertFalse(problem.contains("SECRET-CONTENT"), problem);
        Files.writeString(ws.resolve("result.json"), "null");
        assertEquals("result.json is not valid JSON: it holds no result object", workspaces.readResult(ws).problem());
    }

    @Test
    void shouldDeleteAWorkspaceWithoutFollowingLinks() throws Exception {
        Path ws = workspaces.create("task-1");
        Files.createDirectories(ws.resolve("repo/sub"));
        Files.createSymbolicLink(ws.resolve("repo/sub/to-outside"), outside);
        Files.createSymbolicLink(ws.resolve("to-file"), outside.resolve("host-file"));
        Files.writeString(ws.resolve("repo/a.txt"), "x");

        assertTrue(workspaces.delete(ws));

        assertFalse(Files.exists(ws, LinkOption.NOFOLLOW_LINKS));
        assertHostFileUnchanged();
        assertTrue(Files.isDirectory(outside));
    }

    @Test
    void shouldRefuseARunnerDirectoryThatIsALink() throws Exception {
        Files.createDirectories(root.resolve("base"));
        Files.createSymbolicLink(root.resolve("base/runner-a"), outside);
        String before = PosixFilePermissions.toString(Files.getPosixFilePermissions(outside));

        var e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class, () -> workspaces.create("task-1"));

        assertTrue(e.getMessage().contains("not a directory"), e.getMessage());
        assertEquals(before, PosixFilePermissions.toString(Files.getPosixFilePermissions(outside)), "not chmod-ed through the link");
        try (var s = Files.list(outside)) {
            assertEquals(1, s.count(), "nothing created through the link");
        }
    }

    @Test
    void shouldMeasureWorkspaceBytesWithoutFollowingLinks() throws Exception {
        Path ws = workspaces.create("task-1");
        Files.write(ws.resolve("a"), new byte[300_000]);
        Files.write(outside.resolve("big"), new byte[5_000_000]);
        Files.createSymbolicLink(ws.resolve("link"), outside);

        DiskWatch.Usage u = DiskWatch.measure(ws, Long.MAX_VALUE, DiskWatch.MAX_ENTRIES);

        assertTrue(u.bytes() >= 300_000 && u.bytes() < 400_000, "only the workspace's own bytes: " + u);
        assertTrue(DiskWatch.measure(ws, 100_000, DiskWatch.MAX_ENTRIES).over(100_000));
    }

    /** Runs {@code script} with bash in {@code dir}: builds what Java's path-based calls cannot reach. */
    private static void sh(Path dir, String script) throws Exception {
        Process p = new ProcessBuilder("bash", "-ec", script).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), out);
    }

    @Test
    void shouldMeasureFilesBelowAPathLongerThanPathMaxAndDeleteThem() throws Exception {
        Path ws = workspaces.create("task-long");
        // 50 levels of 90-character names: the file's absolute path is over 4500 characters (PATH_MAX is 4096)
        sh(ws, "d=$(printf 'd%.0s' $(seq 90)); for i in $(seq 50); do mkdir $d; cd -P $d; done; "
                + "dd if=/dev/zero of=big bs=1024 count=2048 2>/dev/null");

        DiskWatch.Usage u = DiskWatch.measure(ws, Long.MAX_VALUE, DiskWatch.MAX_ENTRIES);

        assertNull(u.unmeasured(), u.toString());
        assertTrue(u.bytes() >= 2048 * 1024, "the deep file counted: " + u);
        assertTrue(DiskWatch.measure(ws, 1024 * 1024, DiskWatch.MAX_ENTRIES).over(1024 * 1024));
        assertTrue(workspaces.delete(ws), "deleted through directory descriptors");
        assertFalse(Files.exists(ws, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void shouldCountWhatItCannotMeasureAsOverTheLimit() throws Exception {
        Path ws = workspaces.create("task-deep");
        sh(ws, "for i in $(seq " + (DiskWatch.MAX_DEPTH + 5) + "); do mkdir d; cd -P d; done; echo x > f");

        DiskWatch.Usage u = DiskWatch.measure(ws, Long.MAX_VALUE, DiskWatch.MAX_ENTRIES);

        assertTrue(u.bytes() < 10 * 1024 * 1024, "little written: " + u);
        assertTrue(u.over(10 * 1024 * 1024), "fails closed: " + u);
        assertTrue(u.unmeasured().contains("nested deeper than " + DiskWatch.MAX_DEPTH), u.unmeasured());
        assertTrue(workspaces.delete(ws));
    }

    @Test
    void shouldRefuseARunnerDirectoryAnotherUserMadeFirst() throws Exception {
        Path base = Files.createDirectories(root.resolve("base"));
        Path planted = Files.createDirectory(base.resolve("runner-a"));
        Files.setAttribute(planted, "unix:uid", 12345);

        IOException e = assertThrows(IOException.class, workspaces::ensureRunnerDir);

        assertTrue(e.getMessage().contains("belongs to uid 12345, not to the runner"), e.getMessage());
        assertThrows(IOException.class, () -> workspaces.create("task-1"), "no workspace in it either");
        assertEquals(0, Files.list(planted).count());
    }

    @Test
    void shouldRefuseABaseOthersCanWriteOrOneUnderAnOpenDirectory() throws Exception {
        Path base = Files.createDirectories(root.resolve("base"));
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxrwxrwx"));
        IOException e = assertThrows(IOException.class, workspaces::ensureRunnerDir);
        assertTrue(e.getMessage().contains("writable by other users (mode 0777)"), e.getMessage());

        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxrwxrwx"));
        e = assertThrows(IOException.class, workspaces::ensureRunnerDir);
        assertTrue(e.getMessage().contains("writable by every user without the sticky bit"), e.getMessage());

        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx------"));
        workspaces.ensureRunnerDir();
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(workspaces.runnerDir())));
    }
}
