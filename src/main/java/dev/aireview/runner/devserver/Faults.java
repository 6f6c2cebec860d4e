package dev.aireview.runner.devserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aireview.runner.model.Json;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Faults injected into the runner calls, for chaos tests: set through {@code POST /api/admin/faults} (or
 * {@link DevServer#injectFault}), listed with every injection counted by {@code GET /api/admin/faults}. See the
 * "Fault injection" section of {@code docs/dev-server.md}.
 *
 * <p>Rules are consumed in the order they were added: the first rule of a call kind with injections left
 * decides the next call of that kind. An error, a redirect or a stall happens <em>before</em> the call is processed, so a
 * call answered with a fault changed nothing on the server (a stalled call that is released later is processed
 * then). The poll rules ({@code duplicate}, {@code bundle}, {@code oversized}) change what a poll hands out and are
 * asked by {@link DevServerStore} and {@link RunnerApi}. One lock of its own; it never calls the store, so the
 * store may call it under its lock.
 */
final class Faults {
    /** The runner calls a fault can target; {@code wire} is the name used in the admin API. */
    enum Call {
        REGISTER, HEARTBEAT, POLL, STATUS, LOGS, RESULT;

        String wire() {
            return name().toLowerCase(Locale.ROOT);
        }

        static Call fromWire(String s) {
            for (Call c : values()) {
                if (c.wire().equals(s)) {
                    return c;
                }
            }
            throw ApiException.badRequest("unknown call '" + s + "'; one of register, heartbeat, poll, status, logs, result");
        }
    }

    /** What happens to one call: answered with an error, or its body stalled (null {@code stall}: until released). */
    sealed interface Action permits Error, Stall, Redirect {
    }

    /** Answered with a 3xx {@code status} and {@code Location: location}; not processed. */
    record Redirect(int status, String location) implements Action {
    }

    /** A poll answer paced over {@code total}, a piece every {@code gap} (see {@link #dribbleNext()}). */
    record Dribble(long ruleId, Duration total, Duration gap, long generation) {
    }

    /** The longest a dribble may take ({@code totalMs}), and the most pieces it may be cut into ({@code totalMs / gapMs}). */
    static final long MAX_DRIBBLE_MS = 600_000;
    static final long MAX_DRIBBLE_PIECES = 10_000;

    record Error(int status, Integer retryAfterSeconds, String detail) implements Action {
    }

    record Stall(Duration stall) implements Action {
    }

    private static final class Rule {
        final long id;
        final Call call;
        final String mode;
        final int count;
        int remaining;
        int applied;
        final int status;
        final Integer retryAfterSeconds;
        final Duration stall;
        final List<String> taskIds;
        final int bytes;
        final String field;
        /** dribble: the gap between pieces ({@code stall} is the whole answer's time); redirect: {@code field} is the Location. */
        Duration gap;
        /** dribble: each answer paced so far (runner, task ids, pieces, time taken, written whole or not). */
        final ArrayNode answers = Json.mapper().createArrayNode();
        /** error, redirect: the task of each call it answered, in order (null for a call not about a task). */
        final List<String> hits = new ArrayList<>();

        Rule(long id, Call call, String mode, int count, int status, Integer retryAfterSeconds, Duration stall,
             List<String> taskIds, int bytes, String field) {
            this.id = id;
            this.call = call;
            this.mode = mode;
            this.count = count;
            this.remaining = count;
            this.status = status;
            this.retryAfterSeconds = retryAfterSeconds;
            this.stall = stall;
            this.taskIds = taskIds;
            this.bytes = bytes;
            this.field = field;
        }

        ObjectNode toJson() {
            ObjectNode n = Json.mapper().createObjectNode();
            n.put("id", id);
            n.put("call", call.wire());
            n.put("mode", mode);
            n.put("count", count);
            n.put("remaining", remaining);
            n.put("applied", applied);
            switch (mode) {
                case "error" -> {
                    n.put("status", status);
                    if (!taskIds.isEmpty()) {
                        n.put("taskId", taskIds.get(0));
                    }
                    n.set("hits", ids(hits));
                }
                case "redirect" -> {
                    n.put("status", status);
                    n.put("location", field);
                    n.set("hits", ids(hits));
                }
                case "dribble" -> {
                    n.put("totalMs", stall.toMillis());
                    n.put("gapMs", gap.toMillis());
                    n.set("answers", answers.deepCopy());
                }
                case "rate_limit" -> n.put("retryAfterSeconds", retryAfterSeconds);
                case "stall" -> {
                    if (stall == null) {
                        n.putNull("stallMs");
                    } else {
                        n.put("stallMs", stall.toMillis());
                    }
                }
                case "bundle" -> n.set("taskIds", ids(taskIds));
                case "oversized" -> {
                    n.put("taskId", taskIds.get(0));
                    n.put("bytes", bytes);
                    n.put("field", field);
                }
                default -> {
                }
            }
            return n;
        }
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition released = lock.newCondition();
    private final List<Rule> rules = new ArrayList<>();
    private final Map<String, Integer> injected = new LinkedHashMap<>();
    private long ruleSeq;
    /** Bumped by {@link #release()}: a stall started under an older generation ends. */
    private long generation;
    private boolean closed;
    private long unavailableUntilNanos;
    private boolean unavailable;

    // ---------------------------------------------------------------- rules

    /**
     * Adds a rule from its admin JSON; returns the rule as JSON (with its id). Outages are not rules: see
     * {@link DevServer#injectFault}.
     */
    ObjectNode add(JsonNode spec) {
        if (spec == null || !spec.isObject()) {
            throw ApiException.badRequest("a fault must be a JSON object");
        }
        String mode = Json.text(spec, "mode");
        if (mode == null) {
            throw ApiException.badRequest("missing field 'mode'");
        }
        mode = mode.trim().toLowerCase(Locale.ROOT);
        int count = intOr(spec, "count", 1);
        if (count < 1) {
            throw ApiException.badRequest("'count' must be at least 1");
        }
        Rule rule = switch (mode) {
            case "error" -> {
                int status = intOr(spec, "status", 503);
                if (status < 500 || status > 599) {
                    throw ApiException.badRequest("'status' of an error fault must be a 5xx code");
                }
                String taskId = Json.text(spec, "taskId", "task_id");
                yield new Rule(0, call(spec), mode, count, status, retryAfter(spec, null), null,
                        taskId == null ? List.of() : List.of(taskId), 0, null);
            }
            case "redirect" -> {
                int status = intOr(spec, "status", 307);
                if (status < 300 || status > 399) {
                    throw ApiException.badRequest("'status' of a redirect fault must be a 3xx code");
                }
                String location = Json.text(spec, "location");
                yield new Rule(0, call(spec), mode, count, status, null, null, List.of(), 0,
                        location == null ? "/maintenance" : location);
            }
            case "dribble" -> {
                long total = longOr(spec, "totalMs", -1);
                long gap = longOr(spec, "gapMs", -1);
                if (total < 0 || gap < 1) {
                    throw ApiException.badRequest("a dribble needs 'totalMs' (>= 0) and 'gapMs' (>= 1)");
                }
                if (total > MAX_DRIBBLE_MS || total / gap > MAX_DRIBBLE_PIECES) {
                    throw ApiException.badRequest("a dribble takes at most " + MAX_DRIBBLE_MS + " ms in at most "
                            + MAX_DRIBBLE_PIECES + " pieces ('totalMs' / 'gapMs')");
                }
                Rule r = new Rule(0, Call.POLL, mode, count, 200, null, Duration.ofMillis(total), List.of(), 0, null);
                r.gap = Duration.ofMillis(gap);
                yield r;
            }
            case "rate_limit" -> new Rule(0, call(spec), mode, count, 429, retryAfter(spec, 1), null, List.of(), 0, null);
            case "stall" -> {
                JsonNode ms = Json.field(spec, "stallMs", "stall_ms");
                Duration stall = null;
                if (ms != null && !ms.isNull()) {
                    if (!ms.canConvertToLong() || ms.asLong() < 0) {
                        throw ApiException.badRequest("'stallMs' must be a non-negative number, or null for a stall that never ends");
                    }
                    stall = Duration.ofMillis(ms.asLong());
                }
                yield new Rule(0, call(spec), mode, count, 200, null, stall, List.of(), 0, null);
            }
            case "duplicate" -> new Rule(0, Call.POLL, mode, count, 200, null, null, List.of(), 0, null);
            case "bundle" -> {
                List<String> ids = new ArrayList<>();
                JsonNode list = Json.field(spec, "taskIds", "task_ids");
                if (list != null && list.isArray()) {
                    list.forEach(i -> ids.add(i.asText()));
                }
                if (ids.size() < 2 || new LinkedHashSet<>(ids).size() != ids.size()) {
                    throw ApiException.badRequest("'taskIds' of a bundle must list at least two distinct task ids");
                }
                yield new Rule(0, Call.POLL, mode, 1, 200, null, null, List.copyOf(ids), 0, null);
            }
            case "oversized" -> {
                String taskId = Json.text(spec, "taskId", "task_id");
                if (taskId == null) {
                    throw ApiException.badRequest("missing field 'taskId'");
                }
                int bytes = intOr(spec, "bytes", 20_000_001);
                if (bytes < 1) {
                    throw ApiException.badRequest("'bytes' must be positive");
                }
                String field = Json.text(spec, "field");
                yield new Rule(0, Call.POLL, mode, count, 200, null, null, List.of(taskId), bytes,
                        field == null ? "padding" : field);
            }
            default -> throw ApiException.badRequest("unknown fault mode '" + mode
                    + "'; one of error, rate_limit, stall, redirect, duplicate, bundle, oversized, dribble, outage");
        };
        lock.lock();
        try {
            Rule r = new Rule(++ruleSeq, rule.call, rule.mode, rule.count, rule.status, rule.retryAfterSeconds,
                    rule.stall, rule.taskIds, rule.bytes, rule.field);
            r.gap = rule.gap;
            rules.add(r);
            return r.toJson();
        } finally {
            lock.unlock();
        }
    }

    /** Removes every rule, ends a 503 outage and releases every stalled call (they are processed now). */
    void clear() {
        lock.lock();
        try {
            rules.clear();
            unavailable = false;
            release();
        } finally {
            lock.unlock();
        }
    }

    /** Ends every stall in progress; released calls are processed and answered. */
    void release() {
        lock.lock();
        try {
            generation++;
            released.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** At server stop: every stall ends, and none starts again. */
    void close() {
        lock.lock();
        try {
            closed = true;
            release();
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- outage (503 kind)

    /** For {@code duration}, every runner call (and {@code /api/health}) answers 503 without being processed. */
    void unavailableFor(Duration duration) {
        lock.lock();
        try {
            unavailable = true;
            unavailableUntilNanos = System.nanoTime() + duration.toNanos();
        } finally {
            lock.unlock();
        }
    }

    /** Counts an outage that closes the port (kept by {@link DevServer}). */
    void countOutage(String kind) {
        lock.lock();
        try {
            injected.merge("outage:" + kind, 1, Integer::sum);
        } finally {
            lock.unlock();
        }
    }

    /** True while a 503 outage lasts; the first call that sees it over ends it. */
    boolean unavailable() {
        lock.lock();
        try {
            if (unavailable && System.nanoTime() - unavailableUntilNanos >= 0) {
                unavailable = false;
            }
            return unavailable;
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- per call

    /**
     * The fault for the next call of {@code call} (on task {@code taskId}, null for calls not about a task), or null:
     * consumes one injection of the first matching rule. An error rule with a {@code taskId} hits only that task's calls.
     */
    Action next(Call call, String taskId) {
        lock.lock();
        try {
            if (unavailable()) {
                count("outage:503:" + call.wire());
                return new Error(503, 1, "the server is unavailable (injected outage)");
            }
            for (Rule r : rules) {
                if (r.call != call || r.remaining <= 0
                        || (r.mode.equals("error") && !r.taskIds.isEmpty() && !r.taskIds.get(0).equals(taskId))) {
                    continue;
                }
                Action a = switch (r.mode) {
                    case "redirect" -> new Redirect(r.status, r.field);
                    case "error" -> new Error(r.status, r.retryAfterSeconds, "injected fault: HTTP " + r.status);
                    case "rate_limit" -> new Error(429, r.retryAfterSeconds, "injected fault: rate limited");
                    case "stall" -> new Stall(r.stall);
                    default -> null;
                };
                if (a == null) {
                    continue;
                }
                consume(r);
                if (r.mode.equals("error") || r.mode.equals("redirect")) {
                    r.hits.add(taskId);
                }
                return a;
            }
            return null;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits out a stall: until it has lasted {@code stall} (forever when null), {@link #release()} or
     * {@link #close()}. Returns false when the server closed meanwhile (the call is then not processed).
     */
    boolean awaitStall(Duration stall) throws InterruptedException {
        lock.lock();
        try {
            long gen = generation;
            long deadline = stall == null ? 0 : System.nanoTime() + stall.toNanos();
            while (!closed && gen == generation) {
                if (stall == null) {
                    released.await();
                } else {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        break;
                    }
                    released.awaitNanos(left);
                }
            }
            return !closed;
        } finally {
            lock.unlock();
        }
    }

    /** True when the next poll answer that hands out tasks lists its first task twice (consumes one injection). */
    boolean duplicateNext() {
        lock.lock();
        try {
            for (Rule r : rules) {
                if (r.mode.equals("duplicate") && r.remaining > 0) {
                    consume(r);
                    return true;
                }
            }
            return false;
        } finally {
            lock.unlock();
        }
    }

    /** The pacing of the next poll answer that hands out tasks, or null (consumes one injection). */
    Dribble dribbleNext() {
        lock.lock();
        try {
            for (Rule r : rules) {
                if (r.mode.equals("dribble") && r.remaining > 0) {
                    consume(r);
                    return new Dribble(r.id, r.stall, r.gap, generation);
                }
            }
            return null;
        } finally {
            lock.unlock();
        }
    }

    /** What a dribble does after a piece: wait the gap and go on, write the rest at once, or stop. */
    enum Pace { PACED, RELEASED, CLOSED }

    /**
     * Waits one gap of {@code dribble}. Returns at once with {@link Pace#RELEASED} once the faults were released
     * ({@code DELETE /api/admin/faults}) after the dribble began — its rest is then written without pacing, so a
     * released dribble never lasts — and with {@link Pace#CLOSED} when the server is stopping.
     */
    Pace pace(Dribble dribble) throws InterruptedException {
        lock.lock();
        try {
            long deadline = System.nanoTime() + dribble.gap().toNanos();
            while (!closed && generation == dribble.generation()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return Pace.PACED;
                }
                released.awaitNanos(left);
            }
            return closed ? Pace.CLOSED : Pace.RELEASED;
        } finally {
            lock.unlock();
        }
    }

    /** Records one dribbled answer on its rule: its runner and tasks, pieces, time taken, whether it was written whole. */
    void dribbled(long ruleId, String runnerId, List<String> taskIds, int pieces, long millis, boolean whole) {
        lock.lock();
        try {
            for (Rule r : rules) {
                if (r.id == ruleId) {
                    ObjectNode a = r.answers.addObject();
                    a.put("runnerId", runnerId);
                    a.set("taskIds", ids(taskIds));
                    a.put("pieces", pieces);
                    a.put("ms", millis);
                    a.put("whole", whole);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** Task ids held back for an unclaimed bundle (the store hands them out together, or not at all). */
    Set<String> heldForBundles() {
        lock.lock();
        try {
            Set<String> held = new LinkedHashSet<>();
            for (Rule r : rules) {
                if (r.mode.equals("bundle") && r.remaining > 0) {
                    held.addAll(r.taskIds);
                }
            }
            return held;
        } finally {
            lock.unlock();
        }
    }

    /** Unclaimed bundles, oldest first, as lists of task ids. */
    List<List<String>> bundles() {
        lock.lock();
        try {
            List<List<String>> out = new ArrayList<>();
            for (Rule r : rules) {
                if (r.mode.equals("bundle") && r.remaining > 0) {
                    out.add(r.taskIds);
                }
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    /** Marks the bundle with these ids handed out. */
    void bundleClaimed(List<String> taskIds) {
        lock.lock();
        try {
            for (Rule r : rules) {
                if (r.mode.equals("bundle") && r.remaining > 0 && r.taskIds.equals(taskIds)) {
                    consume(r);
                    return;
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Pads the copy of a task about to be sent with an oversized string field when a rule targets it (consumes one
     * injection); returns whether it did.
     */
    boolean padIfOversized(ObjectNode taskCopy, String taskId) {
        Rule match = null;
        lock.lock();
        try {
            for (Rule r : rules) {
                if (r.mode.equals("oversized") && r.remaining > 0 && r.taskIds.get(0).equals(taskId)) {
                    consume(r);
                    match = r;
                    break;
                }
            }
        } finally {
            lock.unlock();
        }
        if (match == null) {
            return false;
        }
        taskCopy.put(match.field, "x".repeat(match.bytes));
        return true;
    }

    private void consume(Rule r) {
        r.remaining--;
        r.applied++;
        count(r.call.wire() + ":" + r.mode);
    }

    private void count(String key) {
        injected.merge(key, 1, Integer::sum);
    }

    /** {@code GET /api/admin/faults}: the rules (with what is left of each) and every injection counted by kind. */
    ObjectNode toJson() {
        lock.lock();
        try {
            ObjectNode n = Json.mapper().createObjectNode();
            ArrayNode list = n.putArray("rules");
            rules.forEach(r -> list.add(r.toJson()));
            ObjectNode counts = n.putObject("injected");
            injected.forEach(counts::put);
            n.put("unavailable", unavailable());
            return n;
        } finally {
            lock.unlock();
        }
    }

    /** Every injection so far, by {@code call:mode} (and {@code outage:<kind>}). */
    Map<String, Integer> injected() {
        lock.lock();
        try {
            return Map.copyOf(injected);
        } finally {
            lock.unlock();
        }
    }

    private static Call call(JsonNode spec) {
        String c = Json.text(spec, "call");
        if (c == null) {
            throw ApiException.badRequest("missing field 'call'");
        }
        return Call.fromWire(c.trim().toLowerCase(Locale.ROOT));
    }

    private static Integer retryAfter(JsonNode spec, Integer dflt) {
        Integer v = Http.intField(spec, "retryAfterSeconds", "retry_after_seconds");
        if (v != null && v < 0) {
            throw ApiException.badRequest("'retryAfterSeconds' must not be negative");
        }
        return v == null ? dflt : v;
    }

    private static long longOr(JsonNode spec, String name, long dflt) {
        JsonNode v = Json.field(spec, name);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.canConvertToLong()) {
            throw ApiException.badRequest("'" + name + "' must be a number");
        }
        return v.asLong();
    }

    private static int intOr(JsonNode spec, String name, int dflt) {
        Integer v = Http.intField(spec, name);
        return v == null ? dflt : v;
    }

    private static ArrayNode ids(List<String> ids) {
        ArrayNode a = Json.mapper().createArrayNode();
        ids.forEach(a::add);
        return a;
    }
}
