package dev.aireview.runner.devserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import dev.aireview.runner.model.Json;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The admin JSON API under {@code /api/admin/}: enqueue, list and cancel tasks, list runners. Accepts the runner
 * token or the admin token. Secrets of tasks are masked in every answer.
 */
final class AdminApi extends JsonHandler {
    static final String PREFIX = "/api/admin";

    /** The fault injection calls, kept by {@link DevServer} (an outage closes its port). */
    interface FaultControl {
        JsonNode inject(JsonNode spec);

        JsonNode list();

        void clear();
    }

    private final DevServerStore store;
    private final List<String> tokens;
    private final FaultControl faults;

    AdminApi(DevServerStore store, DevServerOptions options, FaultControl faults) {
        this.store = store;
        this.faults = faults;
        List<String> t = new ArrayList<>();
        t.add(options.token());
        if (options.adminToken() != null) {
            t.add(options.adminToken());
        }
        this.tokens = List.copyOf(t);
    }

    @Override
    void route(HttpExchange ex) throws IOException {
        Http.requireToken(ex, tokens);
        List<String> seg = Http.segments(ex, PREFIX);
        String method = ex.getRequestMethod().toUpperCase(java.util.Locale.ROOT);
        if (seg.size() == 1 && seg.get(0).equals("tasks")) {
            if (method.equals("POST")) {
                enqueue(ex);
            } else {
                requireMethod(ex, "GET");
                listTasks(ex);
            }
        } else if (seg.size() == 2 && seg.get(0).equals("tasks")) {
            requireMethod(ex, "GET");
            Http.sendData(ex, 200, store.task(seg.get(1), true).toJson(true));
        } else if (seg.size() == 3 && seg.get(0).equals("tasks") && seg.get(2).equals("cancel")) {
            requireMethod(ex, "POST");
            Http.sendData(ex, 200, store.cancel(seg.get(1)).toJson(false));
        } else if (seg.size() == 1 && seg.get(0).equals("faults")) {
            switch (method) {
                case "POST" -> Http.sendData(ex, 201, faults.inject(Http.readJson(ex)));
                case "DELETE" -> {
                    faults.clear();
                    Http.sendData(ex, 200, faults.list());
                }
                default -> {
                    requireMethod(ex, "GET");
                    Http.sendData(ex, 200, faults.list());
                }
            }
        } else if (seg.size() == 1 && seg.get(0).equals("runners")) {
            requireMethod(ex, "GET");
            ArrayNode data = Json.mapper().createArrayNode();
            store.runners().forEach(r -> data.add(r.toJson()));
            Http.sendData(ex, 200, data);
        } else if (seg.size() == 2 && seg.get(0).equals("runners")) {
            requireMethod(ex, "GET");
            RunnerSnapshot r = store.runners().stream().filter(x -> x.id().equals(seg.get(1))).findFirst()
                    .orElseThrow(() -> ApiException.notFound("unknown runner " + seg.get(1)));
            Http.sendData(ex, 200, r.toJson());
        } else {
            throw ApiException.notFound("no such admin call: " + ex.getRequestURI().getPath());
        }
    }

    /**
     * {@code POST /api/admin/tasks}: a task request (see {@link TaskRequests}); with {@code ?raw=true} (or a body
     * {@code {"raw": {...}}}) the body is enqueued verbatim, and with {@code assignId=false} a raw body without an
     * id stays without one.
     */
    private void enqueue(HttpExchange ex) throws IOException {
        Map<String, String> q = Http.query(ex);
        JsonNode body = Http.readJson(ex);
        boolean raw = Boolean.parseBoolean(q.getOrDefault("raw", "false"));
        boolean assignId = Boolean.parseBoolean(q.getOrDefault("assignId", "true"));
        JsonNode task = body;
        if (!raw && body.isObject() && body.size() == 1 && body.has("raw")) {
            raw = true;
            task = body.get("raw");
        }
        String id;
        if (raw) {
            if (task == null || !task.isObject()) {
                throw ApiException.badRequest("a raw task must be a JSON object");
            }
            id = store.enqueue(((ObjectNode) task).deepCopy(), true, assignId);
        } else {
            id = store.enqueue(TaskRequests.toTask(task), false, true);
        }
        Http.sendData(ex, 201, store.task(id, false).toJson(false));
    }

    private void listTasks(HttpExchange ex) throws IOException {
        Map<String, String> q = Http.query(ex);
        String phase = q.get("phase");
        String runner = q.get("runnerId");
        ArrayNode data = Json.mapper().createArrayNode();
        for (TaskSnapshot t : store.tasks()) {
            if ((phase == null || phase.equals(t.phase())) && (runner == null || runner.equals(t.runnerId()))) {
                data.add(t.toJson(false));
            }
        }
        Http.sendData(ex, 200, data);
    }
}
