package dev.aireview.runner.devserver;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aireview.runner.model.Json;

import java.time.Duration;
import java.util.List;

/**
 * Builds the JSON bodies of {@code POST /api/admin/faults} for {@link DevServer#injectFault}; {@code call} is one
 * of {@code register}, {@code heartbeat}, {@code poll}, {@code status}, {@code logs}, {@code result}.
 */
public final class Fault {
    private Fault() {
    }

    /** The next {@code count} calls of {@code call} answer {@code status} (5xx) without being processed. */
    public static ObjectNode error(String call, int status, int count) {
        ObjectNode n = base("error", count);
        n.put("call", call);
        n.put("status", status);
        return n;
    }

    /** The next {@code count} calls of {@code call} about task {@code taskId} answer {@code status} (5xx); others pass. */
    public static ObjectNode error(String call, String taskId, int status, int count) {
        ObjectNode n = error(call, status, count);
        n.put("taskId", taskId);
        return n;
    }

    /**
     * The next {@code count} calls of {@code call} answer {@code status} (3xx) with a {@code Location} header (a
     * maintenance page, {@code /maintenance}) without being processed.
     */
    public static ObjectNode redirect(String call, int status, int count) {
        ObjectNode n = base("redirect", count);
        n.put("call", call);
        n.put("status", status);
        return n;
    }

    /**
     * The next {@code count} poll answers that hand out tasks are paced over about {@code total}: headers at once, then
     * the body in equal pieces, one every {@code gap}. The rule lists each such answer (its task ids, time, whether
     * it was written whole).
     */
    public static ObjectNode dribble(Duration total, Duration gap, int count) {
        ObjectNode n = base("dribble", count);
        n.put("totalMs", total.toMillis());
        n.put("gapMs", gap.toMillis());
        return n;
    }

    /** The next {@code count} calls of {@code call} answer 429 with {@code Retry-After: retryAfterSeconds}. */
    public static ObjectNode rateLimit(String call, int retryAfterSeconds, int count) {
        ObjectNode n = base("rate_limit", count);
        n.put("call", call);
        n.put("retryAfterSeconds", retryAfterSeconds);
        return n;
    }

    /** The next {@code count} calls get 200 and headers, then the body stalls for {@code stall} (null: never). */
    public static ObjectNode stall(String call, Duration stall, int count) {
        ObjectNode n = base("stall", count);
        n.put("call", call);
        if (stall == null) {
            n.putNull("stallMs");
        } else {
            n.put("stallMs", stall.toMillis());
        }
        return n;
    }

    /** The port is closed for {@code duration} ({@code refused}), or every runner call answers 503 ({@code 503}). */
    public static ObjectNode outage(Duration duration, String kind) {
        ObjectNode n = Json.mapper().createObjectNode();
        n.put("mode", "outage");
        n.put("kind", kind);
        n.put("durationMs", duration.toMillis());
        return n;
    }

    /** The next {@code count} poll answers that hand out tasks list their first task twice. */
    public static ObjectNode duplicate(int count) {
        return base("duplicate", count);
    }

    /** These (enqueued) tasks are held back until one poll can take all of them, then handed out in one answer. */
    public static ObjectNode bundle(List<String> taskIds) {
        ObjectNode n = base("bundle", 1);
        taskIds.forEach(n.putArray("taskIds")::add);
        return n;
    }

    /** When {@code taskId} is next handed out, its copy carries a string field {@code padding} of {@code bytes} chars. */
    public static ObjectNode oversized(String taskId, int bytes) {
        ObjectNode n = base("oversized", 1);
        n.put("taskId", taskId);
        n.put("bytes", bytes);
        return n;
    }

    private static ObjectNode base(String mode, int count) {
        ObjectNode n = Json.mapper().createObjectNode();
        n.put("mode", mode);
        n.put("count", count);
        return n;
    }
}
