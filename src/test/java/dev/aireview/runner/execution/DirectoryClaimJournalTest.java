package dev.aireview.runner.execution;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The claim journal on a real directory: what it keeps, across instances (a restart), and what it refuses to read. */
class DirectoryClaimJournalTest {
    @TempDir
    Path tmp;

    @Test
    void shouldListRecordedIdsUntilRemoved() {
        DirectoryClaimJournal journal = new DirectoryClaimJournal(tmp.resolve("runner/claims"));
        assertEquals(List.of(), journal.list(), "nothing before the first record");
        assertTrue(journal.record("task/7"));
        assertTrue(journal.record("task_7"));
        assertTrue(journal.record("task/7"), "recording twice is one entry");
        assertEquals(List.of("task/7", "task_7"), journal.list());
        journal.remove("task/7");
        journal.remove("never-recorded");
        assertEquals(List.of("task_7"), journal.list());
    }

    @Test
    void shouldRemoveAnEmptyDirectoryAKilledRunnerLeftWhenReadingIt() throws Exception {
        Path dir = tmp.resolve("runner/cleaning");
        Files.createDirectories(dir); // killed between the last entry's delete and the directory's
        assertEquals(List.of(), new DirectoryClaimJournal(dir).list());
        assertFalse(Files.exists(dir, LinkOption.NOFOLLOW_LINKS), "the empty journal is gone after the next start reads it");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(DirectoryClaimJournal.TMP_PREFIX + "0123abcd"), "t-9"); // killed before the rename
        assertEquals(List.of(), new DirectoryClaimJournal(dir).list());
        assertFalse(Files.exists(dir, LinkOption.NOFOLLOW_LINKS), "a half-written record and then the journal are gone");
        Path kept = tmp.resolve("runner/claims");
        Files.createDirectories(kept);
        Files.writeString(kept.resolve("junk"), "x");
        assertEquals(List.of(), new DirectoryClaimJournal(kept).list());
        assertTrue(Files.exists(kept.resolve("junk")), "a directory holding anything is left alone");
    }

    @Test
    void shouldSurviveANewInstanceAsAfterARestart() throws Exception {
        Path dir = tmp.resolve("claims");
        DirectoryClaimJournal before = new DirectoryClaimJournal(dir);
        before.record("t-1");
        before.record("t-2 with spaces and ünïcode");
        DirectoryClaimJournal after = new DirectoryClaimJournal(dir);
        assertEquals(List.of("t-1", "t-2 with spaces and ünïcode"), after.list());
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS)));
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f, LinkOption.NOFOLLOW_LINKS)));
            }
        }
        after.remove("t-1");
        assertEquals(List.of("t-2 with spaces and ünïcode"), new DirectoryClaimJournal(dir).list());
    }

    @Test
    void shouldRemoveItsDirectoryWithTheLastEntryAndCreateItAgain() {
        Path dir = tmp.resolve("claims");
        DirectoryClaimJournal journal = new DirectoryClaimJournal(dir);
        journal.record("a");
        assertTrue(Files.isDirectory(dir));
        journal.remove("a");
        assertFalse(Files.exists(dir, LinkOption.NOFOLLOW_LINKS), "an idle runner leaves no journal directory");
        assertTrue(journal.record("b"));
        assertEquals(List.of("b"), journal.list());
    }

    @Test
    void shouldSkipJunkLinksAndEntriesWhoseContentIsNotTheirHash() throws Exception {
        Path dir = tmp.resolve("claims");
        DirectoryClaimJournal journal = new DirectoryClaimJournal(dir);
        journal.record("real");
        Path outside = Files.writeString(tmp.resolve("outside"), "secret-id");
        // a link named like a valid entry for the file it points to
        Files.createSymbolicLink(dir.resolve(DirectoryClaimJournal.entryName("secret-id")), outside);
        // a file whose content does not match its name, a half-written temporary file, junk names, a directory, a FIFO
        Files.writeString(dir.resolve(DirectoryClaimJournal.entryName("other")), "forged");
        Files.writeString(dir.resolve(".tmp-0123456789abcdef"), "half");
        Files.writeString(dir.resolve("notes.txt"), "junk");
        Files.createDirectory(dir.resolve(DirectoryClaimJournal.entryName("dir")));
        Path fifo = dir.resolve(DirectoryClaimJournal.entryName("fifo"));
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertTrue(mkfifo.waitFor(30, TimeUnit.SECONDS) && mkfifo.exitValue() == 0, "mkfifo");
        Files.write(dir.resolve(DirectoryClaimJournal.entryName("big")), new byte[DirectoryClaimJournal.MAX_ID_BYTES + 1]);

        assertEquals(List.of("real"), journal.list());
        assertEquals(List.of("real"), new DirectoryClaimJournal(dir).list());
        journal.remove("real");
        assertTrue(Files.isDirectory(dir), "a directory holding anything else is not removed");
        assertEquals("secret-id", Files.readString(outside), "the link's target is untouched");
    }

    @Test
    void shouldRefuseADirectoryThatIsALink() throws Exception {
        Path target = Files.createDirectory(tmp.resolve("elsewhere"));
        Path dir = Files.createSymbolicLink(tmp.resolve("claims"), target);
        DirectoryClaimJournal journal = new DirectoryClaimJournal(dir);
        assertFalse(journal.record("t"));
        try (Stream<Path> files = Files.list(target)) {
            assertEquals(0, files.count(), "nothing written through the link");
        }
        Files.writeString(target.resolve(DirectoryClaimJournal.entryName("planted")), "planted");
        assertEquals(List.of(), journal.list(), "not read through the link");
    }

    @Test
    void shouldRefuseToGrowPastItsLimitAndReadAtMostThatMany() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("claims"));
        for (int i = 0; i < DirectoryClaimJournal.MAX_ENTRIES; i++) {
            String id = "t-" + i;
            Files.write(dir.resolve(DirectoryClaimJournal.entryName(id)), id.getBytes(StandardCharsets.UTF_8));
        }
        DirectoryClaimJournal journal = new DirectoryClaimJournal(dir);
        assertFalse(journal.record("one-too-many"));
        assertEquals(DirectoryClaimJournal.MAX_ENTRIES, journal.list().size());
        journal.remove("t-0");
        assertTrue(journal.record("one-too-many"), "room again after a removal");
        // more than the limit on disk (written by hand): only the limit is read
        Files.write(dir.resolve(DirectoryClaimJournal.entryName("extra")), "extra".getBytes(StandardCharsets.UTF_8));
        assertEquals(DirectoryClaimJournal.MAX_ENTRIES, new DirectoryClaimJournal(dir).list().size());
    }

    @Test
    void shouldNotRecordBlankOrOverlongIds() {
        DirectoryClaimJournal journal = new DirectoryClaimJournal(tmp.resolve("claims"));
        assertFalse(journal.record(""));
        assertFalse(journal.record("x".repeat(DirectoryClaimJournal.MAX_ID_BYTES + 1)));
        assertTrue(journal.record("x".repeat(DirectoryClaimJournal.MAX_ID_BYTES)));
        assertEquals(1, journal.list().size());
    }
}
