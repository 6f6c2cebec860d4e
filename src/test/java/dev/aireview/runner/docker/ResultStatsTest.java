package dev.aireview.runner.docker;

import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.model.TaskStats;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** The runner adds its wall time and exit code to a review's result and keeps the review's own figures. */
class ResultStatsTest {

    @Test
    void tokensAndThePartialMarkOfTheResultFileReachTheServer() {
        TaskStats fromContainer = new TaskStats(null, 12L, null, 7, 1200L, 150L).withNotReviewed(2, false);
        TaskResult result = DockerTaskExecutor.finish(null, Instant.now().minusMillis(5),
                TaskResult.completed("## AI review", List.of(), fromContainer), 0);
        TaskStats s = result.stats();
        assertNotNull(s.durationMs());
        assertEquals(0, s.exitCode());
        assertEquals(12L, s.queueToStartMs());
        assertEquals(7, s.filesReviewed());
        assertEquals(1200L, s.promptTokens());
        assertEquals(150L, s.completionTokens());
        assertEquals(Boolean.TRUE, s.partial());
        assertEquals(2, s.filesNotReviewed());
    }
}
