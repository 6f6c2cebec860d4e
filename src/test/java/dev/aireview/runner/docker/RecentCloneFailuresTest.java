package dev.aireview.runner.docker;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RecentCloneFailuresTest {

    @Test
    void shouldMarkAFailureAndClearItOnSuccess() {
        RecentCloneFailures f = new RecentCloneFailures(4);
        f.failed("https://git.example.com/a/b.git");
        assertTrue(f.failedRecently("https://git.example.com/a/b.git"));
        assertFalse(f.failedRecently("https://git.example.com/a/c.git"));
        f.succeeded("https://git.example.com/a/b.git");
        assertFalse(f.failedRecently("https://git.example.com/a/b.git"));
        assertEquals(0, f.size());
    }

    @Test
    void shouldKeyWithoutCredentialsAndKeepNoUrlText() {
        RecentCloneFailures f = new RecentCloneFailures(4);
        f.failed("https://x-access-token:s3cr3t@Git.Example.com/a/b.git");
        // the same repository with other (or no) credentials, host case aside
        assertTrue(f.failedRecently("https://git.example.com/a/b.git"));
        assertTrue(f.failedRecently("https://other:token@git.example.com/a/b.git"));
        assertFalse(f.failedRecently("https://git.example.com:8443/a/b.git"));
        String key = RecentCloneFailures.keyOf("https://x-access-token:s3cr3t@git.example.com/a/b.git");
        assertFalse(key.contains("s3cr3t") || key.contains("example"), key);
        assertEquals(64, key.length(), "a SHA-256 in hex");
    }

    @Test
    void shouldEvictTheLeastRecentlyUsedBeyondItsCapacity() {
        RecentCloneFailures f = new RecentCloneFailures(2);
        f.failed("git://h/1.git");
        f.failed("git://h/2.git");
        assertTrue(f.failedRecently("git://h/1.git")); // 1 used: 2 is now the eldest
        f.failed("git://h/3.git");
        assertEquals(2, f.size());
        assertTrue(f.failedRecently("git://h/1.git"));
        assertFalse(f.failedRecently("git://h/2.git"));
        assertTrue(f.failedRecently("git://h/3.git"));
        assertEquals(256, RecentCloneFailures.CAPACITY);
    }

    @Test
    void shouldIgnoreWhatIsNotAUrl() {
        RecentCloneFailures f = new RecentCloneFailures(2);
        assertNull(RecentCloneFailures.keyOf(null));
        f.failed(null);
        assertFalse(f.failedRecently(null));
        assertEquals(0, f.size());
    }
}
