package dev.aireview.runner.review;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link Scratch}: new entries only, owner-only, never through or over an entry someone planted, unique across threads. */
class ScratchTest {

    @Test
    void createsNewOwnerOnlyEntries(@TempDir Path dir) throws Exception {
        Path file = Scratch.file(dir, ".result.json.", ".tmp");
        assertTrue(Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS));
        assertEquals(0, Files.size(file));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertTrue(file.getFileName().toString().startsWith(".result.json." + ProcessHandle.current().pid() + "-"));
        assertTrue(file.getFileName().toString().endsWith(".tmp"));
        Path d = Scratch.directory("scratch-test-");
        try {
            assertTrue(Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS));
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(d)));
            assertEquals(Path.of(System.getProperty("java.io.tmpdir")), d.getParent());
        } finally {
            Files.delete(d);
        }
    }

    /** Entries planted under the next names (a file, a link to a file elsewhere, a dangling link) are passed over untouched. */
    @Test
    void skipsPlantedNames(@TempDir Path dir) throws Exception {
        Path probe = Scratch.file(dir, "p-", "");
        String name = probe.getFileName().toString();
        long next = Long.parseLong(name.substring(name.lastIndexOf('-') + 1), 36) + 1;
        String stem = name.substring(0, name.lastIndexOf('-') + 1);
        Path victim = Files.writeString(dir.resolve("victim"), "keep");
        Files.writeString(dir.resolve(stem + Long.toString(next, 36)), "planted");
        Files.createSymbolicLink(dir.resolve(stem + Long.toString(next + 1, 36)), victim);
        Files.createSymbolicLink(dir.resolve(stem + Long.toString(next + 2, 36)), dir.resolve("nowhere"));
        Path made = Scratch.file(dir, "p-", "");
        String madeName = made.getFileName().toString();
        assertTrue(madeName.startsWith(stem) && Long.parseLong(madeName.substring(stem.length()), 36) >= next + 3,
                () -> "the planted names are passed over: " + madeName);
        assertEquals("", Files.readString(made));
        assertEquals("keep", Files.readString(victim));
        assertEquals("planted", Files.readString(dir.resolve(stem + Long.toString(next, 36))));
        assertFalse(Files.exists(dir.resolve("nowhere"), LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void uniqueAcrossThreads(@TempDir Path dir) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Path>> made = new ArrayList<>();
            for (int i = 0; i < 400; i++) {
                made.add(pool.submit(() -> Scratch.file(dir, "t-", ".txt")));
            }
            Set<Path> seen = new HashSet<>();
            for (Future<Path> f : made) {
                assertTrue(seen.add(f.get()));
            }
            try (var all = Files.list(dir)) {
                assertEquals(400, all.count());
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
