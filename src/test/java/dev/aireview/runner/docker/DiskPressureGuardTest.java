package dev.aireview.runner.docker;

import dev.aireview.runner.config.FreeDiskThreshold;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** DOCKER_MIN_FREE_DISK with an injected free-space reading: absolute and percentage thresholds, recovery, off. */
class DiskPressureGuardTest {
    private static final long GIB = 1L << 30;
    private final AtomicLong free = new AtomicLong(10 * GIB);
    private final DiskPressureGuard.FreeSpace space = dir -> new DiskPressureGuard.Space(free.get(), 100 * GIB);

    @Test
    void shouldPauseBelowAnAbsoluteThresholdAndResumeWhenSpaceReturns() {
        DiskPressureGuard guard = new DiskPressureGuard(Path.of("/ws"), FreeDiskThreshold.parse("5g"), space);
        assertNull(guard.pausedReason());

        free.set(4 * GIB);
        String reason = guard.pausedReason();

        assertEquals("low disk space: 4096 MiB free under /ws, below DOCKER_MIN_FREE_DISK (5368709120 bytes)", reason);
        free.set(6 * GIB);
        assertNull(guard.pausedReason());
    }

    @Test
    void shouldTakeAPercentageOfTheFileSystem() {
        DiskPressureGuard guard = new DiskPressureGuard(Path.of("/ws"), FreeDiskThreshold.parse("10%"), space);
        free.set(11 * GIB);
        assertNull(guard.pausedReason());
        free.set(9 * GIB);
        String reason = guard.pausedReason();
        assertNotNull(reason);
        assertTrue(reason.contains("below DOCKER_MIN_FREE_DISK (10% = 10240 MiB)"), reason);
    }

    @Test
    void shouldNeverPauseWhenOffOrWhenFreeSpaceCannotBeRead() {
        free.set(0);
        assertNull(new DiskPressureGuard(Path.of("/ws"), FreeDiskThreshold.parse("0"), space).pausedReason());
        assertNull(new DiskPressureGuard(Path.of("/ws"), FreeDiskThreshold.parse("5g"), dir -> {
            throw new IOException("gone");
        }).pausedReason());
    }

    @Test
    void shouldParseSizesAndPercentages() {
        assertEquals(5 * GIB, FreeDiskThreshold.parse("5g").bytes());
        assertEquals(12.5, FreeDiskThreshold.parse("12.5%").percent());
        assertNull(FreeDiskThreshold.parse("100%"));
        assertNull(FreeDiskThreshold.parse("lots"));
        assertTrue(FreeDiskThreshold.parse("0").off());
    }
}
