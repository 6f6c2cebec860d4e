package dev.aireview.runner.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.aireview.runner.model.Json;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An OpenAI-compatible Chat Completions provider on 127.0.0.1 that reads the diff it is sent: for every file of the
 * part ({@code ### path (…)}) it comments on the first added line shown ({@code "   12 |+…"}), and adds one comment
 * far outside the diff. {@code shape} rewrites the answer text before it is sent (fenced, prose around it, …).
 * {@link Tools} says what it does with a request that declares tools: ignore them and answer in text (the default),
 * answer with a call of the forced function, or refuse them with a 400 as providers without tool support do.
 * {@link #refuseWith} makes every request fail with a given status and body. Every request body is kept.
 */
public final class FakeOpenAi implements AutoCloseable {

    private static final Pattern FILE = Pattern.compile("^### (.+) \\((?:added|modified|deleted|renamed|copied)[^)]*\\)$");
    private static final Pattern ADDED = Pattern.compile("^\\s*(\\d+) \\|\\+");

    private final HttpServer server;
    private final ExecutorService pool = Executors.newFixedThreadPool(2);
    private final AtomicInteger requests = new AtomicInteger();
    private final UnaryOperator<String> shape;
    private final Tools tools;
    private final List<JsonNode> bodies = new CopyOnWriteArrayList<>();
    private volatile int refusalStatus;
    private volatile String refusalBody;

    /** What the fake does with a request that declares tools. */
    public enum Tools {
        /** Ignores {@code tools} and {@code tool_choice}, answers in {@code content}. */
        IGNORE,
        /** Answers with a call of the function {@code tool_choice} names, the review as its arguments (content null). */
        CALL,
        /** Answers 400 {@value #TOOLS_REFUSED} (Ollama's words for a model without tool support); text without tools. */
        REFUSE
    }

    public static final String TOOLS_REFUSED = "registry.ollama.ai/library/review-model:latest does not support tools";

    public FakeOpenAi(UnaryOperator<String> shape) throws IOException {
        this(Tools.IGNORE, shape);
    }

    public FakeOpenAi(Tools tools) throws IOException {
        this(tools, UnaryOperator.identity());
    }

    public FakeOpenAi(Tools tools, UnaryOperator<String> shape) throws IOException {
        this.shape = shape;
        this.tools = tools;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(pool);
        server.createContext("/v1/chat/completions", this::answer);
        server.start();
    }

    public FakeOpenAi() throws IOException {
        this(UnaryOperator.identity());
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
    }

    public int requests() {
        return requests.get();
    }

    /** The bodies of the requests received, in order. */
    public List<JsonNode> requestBodies() {
        return List.copyOf(bodies);
    }

    /** From now on every request is answered with this status and JSON body. */
    public void refuseWith(int status, String body) {
        refusalBody = body;
        refusalStatus = status;
    }

    /** The review the fake gives for a user message: one comment per file on its first added line, one outside. */
    public static String review(String user) {
        Map<String, Integer> first = new LinkedHashMap<>();
        String path = null;
        for (String line : user.split("\n")) {
            Matcher f = FILE.matcher(line);
            if (f.matches()) {
                path = f.group(1);
                continue;
            }
            Matcher a = ADDED.matcher(line);
            if (path != null && a.find()) {
                first.putIfAbsent(path, Integer.parseInt(a.group(1)));
            }
        }
        ObjectNode answer = Json.mapper().createObjectNode();
        answer.put("summary", "Reviewed " + first.size() + " file(s) with added lines.");
        ArrayNode comments = answer.putArray("comments");
        first.forEach((p, line) -> comments.addObject().put("path", p).put("line", line).put("severity", "warning")
                .put("message", "first added line of " + p));
        if (!first.isEmpty()) {
            comments.addObject().put("path", first.keySet().iterator().next()).put("line", 987_654).put("severity", "info")
                    .put("message", "far outside the diff");
        }
        return answer.toString();
    }

    private void answer(HttpExchange ex) throws IOException {
        try (ex) {
            requests.incrementAndGet();
            JsonNode body = Json.mapper().readTree(ex.getRequestBody().readAllBytes());
            bodies.add(body);
            boolean withTools = body.path("tools").isArray() && body.path("tools").size() > 0;
            if (refusalStatus != 0) {
                send(ex, refusalStatus, refusalBody);
                return;
            }
            if (withTools && tools == Tools.REFUSE) {
                send(ex, 400, "{\"error\":{\"message\":\"" + TOOLS_REFUSED + "\",\"type\":\"api_error\",\"param\":null,\"code\":null}}");
                return;
            }
            JsonNode messages = body.path("messages");
            String user = messages.get(messages.size() - 1).path("content").asText();
            String content = shape.apply(review(user));
            ObjectNode root = Json.mapper().createObjectNode();
            root.put("id", "chatcmpl-fake").put("object", "chat.completion").put("model", body.path("model").asText());
            ObjectNode choice = root.putArray("choices").addObject();
            choice.put("index", 0).put("finish_reason", "stop");
            ObjectNode message = choice.putObject("message").put("role", "assistant");
            if (withTools && tools == Tools.CALL) {
                message.putNull("content");
                ObjectNode call = message.putArray("tool_calls").addObject();
                call.put("id", "call_fake_1").put("type", "function");
                call.putObject("function").put("name", body.path("tool_choice").path("function").path("name").asText())
                        .put("arguments", content);
            } else {
                message.put("content", content);
            }
            root.putObject("usage").put("prompt_tokens", user.length() / 4).put("completion_tokens", content.length() / 4);
            send(ex, 200, root.toString());
        }
    }

    private static void send(HttpExchange ex, int status, String json) throws IOException {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        pool.shutdownNow();
    }
}
