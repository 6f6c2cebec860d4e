package dev.aireview.runner.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aireview.runner.model.BadTaskException;
import dev.aireview.runner.model.ReviewTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a poll answer task by task. Every task the server handed out is claimed, so one bad task must not take
 * the others with it: a task that cannot be read (wrong types, missing fields, JSON that breaks off inside it,
 * or larger than {@link TaskListScanner#MAX_TASK_BYTES}) becomes a {@link ClaimedTask#bad} carrying why, and
 * ends with its own {@code failed/bad_task} result while the others run. Only an entry without a usable id is
 * dropped, since nothing can be reported for it; it is logged by its shape (field names), never its content.
 *
 * <p>The answer is split into entries as it arrives ({@link TaskListScanner}); each entry within the caps is
 * parsed here, one at a time. Shapes read: {@code {"data": [...]}}, a bare list, {@code {"data": {"tasks"|"items":
 * [...]}}} and a single task object. An answer of which not even the list could be read is a
 * {@link ErrorClass#RETRYABLE} failure: typically an HTML page from a proxy, which claimed nothing.
 */
final class PollAnswer {
    private static final Logger log = LoggerFactory.getLogger(PollAnswer.class);
    /** Entries without an id logged one by one; past that only counted (an answer may hold thousands). */
    private static final int MAX_SKIP_LOGS = 20;

    private PollAnswer() {
    }

    /** Reads an answer already in memory (tests). */
    static List<ClaimedTask> read(byte[] body, Instant claimedAt) throws ServerException {
        return read(TaskListScanner.scan(body), claimedAt);
    }

    static List<ClaimedTask> read(TaskListScanner.Result scan, Instant claimedAt) throws ServerException {
        String why = scan.truncated() ? "the answer is larger than " + BodyShape.size(TaskListScanner.MAX_SCAN_BYTES)
                + " and was cut off" : scan.error();
        if (!scan.readable()) {
            throw new ServerException(ServerCall.POLL, ErrorClass.RETRYABLE, 200, null,
                    "poll answered unreadable JSON (" + describe(scan) + "): " + why, null);
        }
        List<TaskListScanner.Entry> entries = scan.entries();
        if (entries == null) {
            if (scan.complete()) {
                return List.of(); // e.g. {"data": null} or {"data": {}}: no task
            }
            throw new ServerException(ServerCall.POLL, ErrorClass.RETRYABLE, 200, null,
                    "poll answered unreadable JSON (" + describe(scan) + "): " + why, null);
        }
        List<ClaimedTask> tasks = new ArrayList<>();
        int skipped = 0;
        for (int i = 0; i < entries.size(); i++) {
            TaskListScanner.Entry entry = entries.get(i);
            entries.set(i, null); // its bytes can go once it is read
            ClaimedTask task = claim(entry, why, claimedAt);
            if (task != null) {
                tasks.add(task);
            } else if (++skipped <= MAX_SKIP_LOGS) {
                log.warn("poll answer holds an entry without a usable task id; it cannot be reported and is skipped ({})",
                        shape(entry));
            }
        }
        if (skipped > MAX_SKIP_LOGS) {
            log.warn("poll answer holds {} entries without a usable task id in all; they are skipped", skipped);
        }
        if (!scan.complete()) {
            log.error("poll answer could not be read to its end: {}; {} task(s) read up to there ({}); tasks after that point"
                    + " cannot be reported by this runner", why, tasks.size(), describe(scan));
        }
        return tasks;
    }

    /** One entry as a claimed task; null (and logged) when it has no usable id. */
    private static ClaimedTask claim(TaskListScanner.Entry entry, String why, Instant claimedAt) {
        String id = entry.id();
        if (entry.json() != null) {
            PartialJson.Result json = PartialJson.read(entry.json());
            if (json.complete()) {
                JsonNode node = json.root();
                id = ReviewTask.idOf(node);
                if (id == null) {
                    return null;
                }
                try {
                    return ClaimedTask.parsed(ReviewTask.fromJson(node), claimedAt);
                } catch (BadTaskException e) {
                    return ClaimedTask.bad(id, e.getMessage(), claimedAt);
                } catch (RuntimeException e) {
                    return ClaimedTask.bad(id, "bad task " + id + ": its JSON could not be read ("
                            + e.getClass().getSimpleName() + ")", claimedAt);
                }
            }
            if (id == null) {
                return null;
            }
            return ClaimedTask.bad(id, "bad task " + id + ": its JSON could not be read: " + json.error(), claimedAt);
        }
        if (id == null) {
            return null;
        }
        if (!entry.complete()) {
            return ClaimedTask.bad(id, "bad task " + id + ": its JSON could not be read: " + why, claimedAt);
        }
        String size = BodyShape.size(entry.size());
        return switch (entry.skip()) {
            case OVER_BUDGET -> ClaimedTask.bad(id, "bad task " + id + ": the answer's tasks are larger than "
                    + BodyShape.size(TaskListScanner.MAX_KEPT_BYTES) + " together; this one (" + size + ") was not read", claimedAt);
            default -> ClaimedTask.bad(id, "bad task " + id + ": task is larger than "
                    + TaskListScanner.MAX_TASK_BYTES + " bytes (" + size + "); not read", claimedAt);
        };
    }

    private static String describe(TaskListScanner.Result scan) {
        return BodyShape.describe(scan.size(), scan.head(), scan.truncated());
    }

    /** An entry's shape for a log line: its type, size and field names, no values. */
    private static String shape(TaskListScanner.Entry entry) {
        if (!entry.kind().equals("object")) {
            return "a JSON " + entry.kind();
        }
        return "an object of " + BodyShape.size(entry.size()) + " with fields " + entry.fields()
                + (entry.complete() ? "" : ", cut off") + (entry.skip() == TaskListScanner.Skip.NONE ? "" : ", too large to read");
    }
}
