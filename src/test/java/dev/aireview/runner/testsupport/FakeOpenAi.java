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
import java.util.Map;
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
 */
public final class FakeOpenAi implements AutoCloseable {

    private static final Pattern FILE = Pattern.compile("^### (.+) \\((?:added|modified|deleted|renamed|copied)[^)]*\\)$");
    private static final Pattern ADDED = Pattern.compile("^\\s*(\\d+) \\|\\+");

    private final HttpServer server;
    private final ExecutorService pool = Executors.newFixedThreadPool(2);
    private final AtomicInteger requests = new AtomicInteger();
    private final UnaryOperator<String> shape;

    public FakeOpenAi(UnaryOperator<String> shape) throws IOException {
        this.shape = shape;
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
            JsonNode messages = body.path("messages");
            String user = messages.get(messages.size() - 1).path("content").asText();
            String content = shape.apply(review(user));
            ObjectNode root = Json.mapper().createObjectNode();
            root.put("id", "chatcmpl-fake").put("object", "chat.completion").put("model", body.path("model").asText());
            ObjectNode choice = root.putArray("choices").addObject();
            choice.put("index", 0).put("finish_reason", "stop");
            choice.putObject("message").put("role", "assistant").put("content", content);
            root.putObject("usage").put("prompt_tokens", user.length() / 4).put("completion_tokens", content.length() / 4);
            byte[] bytes = root.toString().getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(200, bytes.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        pool.shutdownNow();
    }
}
