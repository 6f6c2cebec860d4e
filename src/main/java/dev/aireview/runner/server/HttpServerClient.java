package dev.aireview.runner.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@link ServerClient} over the JDK {@link HttpClient} (HTTP/1.1, so a held long poll never shares a
 * connection with another call) and Jackson. A tolerant reader: {@code {"data": ...}} or a bare body, 204 as
 * empty, unknown fields ignored.
 *
 * <p>Every call has a <b>whole-call deadline</b>, connect + headers + body: the poll {@code pollTimeout}, the rest
 * {@code requestTimeout}. The JDK's own request timeout ends when the headers arrive, so a server or proxy that
 * sends headers and then stalls the body would hang the caller for ever; here the exchange is cancelled at the
 * deadline and the call fails {@link ErrorClass#RETRYABLE} ("timed out"). Bodies are read up to
 * {@link ServerCall#maxBodyBytes()}; an unreadable 2xx answer is retryable too (a proxy's HTML page claimed
 * nothing). A poll answer is streamed and read task by task ({@link TaskListScanner}, {@link PollAnswer}), so one
 * oversized task costs neither memory nor the tasks after it. A blocked call returns promptly when its thread
 * is interrupted.
 *
 * <p>It also speaks the upstream server's dialect ({@link Dialect}): the poll sends {@code limit} next to
 * {@code maxTasks}, and a 400 to the heartbeat or the poll is answered by re-sending that call once in the
 * documented minimal form, which this client then keeps using.
 */
public final class HttpServerClient implements ServerClient {
    private static final Logger log = LoggerFactory.getLogger(HttpServerClient.class);
    private static final int MAX_ERROR_TEXT = 300;
    /** Most bytes of an error answer read (its title and detail are all that is used). */
    static final int MAX_ERROR_BODY_BYTES = 1 << 20;

    private final URI base;
    private final String token;
    private final Duration requestTimeout;
    private final Duration pollTimeout;
    private final HttpClient http;
    private final Clock clock;
    private final Dialect dialect = new Dialect();

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
        String path = "/api/runners/" + enc(runnerId) + "/heartbeat";
        boolean minimal = dialect.minimalHeartbeat();
        CappedBody answer;
        try {
            answer = send(ServerCall.HEARTBEAT, request(path, requestTimeout, true).POST(jsonBody(Dialect.heartbeatBody(heartbeat, minimal))).build());
        } catch (ServerException e) {
            if (minimal || !Dialect.refusedExtension(e)) {
                throw e;
            }
            log.warn("the server refused the heartbeat body ({}); sending only the documented fields from now on", e.getMessage());
            dialect.useMinimalHeartbeat();
            answer = send(ServerCall.HEARTBEAT, request(path, requestTimeout, true).POST(jsonBody(Dialect.heartbeatBody(heartbeat, true))).build());
        }
        JsonNode data = data(ServerCall.HEARTBEAT, answer);
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
        boolean minimal = dialect.minimalPoll();
        TaskListScanner.Result answer;
        try {
            answer = sendPoll(Dialect.pollPath(runnerId, maxTasks, wait, minimal));
        } catch (ServerException e) {
            if (minimal || !Dialect.refusedExtension(e)) {
                throw e;
            }
            log.warn("the server refused the poll parameters ({}); sending only the documented ones from now on", e.getMessage());
            dialect.useMinimalPoll();
            answer = sendPoll(Dialect.pollPath(runnerId, maxTasks, wait, true));
        }
        return PollAnswer.read(answer, clock.instant());
    }

    /**
     * One poll exchange. Its headers must arrive within {@code pollTimeout}; its body then is read as long as it keeps
     * arriving ({@link PollBodyDeadline}), so that neither the answer's size nor the machine's speed can cost the
     * tasks in it: at a deadline the tasks read whole are kept.
     */
    private TaskListScanner.Result sendPoll(String path) throws ServerException, InterruptedException {
        AtomicReference<TaskListScanner.Subscriber> body = new AtomicReference<>();
        return send(ServerCall.POLL, request(path, pollTimeout, true).GET().build(), info -> {
            TaskListScanner.Subscriber s = TaskListScanner.subscriber();
            body.set(s);
            return s;
        }, TaskListScanner.Result.EMPTY, new PollBodyDeadline(requestTimeout, body::get));
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
        body.setAll(result.toJson());
        send(ServerCall.RESULT, request(taskPath(taskId, "result"), requestTimeout, true).POST(jsonBody(body)).build());
    }

    static ObjectNode registrationBody(Registration r) {
        ObjectNode body = Json.mapper().valueToTree(r);
        body.remove("runnerId");
        return body;
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

    /**
     * Sends one request under its whole-call deadline; returns the body of a 2xx answer (empty for 204), read into
     * memory up to {@link ServerCall#maxBodyBytes()}, else throws a classified exception.
     */
    private CappedBody send(ServerCall call, HttpRequest request) throws ServerException, InterruptedException {
        return send(call, request, info -> CappedBody.subscriber(call.maxBodyBytes()), CappedBody.EMPTY, null);
    }

    /** The answer of one exchange: the 2xx body as {@code okBody} reads it, or an error answer's capped body. */
    private record Answer<T>(T ok, CappedBody error) {
    }

    /**
     * Sends one request under its whole-call deadline, which covers the body too: {@code okBody} reads a 2xx
     * answer as it arrives (the future completes only when it is read), an error answer is read up to
     * {@link #MAX_ERROR_BODY_BYTES}. Returns {@code empty} for 204, else throws a classified exception. With a
     * {@code bodyDeadline}, a 2xx body that has begun is read under it instead (see {@link PollBodyDeadline}).
     */
    private <T> T send(ServerCall call, HttpRequest request, HttpResponse.BodyHandler<T> okBody, T empty,
                       PollBodyDeadline bodyDeadline) throws ServerException, InterruptedException {
        HttpRequest withType = request.method().equals("POST")
                ? HttpRequest.newBuilder(request, (n, v) -> true).header("Content-Type", "application/json").build()
                : request;
        Duration deadline = withType.timeout().orElse(requestTimeout);
        HttpResponse.BodyHandler<Answer<T>> handler = info -> info.statusCode() >= 200 && info.statusCode() < 300
                ? HttpResponse.BodySubscribers.mapping(okBody.apply(info), b -> new Answer<>(b, null))
                : HttpResponse.BodySubscribers.mapping(CappedBody.subscriber(MAX_ERROR_BODY_BYTES), b -> new Answer<>(null, b));
        CompletableFuture<HttpResponse<Answer<T>>> future = http.sendAsync(withType, handler);
        HttpResponse<Answer<T>> response;
        try {
            response = bodyDeadline == null ? future.get(deadline.toMillis(), TimeUnit.MILLISECONDS)
                    : bodyDeadline.await(future, deadline);
        } catch (InterruptedException e) {
            future.cancel(true);
            throw e;
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new ServerException(call, ErrorClass.RETRYABLE, 0, null, call.label() + " timed out: no complete answer within "
                    + deadline.toMillis() + " ms (connect, headers and body)", new HttpTimeoutException("whole-call deadline"));
        } catch (CancellationException e) {
            throw new InterruptedException("call cancelled");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            IOException io = cause instanceof IOException ioe ? ioe : new IOException(String.valueOf(cause), cause);
            String what = RetryClassifier.isTimeout(io) ? "timed out" : "failed (" + io.getClass().getSimpleName()
                    + (io.getMessage() == null ? "" : ": " + io.getMessage()) + ")";
            throw new ServerException(call, RetryClassifier.classify(io), 0, null, call.label() + " " + what, io);
        }
        int status = response.statusCode();
        Answer<T> answer = response.body();
        if (status >= 200 && status < 300) {
            return status == 204 || answer == null || answer.ok() == null ? empty : answer.ok();
        }
        CappedBody body = answer == null || answer.error() == null ? CappedBody.EMPTY : answer.error();
        Duration retryAfter = RetryClassifier.parseRetryAfter(response.headers().firstValue("Retry-After").orElse(null), clock.instant());
        String text = errorText(body);
        throw new ServerException(call, RetryClassifier.classify(call, status, text), status, retryAfter,
                call.label() + " answered HTTP " + status + (text.isEmpty() ? "" : ": " + text)
                        + RetryClassifier.redirectNote(status, response.headers().firstValue("Location").orElse(null)), null);
    }

    /**
     * The payload of an answer: {@code data} of an envelope, or the bare body; null when empty. An answer that is
     * not readable JSON is {@link ErrorClass#RETRYABLE}: the call reached something that is not the server (a
     * proxy's error page) or the server broke off; it is described by its shape, never its content.
     */
    static JsonNode data(ServerCall call, CappedBody body) throws ServerException {
        if (body == null || body.isEmpty()) {
            return null;
        }
        PartialJson.Result json = PartialJson.read(body.bytes());
        if (!json.complete() || body.truncated()) {
            String why = body.truncated() ? "larger than " + BodyShape.size(call.maxBodyBytes()) : json.error();
            throw new ServerException(call, ErrorClass.RETRYABLE, 200, null, call.label() + " answered unreadable JSON ("
                    + BodyShape.describe(body.bytes(), body.truncated()) + "): " + why, null);
        }
        JsonNode root = json.root();
        if (root != null && root.isObject() && root.has("data")) {
            return root.get("data");
        }
        return root;
    }

    /** The error's title and detail from a PROTOCOL.md error body; a body that is not one is described by its shape. */
    private static String errorText(CappedBody body) {
        if (body.isEmpty()) {
            return "";
        }
        PartialJson.Result json = PartialJson.read(body.bytes());
        JsonNode err = json.complete() ? Json.field(json.root(), "error") : null;
        if (err != null && err.isObject()) {
            String title = Json.text(err, "title", "message");
            String detail = Json.text(err, "detail");
            return abbreviate((title == null ? "" : title) + (detail == null ? "" : (title == null ? "" : " - ") + detail));
        }
        if (err != null && err.isValueNode()) {
            return abbreviate(err.asText());
        }
        return "(body: " + BodyShape.describe(body.bytes(), body.truncated()) + ")";
    }

    /** One line of at most MAX_ERROR_TEXT characters, masked before it is cut (a cut secret would escape masking). */
    private static String abbreviate(String s) {
        String one = Secrets.mask(s).replaceAll("\\s+", " ").trim();
        return one.length() > MAX_ERROR_TEXT ? one.substring(0, MAX_ERROR_TEXT) + "…" : one;
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String stripSlash(String s) {
        while (s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        return s;
    }
}
