package dev.aireview.runner.model;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link TaskResult#toJson()} writes, field by field, what the mapper's reflective serialization writes: checked on
 * seeded random results (every field null or set, every enum value, odd text) against the mapper itself, and read back.
 */
class TaskResultJsonTest {

    private static <T> T maybe(Random r, T value) {
        return r.nextInt(3) == 0 ? null : value;
    }

    private static String text(Random r) {
        String[] parts = {"a", "ü", "\"", "\\", "\n", "\u2028", "😀", " ", "<script>", "{}", "0"};
        StringBuilder b = new StringBuilder();
        for (int i = 0, n = r.nextInt(6); i < n; i++) {
            b.append(parts[r.nextInt(parts.length)]);
        }
        return b.toString();
    }

    private static TaskResult random(Random r) {
        List<ReviewComment> comments = new ArrayList<>();
        for (int i = 0, n = r.nextInt(4); i < n; i++) {
            Severity[] severities = Severity.values();
            comments.add(new ReviewComment(maybe(r, text(r)), maybe(r, r.nextInt()), maybe(r, r.nextInt(1000)),
                    maybe(r, severities[r.nextInt(severities.length)]), maybe(r, text(r)), maybe(r, text(r))));
        }
        ErrorKind[] kinds = ErrorKind.values();
        TaskError error = r.nextBoolean() ? null : new TaskError(maybe(r, kinds[r.nextInt(kinds.length)]), maybe(r, text(r)));
        TaskStats stats = r.nextInt(4) == 0 ? null : new TaskStats(maybe(r, r.nextLong()), maybe(r, (long) r.nextInt(5000)),
                maybe(r, r.nextInt(256)), maybe(r, r.nextInt(100)), maybe(r, Long.MAX_VALUE - r.nextInt(10)),
                maybe(r, (long) r.nextInt()), maybe(r, r.nextBoolean()), maybe(r, r.nextInt(9)));
        ResultStatus[] statuses = ResultStatus.values();
        return new TaskResult(maybe(r, statuses[r.nextInt(statuses.length)]), maybe(r, text(r)), maybe(r, comments), error, stats);
    }

    @Test
    void writesWhatTheMapperWrites() throws Exception {
        Random r = new Random(7);
        int withError = 0;
        for (int i = 0; i < 2_000; i++) {
            TaskResult result = random(r);
            String byHand = Json.mapper().writeValueAsString(result.toJson());
            String byMapper = Json.mapper().writeValueAsString(result);
            JsonNode expected = Json.mapper().readTree(byMapper);
            assertEquals(expected, Json.mapper().readTree(byHand), () -> "for " + result);
            assertEquals(result, Json.mapper().readValue(byHand, TaskResult.class));
            withError += result.error() != null ? 1 : 0;
        }
        assertTrue(withError > 500, "the generated results exercise the error field: " + withError);
    }

    @Test
    void leavesNullsOut() {
        JsonNode json = TaskResult.failure(ErrorKind.TIMEOUT, "took too long").toJson();
        assertEquals("{\"status\":\"timed_out\",\"comments\":[],\"error\":{\"kind\":\"timeout\",\"message\":\"took too long\"},"
                + "\"stats\":{}}", json.toString());
    }
}
