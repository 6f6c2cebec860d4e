package dev.aireview.runner.devserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import dev.aireview.runner.model.Json;
import dev.aireview.runner.model.ReviewTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The runner side of PROTOCOL.md under {@code /api/runners/}: register, heartbeat, poll, status, logs, result. */
final class RunnerApi extends JsonHandler {
    static final String PREFIX = "/api/runners";
    private static final int MAX_TASKS_PER_POLL = 100;

    private static final Logger log = LoggerFactory.getLogger(RunnerApi.class);

    private final DevServerStore store;
    private final DevServerOptions options;
    private final Faults faults;

    RunnerApi(DevServerStore store, DevServerOptions options, Faults faults) {
        this.store = store;
        this.options = options;
        this.faults = faults;
    }

    @Override
    void route(HttpExchange ex) throws IOException, InterruptedException {
        Http.requireToken(ex, List.of(options.token()));
        List<String> seg = Http.segments(ex, PREFIX);
        Faults.Call call = callOf(seg);
        if (call != null && !survivesFault(ex, call, seg.size() == 3 ? seg.get(1) : null)) {
            return;
        }
        if (seg.size() == 1 && seg.get(0).equals("register")) {
            requireMethod(ex, "POST");
            register(ex);
        } else if (seg.size() == 2 && seg.get(0).equals("tasks") && seg.get(1).equals("pending")) {
            requireMethod(ex, "GET");
            poll(ex);
        } else if (seg.size() == 3 && seg.get(0).equals("tasks")) {
            requireMethod(ex, "POST");
            switch (seg.get(2)) {
                case "status" -> status(ex, seg.get(1));
                case "logs" -> logs(ex, seg.get(1));
                case "result" -> result(ex, seg.get(1));
                default -> throw ApiException.notFound("no such call: " + ex.getRequestURI().getPath());
            }
        } else if (seg.size() == 2 && seg.get(1).equals("heartbeat")) {
            requireMethod(ex, "POST");
            heartbeat(ex, seg.get(0));
        } else {
            throw ApiException.notFound("no such call: " + ex.getRequestURI().getPath());
        }
    }

    private static Faults.Call callOf(List<String> seg) {
        if (seg.size() == 1 && seg.get(0).equals("register")) {
            return Faults.Call.REGISTER;
        }
        if (seg.size() == 2 && seg.get(0).equals("tasks") && seg.get(1).equals("pending")) {
            return Faults.Call.POLL;
        }
        if (seg.size() == 2 && seg.get(1).equals("heartbeat")) {
            return Faults.Call.HEARTBEAT;
        }
        if (seg.size() == 3 && seg.get(0).equals("tasks")) {
            return switch (seg.get(2)) {
                case "status" -> Faults.Call.STATUS;
                case "logs" -> Faults.Call.LOGS;
                case "result" -> Faults.Call.RESULT;
                default -> null;
            };
        }
        return null;
    }

    /**
     * Applies the injected fault of this call, if any, before the call is processed: an error answers it (nothing
     * changes on the server); a stall sends {@code 200} and the headers, then holds the body until the stall ends
     * (then the call is processed and its answer is the body) or the server stops (never processed). Returns
     * whether the call is to be processed.
     */
    private boolean survivesFault(HttpExchange ex, Faults.Call call, String taskId) throws IOException, InterruptedException {
        Faults.Action action = faults.next(call, taskId);
        if (action == null) {
            return true;
        }
        if (action instanceof Faults.Error e) {
            log.debug("{} {}: injected HTTP {}", ex.getRequestMethod(), ex.getRequestURI().getPath(), e.status());
            if (e.retryAfterSeconds() != null) {
                ex.getResponseHeaders().set("Retry-After", Integer.toString(e.retryAfterSeconds()));
            }
            Http.sendError(ex, e.status(), e.detail());
            return false;
        }
        if (action instanceof Faults.Redirect r) {
            log.debug("{} {}: injected HTTP {} to {}", ex.getRequestMethod(), ex.getRequestURI().getPath(), r.status(), r.location());
            ex.getResponseHeaders().set("Location", r.location());
            Http.sendError(ex, r.status(), "injected fault: moved to " + r.location());
            return false;
        }
        Faults.Stall stall = (Faults.Stall) action;
        log.debug("{} {}: injected stall of {}", ex.getRequestMethod(), ex.getRequestURI().getPath(),
                stall.stall() == null ? "ever" : stall.stall().toMillis() + " ms");
        Http.sendHeadersNow(ex, 200);
        if (!faults.awaitStall(stall.stall())) {
            ex.close();
            return false;
        }
        return true;
    }

    private void register(HttpExchange ex) throws IOException {
        JsonNode body = Http.readJson(ex);
        String name = first(Http.header(ex, "x-runner-name"), Json.text(body, "name"));
        String id = first(Http.header(ex, "x-runner-id"), Json.text(body, "id", "runnerId", "runner_id"), name);
        if (id == null) {
            throw ApiException.badRequest("missing runner id: send the 'x-runner-id' header or a 'name' in the body");
        }
        String version = first(Http.header(ex, "x-runner-version"), Json.text(body, "version"));
        Integer max = Http.intParam(Http.header(ex, "x-runner-max-concurrency"), "x-runner-max-concurrency");
        if (max == null) {
            max = Http.intField(body, "maxConcurrentJobs", "max_concurrent_jobs", "maxConcurrency", "max_concurrency");
        }
        List<String> tags = null;
        String tagHeader = ex.getRequestHeaders().getFirst("x-runner-tags");
        if (tagHeader != null) {
            tags = Arrays.stream(tagHeader.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
        } else if (Json.field(body, "tags") != null && body.get("tags").isArray()) {
            tags = new ArrayList<>();
            for (JsonNode t : body.get("tags")) {
                tags.add(t.asText());
            }
        }
        DevServerStore.Registration reg = store.register(id, name, version, max, tags, Json.text(body, "hostname"));
        ObjectNode data = reg.runner().toJson();
        data.put("heartbeatTimeoutMs", options.heartbeatTimeout().toMillis());
        Http.sendData(ex, reg.created() ? 201 : 200, data);
    }

    private void heartbeat(HttpExchange ex, String runnerId) throws IOException {
        JsonNode body = Http.readJson(ex);
        List<String> running = null;
        JsonNode r = Json.field(body, "runningTaskIds", "running_task_ids", "runningTasks", "running_tasks");
        if (r != null && r.isArray()) {
            running = new ArrayList<>();
            for (JsonNode n : r) {
                String id = n.isObject() ? ReviewTask.idOf(n) : n.asText();
                if (id != null && !id.isBlank()) {
                    running.add(id);
                }
            }
        }
        String status = Json.text(body, "status");
        JsonNode draining = Json.field(body, "draining");
        if (draining != null && draining.asBoolean() && !"offline".equalsIgnoreCase(status)) {
            status = "draining"; // the upstream dialect: busy + draining:true; the dashboard shows it as its own state
        }
        List<String> cancel = store.heartbeat(runnerId, status,
                Http.intField(body, "activeJobs", "active_jobs"),
                Http.intField(body, "maxConcurrentJobs", "max_concurrent_jobs"), running);
        ObjectNode data = Json.mapper().createObjectNode();
        ArrayNode ids = data.putArray("cancelTaskIds");
        cancel.forEach(ids::add);
        Http.sendData(ex, 200, data);
    }

    private void poll(HttpExchange ex) throws IOException, InterruptedException {
        Map<String, String> q = Http.query(ex);
        String runnerId = first(q.get("runnerId"), q.get("runner_id"), Http.header(ex, "x-runner-id"));
        if (runnerId == null) {
            throw ApiException.badRequest("missing query parameter 'runnerId'");
        }
        Integer maxTasks = Http.intParam(first(q.get("maxTasks"), q.get("max_tasks"), q.get("limit")), "maxTasks");
        Integer waitMs = Http.intParam(first(q.get("waitMs"), q.get("wait_ms")), "waitMs");
        int max = Math.max(0, Math.min(maxTasks == null ? 1 : maxTasks, MAX_TASKS_PER_POLL));
        long wait = Math.max(0, Math.min(waitMs == null ? 0 : waitMs, options.maxPollWait().toMillis()));
        List<ObjectNode> claimed = store.poll(runnerId, max, Duration.ofMillis(wait));
        if (claimed.isEmpty()) {
            Http.sendData(ex, 200, Json.mapper().createArrayNode());
            return;
        }
        streamTasks(ex, runnerId, claimed);
    }

    /**
     * Sends claimed tasks as the upstream server should: the headers at once, then the tasks one by one as they are
     * written, so that a large answer shows its progress to the runner (whose poll deadline is a liveness bound). When
     * the connection breaks, only the tasks not yet written whole go back to the queue: the runner keeps the tasks it
     * read whole, and one it did not get after all is re-queued as never acknowledged. An injected dribble paces the
     * whole answer over its time, a piece every gap (see {@link Faults#dribbleNext()}).
     */
    private void streamTasks(HttpExchange ex, String runnerId, List<ObjectNode> claimed) throws IOException {
        Faults.Dribble dribble = faults.dribbleNext();
        if (dribble == null) {
            streamTasksAtOnce(ex, runnerId, claimed);
            return;
        }
        // the headers first, as in streamTasksAtOnce: serializing a large task must not delay them
        OutputStream stream = Http.stream(ex, 200);
        List<byte[]> pieces = new ArrayList<>();
        pieces.add("{\"data\":[".getBytes(StandardCharsets.UTF_8));
        for (int i = 0; i < claimed.size(); i++) {
            ObjectNode t = claimed.get(i);
            faults.padIfOversized(t, ReviewTask.idOf(t));
            byte[] json = Json.mapper().writeValueAsBytes(t);
            if (i > 0) {
                byte[] withComma = new byte[json.length + 1];
                withComma[0] = ',';
                System.arraycopy(json, 0, withComma, 1, json.length);
                json = withComma;
            }
            pieces.add(json);
        }
        pieces.add("]}".getBytes(StandardCharsets.UTF_8));
        long size = pieces.stream().mapToLong(p -> p.length).sum();
        Pacer pacer = new Pacer(dribble, size);
        long started = System.nanoTime();
        int written = 0;
        boolean whole = false;
        try (OutputStream out = stream) {
            long sent = 0;
            for (int i = 0; i < pieces.size(); i++) {
                byte[] piece = pieces.get(i);
                pacer.write(out, piece, sent + piece.length == size);
                sent += piece.length;
                if (i > 0 && i <= claimed.size()) {
                    written++;
                }
            }
            whole = true;
        } catch (IOException e) {
            unclaimUnwritten(runnerId, claimed, written);
            throw e;
        } finally {
            ex.close();
            faults.dribbled(dribble.ruleId(), runnerId, claimed.stream().map(ReviewTask::idOf).toList(), pacer.pieces,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), whole);
        }
    }

    /** The runner hung up: the tasks not yet written whole go back to the queue. */
    private void unclaimUnwritten(String runnerId, List<ObjectNode> claimed, int written) {
        List<String> ids = new ArrayList<>();
        for (ObjectNode t : claimed.subList(written, claimed.size())) {
            ids.add(ReviewTask.idOf(t));
        }
        if (!ids.isEmpty()) {
            store.unclaim(runnerId, ids);
        }
    }

    /** The undribbled answer: the headers at once, then each task serialized straight into the body and flushed. */
    private void streamTasksAtOnce(HttpExchange ex, String runnerId, List<ObjectNode> claimed) throws IOException {
        int written = 0;
        try (OutputStream out = Http.stream(ex, 200);
             com.fasterxml.jackson.core.JsonGenerator g = Json.mapper().getFactory().createGenerator(out)) {
            g.writeStartObject();
            g.writeFieldName("data");
            g.writeStartArray();
            for (ObjectNode t : claimed) {
                faults.padIfOversized(t, ReviewTask.idOf(t));
                Json.mapper().writeTree(g, t);
                g.flush();
                written++;
            }
            g.writeEndArray();
            g.writeEndObject();
        } catch (IOException e) {
            unclaimUnwritten(runnerId, claimed, written);
            throw e;
        } finally {
            ex.close();
        }
    }

    /**
     * Writes an answer of {@code size} bytes in pieces of equal size (each task in its own pieces), flushed one by one
     * with a gap between them, so that it lasts about the dribble's time and is never idle for longer than a gap. The
     * number of pieces is bounded by the rule ({@link Faults#MAX_DRIBBLE_PIECES} plus one per task). Once the faults
     * are released the rest goes at once; when the server stops the answer ends (an {@link IOException}).
     */
    private final class Pacer {
        private final Faults.Dribble dribble;
        private final int pieceSize;
        private boolean released;
        int pieces;

        Pacer(Faults.Dribble dribble, long size) {
            this.dribble = dribble;
            long n = Math.max(1, dribble.total().toMillis() / dribble.gap().toMillis());
            this.pieceSize = (int) Math.min(Integer.MAX_VALUE, Math.max(1, (size + n - 1) / n));
        }

        void write(OutputStream out, byte[] bytes, boolean endsTheAnswer) throws IOException {
            for (int at = 0; at < bytes.length; at += pieceSize) {
                if (released) {
                    out.write(bytes, at, bytes.length - at);
                    out.flush();
                    pieces++;
                    return;
                }
                out.write(bytes, at, Math.min(pieceSize, bytes.length - at));
                out.flush();
                pieces++;
                if (endsTheAnswer && at + pieceSize >= bytes.length) {
                    return; // no gap after the last byte
                }
                try {
                    Faults.Pace pace = faults.pace(dribble);
                    if (pace == Faults.Pace.CLOSED) {
                        throw new IOException("the dev server is stopping");
                    }
                    released = pace == Faults.Pace.RELEASED;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while dribbling a poll answer", e);
                }
            }
        }
    }

    private void status(HttpExchange ex, String taskId) throws IOException {
        JsonNode body = Http.readJson(ex);
        String runnerId = runnerOf(ex, body);
        store.status(taskId, runnerId, Json.text(body, "status", "phase"), Json.text(body, "message"),
                Json.text(body, "at", "timestamp", "ts"));
        ObjectNode data = Json.mapper().createObjectNode();
        data.put("id", taskId);
        data.put("phase", Json.text(body, "status", "phase"));
        Http.sendData(ex, 200, data);
    }

    private void logs(HttpExchange ex, String taskId) throws IOException {
        JsonNode body = Http.readJson(ex);
        String runnerId = runnerOf(ex, body);
        JsonNode offsetNode = Json.field(body, "offset");
        Long offset = null;
        if (offsetNode != null) {
            if (!offsetNode.canConvertToLong() && !offsetNode.isTextual()) {
                throw ApiException.badRequest("'offset' must be a number");
            }
            try {
                offset = offsetNode.isNumber() ? offsetNode.longValue() : Long.parseLong(offsetNode.asText().trim());
            } catch (NumberFormatException e) {
                throw ApiException.badRequest("'offset' must be a number");
            }
            if (offset < 0) {
                throw ApiException.badRequest("'offset' must not be negative");
            }
        }
        JsonNode linesNode = Json.field(body, "lines", "logs");
        List<DevServerStore.IncomingLine> lines = new ArrayList<>();
        if (linesNode != null && linesNode.isArray()) {
            for (JsonNode l : linesNode) {
                if (l.isObject()) {
                    String text = l.has("text") ? l.get("text").asText() : first(Json.text(l, "line", "message"), "");
                    lines.add(new DevServerStore.IncomingLine(Json.text(l, "ts", "timestamp", "at"),
                            first(Json.text(l, "stream"), "stdout"), text));
                } else {
                    lines.add(new DevServerStore.IncomingLine(null, "stdout", l.asText()));
                }
            }
        } else if (linesNode != null) {
            throw ApiException.badRequest("'lines' must be a list");
        }
        DevServerStore.LogOutcome out = store.logs(taskId, runnerId, offset, lines);
        ObjectNode data = Json.mapper().createObjectNode();
        data.put("accepted", out.accepted());
        data.put("duplicates", out.duplicates());
        data.put("nextOffset", out.nextOffset());
        Http.sendData(ex, 200, data);
    }

    private void result(HttpExchange ex, String taskId) throws IOException {
        ObjectNode body = Http.readObject(ex);
        String runnerId = runnerOf(ex, body);
        DevServerStore.ResultOutcome out = store.result(taskId, runnerId, body);
        ObjectNode data = Json.mapper().createObjectNode();
        data.put("id", taskId);
        data.put("status", out.task().resultStatus());
        data.put("duplicate", out.duplicate());
        data.put("requeued", out.requeued());
        Http.sendData(ex, 200, data);
    }

    private static String runnerOf(HttpExchange ex, JsonNode body) {
        String id = first(Json.text(body, "runnerId", "runner_id"), Http.header(ex, "x-runner-id"));
        if (id == null) {
            throw ApiException.badRequest("missing field 'runnerId'");
        }
        return id;
    }

    static String first(String... values) {
        for (String v : values) {
            if (v != null && !v.isBlank()) {
                return v;
            }
        }
        return null;
    }
}
