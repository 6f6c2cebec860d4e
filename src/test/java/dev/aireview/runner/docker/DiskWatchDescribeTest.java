package dev.aireview.runner.docker;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 17: the start-up log says which enforcement of DOCKER_WORKSPACE_LIMIT is used (a walk, not a kernel size). */
class DiskWatchDescribeTest {
    @Test
    void describesTheWalkItsPeriodAndThatNoKernelSizeIsUsed() {
        try (DiskWatch watch = new DiskWatch(64L << 20, Duration.ofMillis(1500))) {
            String text = watch.describe();
            assertTrue(text.contains("DOCKER_WORKSPACE_LIMIT=67108864 bytes"), text);
            assertTrue(text.contains("measured by walking each workspace every 1500 ms"), text);
            assertTrue(text.contains("no kernel-enforced size"), text);
        }
    }
}
