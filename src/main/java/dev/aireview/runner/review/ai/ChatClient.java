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
import java.util.Locale;
import java.util.Optional;
import java.util.Random;

/**
 * OpenAI-compatible Chat Completions client on the JDK HttpClient, for the providers' real behaviour:
 * <ul>
 *   <li>endpoint and auth header per {@link ProviderEndpoint} (Azure OpenAI: deployment URL, {@code api-version},
 *       {@code api-key} header; everyone else: {@code Authorization: Bearer});</li>
 *   <li>structured output first ({@code response_format} {@code json_schema}, strict), then {@code json_object},
 *       then none, each time the provider answers 400/422 naming the response format; likewise
 *       {@code max_completion_tokens} for models that refuse {@code max_tokens}, and no {@code temperature} for
 *       models that refuse one. What was learnt is kept for the following parts;</li>
 *   <li>429, 5xx, timeouts, connection errors and a 200 whose body is a transient {@code error} object (rate limit,
 *       overload, upstream failure, as OpenRouter and LiteLLM send) are retried per {@link RetryPolicy}, honouring
 *       {@code Retry-After} and {@code retry-after-ms}; other 4xx and other {@code error} objects fail at once;</li>
 *   <li>{@link Completion}: the content (a string, or text parts), {@code finish_reason}, {@code message.refusal},
 *       and {@code usage} token counts.</li>
 * </ul>
 * The key is sent only in its header and is masked in every message this class produces.
 */
public final class ChatClient {

    public static final String DEFAULT_BASE_URL = ProviderEndpoint.DEFAULT_BASE_URL;
    public static final double DEFAULT_TEMPERATURE = 0.2;
    public static final int DEFAULT_MAX_TOKENS = 2048;
    /** Request changes made in answer to 400s (response format, token parameter, temperature), per request. */
    private static final int MAX_ADAPTATIONS = 4;
    private static final String USER_AGENT = "ai-review-runner/" + java.util.Objects.requireNonNullElse(
            ChatClient.class.getPackage().getImplementationVersion(), "dev") + " (review engine)";

    /** How the answer format is asked for, from the strictest to none. */
    enum Format { JSON_SCHEMA, JSON_OBJECT, NONE }

    private final AiConfig config;
    private final HttpClient http;
    private final RetryPolicy retry;
    private final Duration requestTimeout;
    private final Progress progress;
    private final Random random;
    private Format format = Format.JSON_SCHEMA;
    private boolean maxCompletionTokens;
    private boolean sendTemperature = true;

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

    public URI endpoint() {
        return ProviderEndpoint.of(config).uri();
    }

    String requestBody(String system, String user) {
        ObjectNode body = Json.mapper().createObjectNode();
        body.put("model", config.model());
        ArrayNode messages = body.putArray("messages");
        messages.addObject().put("role", "system").put("content", system);
        messages.addObject().put("role", "user").put("content", user);
        if (sendTemperature) {
            body.put("temperature", config.temperature() == null ? DEFAULT_TEMPERATURE : config.temperature());
        }
        body.put(maxCompletionTokens ? "max_completion_tokens" : "max_tokens", config.maxTokens() == null ? DEFAULT_MAX_TOKENS : config.maxTokens());
        switch (format) {
            case JSON_SCHEMA -> body.set("response_format", AnswerSchema.responseFormat());
            case JSON_OBJECT -> body.putObject("response_format").put("type", "json_object");
            case NONE -> { }
        }
        return body.toString();
    }

    /** One completion; retries transient failures, adapts the request to what the provider refuses. */
    public Completion complete(String system, String user) throws ReviewFailedException {
        ProviderEndpoint endpoint;
        try {
            endpoint = ProviderEndpoint.of(config);
        } catch (IllegalArgumentException e) {
            throw new ReviewFailedException("ai.baseUrl is not usable: " + mask(String.valueOf(config.baseUrl())) + " (" + mask(e.getMessage()) + ")");
        }
        URI uri = endpoint.uri();
        String lastProblem = null;
        int adaptations = 0;
        for (int attempt = 1; attempt <= retry.maxAttempts(); attempt++) {
            HttpRequest.Builder rb = HttpRequest.newBuilder(uri)
                    .timeout(requestTimeout)
                    .header("Content-Type", "application/json")
                    .header("Accept", "application/json")
                    .header("User-Agent", USER_AGENT)
                    .POST(HttpRequest.BodyPublishers.ofString(requestBody(system, user), StandardCharsets.UTF_8));
            if ("http".equalsIgnoreCase(uri.getScheme())) {
                // No h2c upgrade on plain HTTP: local model servers and proxies often mishandle it.
                rb.version(HttpClient.Version.HTTP_1_1);
            }
            if (config.apiKey() != null) {
                if (endpoint.azure()) {
                    rb.header("api-key", config.apiKey());
                } else {
                    rb.header("Authorization", "Bearer " + config.apiKey());
                }
            }
            Duration wait;
            try {
                HttpResponse<String> resp = http.send(rb.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
                int code = resp.statusCode();
                if (code >= 200 && code < 300) {
                    JsonNode root = parseBody(resp.body());
                    JsonNode error = root.get("error");
                    if (error == null || error.isNull() || root.has("choices") && root.get("choices").size() > 0) {
                        return completion(root, resp.body());
                    }
                    String detail = errorText(error);
                    if (!transientError(error)) {
                        throw new ReviewFailedException("AI provider returned an error: " + detail);
                    }
                    lastProblem = "HTTP " + code + " with an error: " + detail;
                    wait = retry.backoff(attempt, random);
                } else {
                    String detail = errorDetail(resp.body());
                    if ((code == 400 || code == 422) && adaptations < MAX_ADAPTATIONS && adapt(resp.body(), code)) {
                        adaptations++;
                        attempt--;
                        continue;
                    }
                    if (code != 429 && code < 500) {
                        throw new ReviewFailedException("AI provider refused the request: HTTP " + code + (detail.isEmpty() ? "" : " " + detail));
                    }
                    lastProblem = "HTTP " + code + (detail.isEmpty() ? "" : " " + detail);
                    wait = retryAfter(resp).orElse(null);
                    if (wait == null) {
                        wait = retry.backoff(attempt, random);
                    }
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

    /** Changes the request after a 400/422 that names what the provider does not support; false if nothing to change. */
    private boolean adapt(String body, int code) {
        String b = body == null ? "" : body.toLowerCase(Locale.ROOT);
        if (format != Format.NONE && (b.contains("response_format") || b.contains("json_schema") || b.contains("json_object")
                || b.contains("structured output") || b.contains("response format"))) {
            Format next = format == Format.JSON_SCHEMA ? Format.JSON_OBJECT : Format.NONE;
            progress.line("AI provider: HTTP " + code + " refuses response_format " + wire(format) + "; asking with " + wire(next));
            format = next;
            return true;
        }
        if (!maxCompletionTokens && b.contains("max_tokens")) {
            progress.line("AI provider: HTTP " + code + " refuses max_tokens; asking with max_completion_tokens");
            maxCompletionTokens = true;
            return true;
        }
        if (sendTemperature && b.contains("temperature")) {
            progress.line("AI provider: HTTP " + code + " refuses temperature; asking with the model's default");
            sendTemperature = false;
            return true;
        }
        return false;
    }

    private static String wire(Format f) {
        return switch (f) {
            case JSON_SCHEMA -> "json_schema";
            case JSON_OBJECT -> "json_object";
            case NONE -> "(none)";
        };
    }

    /** Rate limits, overload and upstream failures reported in a 200 body are worth another attempt. */
    private static boolean transientError(JsonNode error) {
        JsonNode code = error.isObject() ? Json.field(error, "code", "status") : null;
        if (code != null && code.canConvertToInt() && (code.isNumber() || code.asText().matches("\\d+"))) {
            int c = code.asInt();
            if (c == 429 || c == 408 || c >= 500) {
                return true;
            }
        }
        String text = (error.isObject() ? String.valueOf(Json.text(error, "type")) + " " + (code == null ? "" : code.asText())
                + " " + String.valueOf(Json.text(error, "message")) : error.asText()).toLowerCase(Locale.ROOT);
        return text.contains("rate limit") || text.contains("rate_limit") || text.contains("overloaded") || text.contains("server_error")
                || text.contains("timeout") || text.contains("timed out") || text.contains("unavailable") || text.contains("try again");
    }

    private Optional<Duration> retryAfter(HttpResponse<?> resp) {
        Optional<Duration> ms = resp.headers().firstValue("retry-after-ms").map(String::strip).flatMap(v -> {
            try {
                return Optional.of(Duration.ofMillis((long) Double.parseDouble(v)));
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        });
        Optional<Duration> after = ms.isPresent() ? ms : resp.headers().firstValue("Retry-After").map(String::strip).flatMap(v -> {
            try {
                return Optional.of(Duration.ofMillis((long) (Double.parseDouble(v) * 1000)));
            } catch (NumberFormatException e) {
                try {
                    return Optional.of(Duration.between(java.time.Instant.now(),
                            ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant()));
                } catch (RuntimeException e2) {
                    return Optional.empty();
                }
            }
        });
        return after.map(d -> d.isNegative() ? Duration.ZERO : d.compareTo(retry.maxDelay()) > 0 ? retry.maxDelay() : d);
    }

    private JsonNode parseBody(String body) throws MalformedAnswerException {
        try {
            JsonNode root = Json.mapper().readTree(body);
            if (root == null || !root.isObject()) {
                throw new MalformedAnswerException("the provider's response is not a JSON object", mask(body));
            }
            return root;
        } catch (IOException e) {
            throw new MalformedAnswerException("the provider's response is not JSON", mask(body));
        }
    }

    /** {@code choices[0]}: content (a string or a list of text parts), finish_reason, refusal; and {@code usage}. */
    private Completion completion(JsonNode root, String body) throws MalformedAnswerException {
        JsonNode choices = root.get("choices");
        JsonNode choice = choices != null && choices.isArray() && choices.size() > 0 ? choices.get(0) : null;
        JsonNode message = choice == null ? null : choice.get("message");
        JsonNode usage = root.get("usage");
        long prompt = usage == null ? 0 : Json.field(usage, "prompt_tokens", "input_tokens", "promptTokens") == null ? 0
                : Json.field(usage, "prompt_tokens", "input_tokens", "promptTokens").asLong();
        long completion = usage == null ? 0 : Json.field(usage, "completion_tokens", "output_tokens", "completionTokens") == null ? 0
                : Json.field(usage, "completion_tokens", "output_tokens", "completionTokens").asLong();
        String finish = choice == null ? null : Json.text(choice, "finish_reason", "finishReason");
        String refusal = message == null ? null : Json.text(message, "refusal");
        if (refusal != null && refusal.isBlank()) {
            refusal = null;
        }
        JsonNode content = message == null ? null : message.get("content");
        String text = null;
        if (content != null && content.isTextual()) {
            text = content.asText();
        } else if (content != null && content.isArray()) {
            StringBuilder sb = new StringBuilder();
            content.forEach(part -> sb.append(part.isTextual() ? part.asText() : part.path("text").asText("")));
            text = sb.toString();
        }
        if (text == null && refusal == null && !"content_filter".equals(finish)) {
            throw new MalformedAnswerException("the provider's response has no choices[0].message.content", mask(body));
        }
        return new Completion(text == null ? null : mask(text), finish, refusal == null ? null : mask(refusal), prompt, completion);
    }

    private String errorText(JsonNode err) {
        String text = err.isTextual() ? err.asText() : Json.text(err, "message", "detail", "title");
        String detail = (text == null ? err.toString() : text).replaceAll("\\s+", " ").strip();
        return mask(detail.length() > 200 ? detail.substring(0, 200) + "…" : detail);
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
