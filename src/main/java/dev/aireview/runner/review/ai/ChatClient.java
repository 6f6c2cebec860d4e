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
 *   <li>the answer asked for as a call of the one function tool {@code submit_review} ({@code tools} with
 *       {@code tool_choice} forcing it; its parameters are the answer schema), unless {@code ai.tools} is false. A
 *       400/422 (or OpenRouter's 404) naming tools, {@code tool_choice} or functions is asked again once without
 *       them, and the following parts go without them; a provider that ignores them answers in text, read as ever;</li>
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
    /** The largest answer body read (an answer of {@code max_tokens} is a few KiB; an SSE stream of it some more). */
    public static final int DEFAULT_BODY_CAP = 8 * 1024 * 1024;
    /** How much later than the whole-call deadline the HTTP client's own timer fires. */
    private static final Duration BACKSTOP = Duration.ofSeconds(5);
    /** Less time than this left in the budget: no further attempt is started. */
    static final Duration MIN_CALL = Duration.ofSeconds(1);
    /** Request changes made in answer to 400s (tools, response format twice, token parameter, temperature), per request. */
    private static final int MAX_ADAPTATIONS = 5;
    /** An error message about tools or function calling (not the request echoed back: only its message is searched). */
    private static final java.util.regex.Pattern TOOLS_REFUSED = java.util.regex.Pattern.compile(
            "\\btools?\\b|tool_choice|tool[ _-]?(?:calls?|calling|use|choice)|\\bfunctions?\\b|function[ _-]?call");
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
    private final Budget budget;
    private final int bodyCap;
    private Format format = Format.JSON_SCHEMA;
    /** Whether the answer is asked for as a tool call; off for the rest of the review once the provider refuses tools. */
    private boolean tools;
    private boolean maxCompletionTokens;
    private boolean sendTemperature = true;

    public ChatClient(AiConfig config, RetryPolicy retry, Duration requestTimeout, Progress progress) {
        this(config, retry, requestTimeout, progress, Budget.NONE, DEFAULT_BODY_CAP);
    }

    /**
     * @param budget  the time the whole review may spend on the provider (every attempt's deadline and every retry wait fit in it)
     * @param bodyCap the largest answer body read, compressed and decompressed
     */
    public ChatClient(AiConfig config, RetryPolicy retry, Duration requestTimeout, Progress progress, Budget budget, int bodyCap) {
        this(config, HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).followRedirects(HttpClient.Redirect.NEVER).build(),
                retry, requestTimeout, progress, new Random(), budget, bodyCap);
    }

    ChatClient(AiConfig config, HttpClient http, RetryPolicy retry, Duration requestTimeout, Progress progress, Random random) {
        this(config, http, retry, requestTimeout, progress, random, Budget.NONE, DEFAULT_BODY_CAP);
    }

    ChatClient(AiConfig config, HttpClient http, RetryPolicy retry, Duration requestTimeout, Progress progress, Random random,
               Budget budget, int bodyCap) {
        this.config = config;
        this.http = http;
        this.retry = retry;
        this.requestTimeout = requestTimeout;
        this.progress = progress;
        this.random = random;
        this.budget = budget;
        this.bodyCap = bodyCap;
        this.tools = config.toolsOn();
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
        if (tools) {
            body.putArray("tools").add(AnswerSchema.tool());
            body.set("tool_choice", AnswerSchema.toolChoice());
        }
        return body.toString();
    }

    /** One completion; retries transient failures, adapts the request to what the provider refuses. */
    public Completion complete(String system, String user) throws ReviewFailedException {
        return complete(system, user, "the request");
    }

    /**
     * One completion for {@code call} (a part's name, for messages): each attempt is one {@link BoundedCall} (whole-call
     * deadline: the request timeout or what is left of the review's budget, whichever is shorter; body cap); transient
     * failures are retried per {@link RetryPolicy} while the budget lasts; the request is adapted to what the provider
     * refuses. Every failure names the provider's host, the call and the bound or answer that ended it.
     */
    public Completion complete(String system, String user, String call) throws ReviewFailedException {
        ProviderEndpoint endpoint;
        try {
            endpoint = ProviderEndpoint.of(config);
        } catch (IllegalArgumentException e) {
            throw new ReviewFailedException("ai.baseUrl is not usable: " + mask(String.valueOf(config.baseUrl())) + " (" + mask(e.getMessage()) + ")");
        }
        URI uri = endpoint.uri();
        String who = "AI provider " + uri.getHost() + ", " + call;
        String lastProblem = null;
        int adaptations = 0;
        for (int attempt = 1; attempt <= retry.maxAttempts(); attempt++) {
            Duration left = budget.remaining();
            if (left.compareTo(MIN_CALL) < 0) {
                throw new ProviderCallException(who + ": the review's time budget (" + budget.describe() + ") is used up"
                        + (lastProblem == null ? "" : " after " + (attempt - 1) + " attempt(s); last: " + lastProblem));
            }
            Duration deadline = left.compareTo(requestTimeout) < 0 ? left : requestTimeout;
            HttpRequest.Builder rb = HttpRequest.newBuilder(uri)
                    // BoundedCall's whole-call deadline ends the call and names it; the client's own timer is only a
                    // backstop, later, so that the two never race to say what happened (they did, under load)
                    .timeout(deadline.plus(BACKSTOP))
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
                BoundedCall.Answer resp = BoundedCall.send(http, rb.build(), deadline, bodyCap);
                int code = resp.status();
                String body = new String(resp.body(), StandardCharsets.UTF_8);
                if (code >= 200 && code < 300) {
                    JsonNode root = ProviderAnswer.root(body, resp.contentType(), this::mask);
                    JsonNode error = root.get("error");
                    if (error == null || error.isNull() || root.has("choices") && root.get("choices").size() > 0) {
                        return ProviderAnswer.completion(root, body, this::mask);
                    }
                    String detail = errorText(error);
                    if (!transientError(error)) {
                        throw new ProviderCallException(who + ": the provider returned an error: " + detail);
                    }
                    lastProblem = "HTTP " + code + " with an error: " + detail;
                    wait = retry.backoff(attempt, random);
                } else {
                    String detail = errorDetail(body);
                    if ((code == 400 || code == 422 || code == 404 && tools) && adaptations < MAX_ADAPTATIONS && adapt(body, code)) {
                        adaptations++;
                        attempt--;
                        continue;
                    }
                    if (!RetryPolicy.retryableStatus(code)) {
                        throw new ProviderCallException(who + ": the provider refused the request: HTTP " + code + (detail.isEmpty() ? "" : " " + detail));
                    }
                    lastProblem = "HTTP " + code + (detail.isEmpty() ? "" : " " + detail);
                    wait = retryAfter(resp.headers()).orElse(null);
                    if (wait == null) {
                        wait = retry.backoff(attempt, random);
                    }
                }
            } catch (BoundedCall.Exceeded e) {
                if (!e.retryable()) {
                    throw new ProviderCallException(who + ": " + e.getMessage());
                }
                lastProblem = e.getMessage();
                wait = retry.backoff(attempt, random);
            } catch (IOException e) {
                lastProblem = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + mask(e.getMessage()));
                wait = retry.backoff(attempt, random);
            } catch (OutOfMemoryError e) {
                // never retried: the next attempt would fail the same way, or take the whole executor with it
                throw new ProviderCallException(who + ": out of memory while reading the answer (" + e.getMessage() + "); not retried");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ProviderCallException(who + ": interrupted while waiting for the provider");
            }
            if (attempt == retry.maxAttempts()) {
                break;
            }
            if (wait.compareTo(budget.remaining().minus(MIN_CALL)) > 0) {
                throw new ProviderCallException(who + ": " + lastProblem + "; no time left in the review's budget (" + budget.describe()
                        + ") to retry after " + wait.toMillis() + " ms");
            }
            progress.line("AI provider: " + lastProblem + "; retrying in " + wait.toMillis() + " ms (attempt " + (attempt + 1)
                    + " of " + retry.maxAttempts() + ")");
            try {
                Thread.sleep(wait.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ProviderCallException(who + ": interrupted while waiting for the provider");
            }
        }
        throw new ProviderCallException(who + ": unavailable after " + retry.maxAttempts() + " attempts: " + lastProblem);
    }

    /**
     * Changes the request after a 400/422 that names what the provider does not support (for tools also a 404, as
     * OpenRouter answers "No endpoints found that support tool use"); false if nothing to change.
     */
    private boolean adapt(String body, int code) {
        if (tools && TOOLS_REFUSED.matcher(errorMessage(body)).find()) {
            progress.line("AI provider: HTTP " + code + " refuses tools " + errorDetail(body)
                    + "; asking for the answer in text, here and in the following parts");
            tools = false;
            return true;
        }
        if (code == 404) {
            return false;
        }
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

    private Optional<Duration> retryAfter(java.net.http.HttpHeaders headers) {
        Optional<Duration> ms = headers.firstValue("retry-after-ms").map(String::strip).flatMap(v -> {
            try {
                return Optional.of(Duration.ofMillis((long) Double.parseDouble(v)));
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        });
        Optional<Duration> after = ms.isPresent() ? ms : headers.firstValue("Retry-After").map(String::strip).flatMap(v -> {
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

    /**
     * The error's own words, lower case: {@code error} (text, or its message, param and code), a top-level message,
     * param or detail (FastAPI's list of {@code msg}/{@code loc}); the whole body when it is not JSON. The request a
     * validator may echo back ({@code input}) is left out, so a field of the request is not mistaken for the complaint.
     */
    static String errorMessage(String body) {
        if (body == null || body.isBlank()) {
            return "";
        }
        JsonNode root;
        try {
            root = Json.mapper().readTree(body);
        } catch (IOException e) {
            return body.toLowerCase(Locale.ROOT);
        }
        if (root == null || !root.isObject()) {
            return body.toLowerCase(Locale.ROOT);
        }
        StringBuilder sb = new StringBuilder();
        JsonNode error = root.get("error");
        if (error != null && error.isTextual()) {
            sb.append(error.asText()).append(' ');
        } else if (error != null && error.isObject()) {
            for (String f : List.of("message", "param", "code", "type")) {
                if (error.path(f).isValueNode()) {
                    sb.append(error.get(f).asText()).append(' ');
                }
            }
        }
        for (String f : List.of("message", "param", "detail")) {
            if (root.path(f).isValueNode()) {
                sb.append(root.get(f).asText()).append(' ');
            }
        }
        for (JsonNode d : root.path("detail")) {
            sb.append(d.path("msg").asText("")).append(' ').append(d.path("loc").toString()).append(' ');
        }
        return sb.toString().toLowerCase(Locale.ROOT);
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
