package dev.aireview.runner.review.ai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aireview.runner.model.AiConfig;
import dev.aireview.runner.model.Json;
import dev.aireview.runner.observability.SecretMasker;
import dev.aireview.runner.review.Progress;
import dev.aireview.runner.review.ReviewFailedException;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Random;

/**
 * OpenAI-compatible Chat Completions client ({@code POST <baseUrl>/chat/completions}) on the JDK HttpClient.
 * Sends {@code model}, {@code messages}, {@code temperature}, {@code max_tokens} and
 * {@code response_format: {"type":"json_object"}} with {@code Authorization: Bearer <apiKey>}.
 * Retries 429/5xx/timeouts/connection errors per {@link RetryPolicy}; any other 4xx fails at once.
 * The key is sent only in the header and is masked in every message this class produces.
 */
public final class ChatClient {

    public static final String DEFAULT_BASE_URL = "https://api.openai.com/v1";
    public static final double DEFAULT_TEMPERATURE = 0.2;
    public static final int DEFAULT_MAX_TOKENS = 2048;
    private static final String USER_AGENT = "ai-review-runner/" + java.util.Objects.requireNonNullElse(
            ChatClient.class.getPackage().getImplementationVersion(), "dev") + " (review engine)";

    private final AiConfig config;
    private final HttpClient http;
    private final RetryPolicy retry;
    private final Duration requestTimeout;
    private final Progress progress;
    private final Random random;

    public ChatClient(AiConfig config, RetryPolicy retry, Duration requestTimeout, Progress progress) {
        this(config, HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).followRedirects(HttpClient.Redirect.NEVER).build(),
                retry, requestTimeout, progress, new Random());
    }

    ChatClient(AiConfig config, HttpClient http, RetryPolicy retry, Duration requestTimeout, Progress progress, Random random) {
        this.config = config;
        this.http = http;
        this.retry = retry;
        this.requestTimeout = requestTimeout;
        this.progress = progress;
        this.random = random;
    }

    /** The endpoint: {@code baseUrl} (trailing slashes removed) + {@code /chat/completions}. */
    public URI endpoint() {
        String base = config.baseUrl() == null ? DEFAULT_BASE_URL : config.baseUrl().strip();
        while (base.endsWith("/")) {
            base = base.substring(0, base.length() - 1);
        }
        if (base.endsWith("/chat/completions")) {
            return URI.create(base);
        }
        return URI.create(base + "/chat/completions");
    }

    String requestBody(String system, String user) {
        ObjectNode body = Json.mapper().createObjectNode();
        body.put("model", config.model());
        ArrayNode messages = body.putArray("messages");
        messages.addObject().put("role", "system").put("content", system);
        messages.addObject().put("role", "user").put("content", user);
        body.put("temperature", config.temperature() == null ? DEFAULT_TEMPERATURE : config.temperature());
        body.put("max_tokens", config.maxTokens() == null ? DEFAULT_MAX_TOKENS : config.maxTokens());
        body.putObject("response_format").put("type", "json_object");
        return body.toString();
    }

    /** The assistant message content of one completion; retries transient failures. */
    public String complete(String system, String user) throws ReviewFailedException {
        URI uri;
        try {
            uri = endpoint();
        } catch (IllegalArgumentException e) {
            throw new ReviewFailedException("ai.baseUrl is not a valid URL: " + mask(String.valueOf(config.baseUrl())));
        }
        String body = requestBody(system, user);
        String lastProblem = null;
        for (int attempt = 1; attempt <= retry.maxAttempts(); attempt++) {
            HttpRequest.Builder rb = HttpRequest.newBuilder(uri)
                    .timeout(requestTimeout)
                    .header("Content-Type", "application/json")
                    .header("Accept", "application/json")
                    .header("User-Agent", USER_AGENT)
                    .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
            if ("http".equalsIgnoreCase(uri.getScheme())) {
                // No h2c upgrade on plain HTTP: local model servers and proxies often mishandle it.
                rb.version(HttpClient.Version.HTTP_1_1);
            }
            if (config.apiKey() != null) {
                rb.header("Authorization", "Bearer " + config.apiKey());
            }
            Duration wait;
            try {
                HttpResponse<String> resp = http.send(rb.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
                int code = resp.statusCode();
                if (code >= 200 && code < 300) {
                    return content(resp.body());
                }
                String detail = errorDetail(resp.body());
                if (code != 429 && code < 500) {
                    throw new ReviewFailedException("AI provider refused the request: HTTP " + code + (detail.isEmpty() ? "" : " " + detail));
                }
                lastProblem = "HTTP " + code + (detail.isEmpty() ? "" : " " + detail);
                wait = retryAfter(resp).orElse(null);
                if (wait == null) {
                    wait = retry.backoff(attempt, random);
                }
            } catch (IOException e) {
                lastProblem = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + mask(e.getMessage()));
                wait = retry.backoff(attempt, random);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ReviewFailedException("interrupted while waiting for the AI provider");
            }
            if (attempt == retry.maxAttempts()) {
                break;
            }
            progress.line("AI provider: " + lastProblem + "; retrying in " + wait.toMillis() + " ms (attempt " + (attempt + 1)
                    + " of " + retry.maxAttempts() + ")");
            try {
                Thread.sleep(wait.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ReviewFailedException("interrupted while waiting for the AI provider");
            }
        }
        throw new ReviewFailedException("AI provider unavailable after " + retry.maxAttempts() + " attempts: " + lastProblem);
    }

    private java.util.Optional<Duration> retryAfter(HttpResponse<?> resp) {
        return resp.headers().firstValue("Retry-After").map(String::strip).flatMap(v -> {
            Duration d;
            try {
                d = Duration.ofMillis((long) (Double.parseDouble(v) * 1000));
            } catch (NumberFormatException e) {
                try {
                    d = Duration.between(java.time.Instant.now(), ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant());
                } catch (RuntimeException e2) {
                    return java.util.Optional.empty();
                }
            }
            if (d.isNegative()) {
                d = Duration.ZERO;
            }
            return java.util.Optional.of(d.compareTo(retry.maxDelay()) > 0 ? retry.maxDelay() : d);
        });
    }

    /** {@code choices[0].message.content}; a body without it is malformed model output. */
    private String content(String body) throws MalformedAnswerException {
        JsonNode root;
        try {
            root = Json.mapper().readTree(body);
        } catch (IOException e) {
            throw new MalformedAnswerException("the provider's response is not JSON", mask(body));
        }
        JsonNode choices = root == null ? null : root.get("choices");
        JsonNode message = choices != null && choices.isArray() && choices.size() > 0 ? choices.get(0).get("message") : null;
        JsonNode content = message == null ? null : message.get("content");
        if (content == null || content.isNull()) {
            throw new MalformedAnswerException("the provider's response has no choices[0].message.content", mask(body));
        }
        return mask(content.asText());
    }

    private String errorDetail(String body) {
        if (body == null || body.isBlank()) {
            return "";
        }
        String detail;
        try {
            JsonNode root = Json.mapper().readTree(body);
            JsonNode err = root == null ? null : root.get("error");
            String text = err == null ? null : err.isTextual() ? err.asText() : Json.text(err, "message", "detail", "title");
            detail = text == null ? body : text;
        } catch (IOException e) {
            detail = body;
        }
        detail = detail.replaceAll("\\s+", " ").strip();
        String masked = mask(detail); // before the cut: a cut key would escape masking
        return "(" + (masked.length() > 200 ? masked.substring(0, 200) + "…" : masked) + ")";
    }

    /** Replaces the API key wherever it appears, raw, URL-encoded or base64 ({@link SecretMasker}). */
    public String mask(String text) {
        String key = config.apiKey();
        return key == null ? text : SecretMasker.of(List.of(key)).mask(text);
    }
}
