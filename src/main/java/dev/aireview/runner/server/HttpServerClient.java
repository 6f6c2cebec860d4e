package dev.aireview.runner.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aireview.runner.model.BadTaskException;
import dev.aireview.runner.model.Json;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskPhase;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.observability.RunnerVersion;
import dev.aireview.runner.observability.Secrets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * {@link ServerClient} over the JDK {@link HttpClient} (HTTP/1.1, so a held long poll never shares a
 * connection with another call) and Jackson. A tolerant reader: {@code {"data": ...}} or a bare body, 204 as
 * empty, unknown fields ignored. Every request has a timeout: the poll {@code pollTimeout}, the rest
 * {@code requestTimeout}. A blocked call returns promptly when its thread is interrupted.
 */
public final class HttpServerClient implements ServerClient {
    private static final Logger log = LoggerFactory.getLogger(HttpServerClient.class);
    private static final int MAX_ERROR_TEXT = 300;

    private final URI base;
    private final String token;
    private final Duration requestTimeout;
    private final Duration pollTimeout;
    private final HttpClient http;
    private final Clock clock;

    public HttpServerClient(URI base, String token, Duration requestTimeout, Duration pollTimeout, Clock clock) {
        this.base = URI.create(stripSlash(base.toString()));
        this.token = token;
        this.requestTimeout = requestTimeout;
        this.pollTimeout = pollTimeout;
        this.clock = clock;
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(requestTimeout)
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    @Override
    public void health() throws ServerException, InterruptedException {
        send(ServerCall.HEALTH, request("/api/health", requestTimeout, false).GET().build());
    }

    @Override
    public String register(Registration r) throws ServerException, InterruptedException {
        HttpRequest req = request("/api/runners/register", requestTimeout, true)
                .header("x-runner-id", r.runnerId())
                .header("x-runner-name", r.name())
                .header("x-runner-version", r.version())
                .header("x-runner-max-concurrency", Integer.toString(r.maxConcurrentJobs()))
                .header("x-runner-tags", String.join(",", r.tags()))
                .POST(jsonBody(registrationBody(r)))
                .build();
        JsonNode data = data(ServerCall.REGISTER, send(ServerCall.REGISTER, req));
        String id = Json.text(data, "id", "runnerId", "runner_id");
        if (id == null && data != null && data.isObject() && data.get("runner") != null) {
            id = Json.text(data.get("runner"), "id", "runnerId", "runner_id");
        }
        return id != null ? id : r.runnerId();
    }

    @Override
    public HeartbeatAnswer heartbeat(String runnerId, Heartbeat heartbeat) throws ServerException, InterruptedException {
        HttpRequest req = request("/api/runners/" + enc(runnerId) + "/heartbeat", requestTimeout, true)
                .POST(jsonBody(Json.mapper().valueToTree(heartbeat)))
                .build();
        JsonNode data = data(ServerCall.HEARTBEAT, send(ServerCall.HEARTBEAT, req));
        JsonNode ids = Json.field(data, "cancelTaskIds", "cancel_task_ids", "cancelTasks", "cancel");
        if (ids == null) {
            return HeartbeatAnswer.EMPTY;
        }
        List<String> out = new ArrayList<>();
        for (JsonNode n : ids.isArray() ? ids : Json.mapper().createArrayNode().add(ids)) {
            String id = n.isObject() ? ReviewTask.idOf(n) : (n.isValueNode() ? n.asText() : null);
            if (id != null && !id.isBlank()) {
                out.add(id);
            }
        }
        return new HeartbeatAnswer(out);
    }

    @Override
    public List<ClaimedTask> poll(String runnerId, int maxTasks, Duration wait) throws ServerException, InterruptedException {
        String path = "/api/runners/tasks/pending?runnerId=" + enc(runnerId) + "&maxTasks=" + maxTasks + "&waitMs=" + wait.toMillis();
        HttpRequest req = request(path, pollTimeout, true).GET().build();
        JsonNode data = data(ServerCall.POLL, send(ServerCall.POLL, req));
        Instant claimedAt = clock.instant();
        List<ClaimedTask> tasks = new ArrayList<>();
        for (JsonNode node : taskNodes(data)) {
            String id = ReviewTask.idOf(node);
            if (id == null) {
                List<String> fields = new ArrayList<>();
                node.fieldNames().forEachRemaining(fields::add);
                log.warn("poll answer holds a task without an id; it cannot be reported and is skipped (fields: {})", fields);
                continue;
            }
            try {
                tasks.add(ClaimedTask.parsed(ReviewTask.fromJson(node), claimedAt));
            } catch (BadTaskException e) {
                tasks.add(ClaimedTask.bad(id, e.getMessage(), claimedAt));
            }
        }
        return tasks;
    }

    @Override
    public void status(String runnerId, String taskId, TaskPhase phase, String message) throws ServerException, InterruptedException {
        ObjectNode body = Json.mapper().createObjectNode();
        body.put("runnerId", runnerId);
        body.put("status", phase.wire());
        if (message != null) {
            body.put("message", message);
        }
        body.put("at", clock.instant().toString());
        send(ServerCall.STATUS, request(taskPath(taskId, "status"), requestTimeout, true).POST(jsonBody(body)).build());
    }

    @Override
    public void logs(String runnerId, String taskId, long offset, List<LogLine> lines) throws ServerException, InterruptedException {
        ObjectNode body = Json.mapper().createObjectNode();
        body.put("runnerId", runnerId);
        body.put("offset", offset);
        com.fasterxml.jackson.databind.node.ArrayNode array = body.putArray("lines");
        for (LogLine line : lines) {
            ObjectNode n = array.addObject();
            n.put("ts", line.ts().toString());
            n.put("stream", line.stream().wire());
            n.put("text", line.text());
        }
        send(ServerCall.LOGS, request(taskPath(taskId, "logs"), requestTimeout, true).POST(jsonBody(body)).build());
    }

    @Override
    public void result(String runnerId, String taskId, TaskResult result) throws ServerException, InterruptedException {
        ObjectNode body = Json.mapper().createObjectNode();
        body.put("runnerId", runnerId);
        body.setAll((ObjectNode) Json.mapper().valueToTree(result));
        if (result.error() == null) {
            body.remove("error");
        }
        send(ServerCall.RESULT, request(taskPath(taskId, "result"), requestTimeout, true).POST(jsonBody(body)).build());
    }

    static ObjectNode registrationBody(Registration r) {
        ObjectNode body = Json.mapper().valueToTree(r);
        body.remove("runnerId");
        return body;
    }

    private static List<JsonNode> taskNodes(JsonNode data) {
        List<JsonNode> nodes = new ArrayList<>();
        if (data == null || data.isNull() || data.isMissingNode()) {
            return nodes;
        }
        JsonNode list = data;
        if (data.isObject()) {
            JsonNode inner = Json.field(data, "tasks", "items");
            if (inner != null) {
                list = inner;
            } else if (ReviewTask.idOf(data) != null) {
                nodes.add(data);
                return nodes;
            } else {
                return nodes;
            }
        }
        if (list.isArray()) {
            list.forEach(nodes::add);
        }
        return nodes;
    }

    private String taskPath(String taskId, String what) {
        return "/api/runners/tasks/" + enc(taskId) + "/" + what;
    }

    private HttpRequest.Builder request(String path, Duration timeout, boolean auth) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
                .timeout(timeout)
                .header("User-Agent", RunnerVersion.userAgent())
                .header("Accept", "application/json");
        if (auth) {
            b.header("Authorization", "Bearer " + token);
        }
        return b;
    }

    private static HttpRequest.BodyPublisher jsonBody(JsonNode body) {
        try {
            return HttpRequest.BodyPublishers.ofByteArray(Json.mapper().writeValueAsBytes(body));
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialise request body", e);
        }
    }

    /** Sends one request; returns the body of a 2xx answer (empty for 204), else throws a classified exception. */
    private String send(ServerCall call, HttpRequest request) throws ServerException, InterruptedException {
        HttpRequest withType = request.method().equals("POST")
                ? HttpRequest.newBuilder(request, (n, v) -> true).header("Content-Type", "application/json").build()
                : request;
        CompletableFuture<HttpResponse<String>> future = http.sendAsync(withType, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        HttpResponse<String> response;
        try {
            response = future.get();
        } catch (InterruptedException e) {
            future.cancel(true);
            throw e;
        } catch (CancellationException e) {
            throw new InterruptedException("call cancelled");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            IOException io = cause instanceof IOException ioe ? ioe : new IOException(String.valueOf(cause), cause);
            String what = RetryClassifier.isTimeout(io) ? "timed out" : "failed (" + io.getClass().getSimpleName()
                    + (io.getMessage() == null ? "" : ": " + io.getMessage()) + ")";
            throw new ServerException(call, RetryClassifier.classify(io), 0, null,
                    call.name().toLowerCase() + " " + what, io);
        }
        int status = response.statusCode();
        if (status >= 200 && status < 300) {
            return status == 204 ? "" : response.body();
        }
        Duration retryAfter = RetryClassifier.parseRetryAfter(response.headers().firstValue("Retry-After").orElse(null), clock.instant());
        throw new ServerException(call, RetryClassifier.classify(call, status), status, retryAfter,
                call.name().toLowerCase() + " answered HTTP " + status + errorText(response.body()), null);
    }

    /** The payload of an answer: {@code data} of an envelope, or the bare body; null when empty. */
    static JsonNode data(ServerCall call, String body) throws ServerException {
        if (body == null || body.isBlank()) {
            return null;
        }
        JsonNode root;
        try {
            root = Json.mapper().readTree(body);
        } catch (IOException e) {
            throw new ServerException(call, ErrorClass.BAD_REQUEST, 200, null,
                    call.name().toLowerCase() + " answered unreadable JSON: " + BodyShape.describe(body), e);
        }
        if (root != null && root.isObject() && root.has("data")) {
            return root.get("data");
        }
        return root;
    }

    private static String errorText(String body) {
        if (body == null || body.isBlank()) {
            return "";
        }
        try {
            JsonNode root = Json.mapper().readTree(body);
            JsonNode err = Json.field(root, "error");
            if (err != null && err.isObject()) {
                String title = Json.text(err, "title", "message");
                String detail = Json.text(err, "detail");
                return ": " + abbreviate((title == null ? "" : title) + (detail == null ? "" : (title == null ? "" : " - ") + detail));
            }
            if (err != null) {
                return ": " + abbreviate(err.asText());
            }
        } catch (IOException ignored) {
            // not JSON: never the text itself (a proxy's page may carry anything), only its size and shape
        }
        return ": " + BodyShape.describe(body);
    }

    /** One line of at most MAX_ERROR_TEXT characters, masked before it is cut (a cut secret would escape masking). */
    private static String abbreviate(String s) {
        String one = Secrets.mask(s).replaceAll("\\s+", " ").trim();
        return one.length() > MAX_ERROR_TEXT ? one.substring(0, MAX_ERROR_TEXT) + "…" : one;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String stripSlash(String s) {
        while (s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        return s;
    }
}
