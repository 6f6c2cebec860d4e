package dev.aireview.runner.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aireview.runner.model.BadTaskException;
import dev.aireview.runner.model.Json;
import dev.aireview.runner.model.ReviewTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a poll answer task by task. Every task the server handed out is claimed, so one bad task must not take
 * the others with it: a task that cannot be read (wrong types, missing fields, or JSON that breaks off inside
 * it) becomes a {@link ClaimedTask#bad} carrying why, and ends with its own {@code failed/bad_task} result while
 * the others run. Only an entry without a usable id is dropped, since nothing can be reported for it; it is
 * logged by its shape (field names), never its content.
 *
 * <p>Shapes read: {@code {"data": [...]}}, a bare list, {@code {"data": {"tasks"|"items": [...]}}} and a single
 * task object. An answer of which not even the list could be read is a {@link ErrorClass#RETRYABLE} failure:
 * typically an HTML page from a proxy, which claimed nothing.
 */
final class PollAnswer {
    private static final Logger log = LoggerFactory.getLogger(PollAnswer.class);

    private PollAnswer() {
    }

    static List<ClaimedTask> read(CappedBody body, Instant claimedAt) throws ServerException {
        if (body.isEmpty()) {
            return List.of();
        }
        PartialJson.Result json = PartialJson.read(body.bytes());
        String why = body.truncated() ? "the answer is larger than " + BodyShape.size(ServerCall.POLL.maxBodyBytes())
                + " and was cut off" : json.error();
        JsonNode root = json.root();
        if (root == null || (root.isObject() && json.incomplete().contains(root) && !root.has("data") && !isTask(root))) {
            throw unreadable(body, why);
        }
        JsonNode data = root.isObject() && root.has("data") ? root.get("data") : root;
        List<JsonNode> nodes = taskNodes(data);
        if (nodes == null) {
            if (json.complete() && !body.truncated()) {
                return List.of(); // e.g. {"data": null} or {"data": {}}: no task
            }
            throw unreadable(body, why);
        }
        List<ClaimedTask> tasks = new ArrayList<>();
        for (JsonNode node : nodes) {
            boolean cut = json.incomplete().contains(node);
            String id = ReviewTask.idOf(node);
            if (id == null) {
                log.warn("poll answer holds an entry without a usable task id; it cannot be reported and is skipped ({})",
                        shape(node, cut));
                continue;
            }
            if (cut) {
                tasks.add(ClaimedTask.bad(id, "bad task " + id + ": its JSON could not be read: " + why, claimedAt));
                continue;
            }
            try {
                tasks.add(ClaimedTask.parsed(ReviewTask.fromJson(node), claimedAt));
            } catch (BadTaskException e) {
                tasks.add(ClaimedTask.bad(id, e.getMessage(), claimedAt));
            } catch (RuntimeException e) {
                tasks.add(ClaimedTask.bad(id, "bad task " + id + ": its JSON could not be read ("
                        + e.getClass().getSimpleName() + ")", claimedAt));
            }
        }
        if (!json.complete() || body.truncated()) {
            log.error("poll answer could not be read to its end: {}; {} task(s) read up to there ({}); tasks after that point"
                    + " cannot be reported by this runner", why, tasks.size(), BodyShape.describe(body.bytes(), body.truncated()));
        }
        return tasks;
    }

    /** The task entries of a payload; null when the payload holds no list (and is no single task). */
    private static List<JsonNode> taskNodes(JsonNode data) {
        if (data == null || data.isNull() || data.isMissingNode()) {
            return null;
        }
        JsonNode list = data;
        if (data.isObject()) {
            JsonNode inner = Json.field(data, "tasks", "items");
            if (inner != null) {
                list = inner;
            } else if (isTask(data)) {
                return List.of(data);
            } else {
                return null;
            }
        }
        if (!list.isArray()) {
            return null;
        }
        List<JsonNode> nodes = new ArrayList<>();
        list.forEach(nodes::add);
        return nodes;
    }

    private static boolean isTask(JsonNode node) {
        return ReviewTask.idOf(node) != null;
    }

    private static ServerException unreadable(CappedBody body, String why) {
        return new ServerException(ServerCall.POLL, ErrorClass.RETRYABLE, 200, null,
                "poll answered unreadable JSON (" + BodyShape.describe(body.bytes(), body.truncated()) + "): " + why, null);
    }

    /** An entry's shape for a log line: its type and field names, no values. */
    private static String shape(JsonNode node, boolean cut) {
        if (!node.isObject()) {
            return "a JSON " + node.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
        }
        List<String> fields = new ArrayList<>();
        node.fieldNames().forEachRemaining(fields::add);
        if (fields.size() > 20) {
            fields = new ArrayList<>(fields.subList(0, 20));
            fields.add("…");
        }
        return "an object with fields " + fields + (cut ? ", cut off" : "");
    }

}
