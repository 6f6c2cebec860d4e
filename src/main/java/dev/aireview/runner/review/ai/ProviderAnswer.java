package dev.aireview.runner.review.ai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aireview.runner.model.Json;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Reads a provider's 2xx body into a {@link Completion}, in the shapes OpenAI-compatible providers and proxies send:
 * a chat completion object; a server-sent event stream of {@code chat.completion.chunk}s (sent by proxies that stream
 * whatever was asked), joined into one answer; the answer as message {@code content} (a string or text parts), as
 * {@code tool_calls} / {@code function_call} arguments (after any content, so the call is what is read; several
 * calls, also streamed interleaved, each read on its own, see {@link #toolArguments}), or
 * (reasoning models) only as {@code reasoning_content}.
 * When nothing usable arrived the error says what did (content type, size, the fields present, how it began).
 * Every text taken from the body passes through {@code mask}.
 */
final class ProviderAnswer {

    private ProviderAnswer() {
    }

    /** The body as one completion object: parsed JSON, or an SSE stream joined. */
    static JsonNode root(String body, String contentType, UnaryOperator<String> mask) throws MalformedAnswerException {
        String trimmed = body.stripLeading();
        if (contentType.contains("text/event-stream") || trimmed.startsWith("data:") || trimmed.startsWith("event:")) {
            return joinStream(body, mask);
        }
        try {
            JsonNode root = Json.mapper().readTree(body);
            if (root == null || !root.isObject()) {
                throw new MalformedAnswerException("the provider's response is not a JSON object (" + arrived(body, contentType) + ")", mask.apply(body));
            }
            return root;
        } catch (IOException e) {
            throw new MalformedAnswerException("the provider's response is not JSON (" + arrived(body, contentType) + ")", mask.apply(body));
        }
    }

    /** What arrived, for an error: content type, size and how it began. */
    static String arrived(String body, String contentType) {
        String start = body.replaceAll("\\s+", " ").strip();
        return (contentType.isEmpty() ? "no Content-Type" : "Content-Type " + contentType) + ", " + body.length() + " characters"
                + (start.isEmpty() ? ", empty" : ", beginning \"" + (start.length() > 80 ? start.substring(0, 80) + "…" : start) + "\"");
    }

    /** Joins {@code data:} events of chunks ({@code choices[0].delta}) into one completion object. */
    private static JsonNode joinStream(String body, UnaryOperator<String> mask) throws MalformedAnswerException {
        StringBuilder content = new StringBuilder();
        StringBuilder reasoning = new StringBuilder();
        Map<String, StreamedCall> calls = new LinkedHashMap<>();
        String lastCall = null;
        String finish = null;
        JsonNode usage = null;
        JsonNode error = null;
        int events = 0;
        for (String line : body.split("\r?\n")) {
            if (!line.startsWith("data:")) {
                continue;
            }
            String data = line.substring(5).strip();
            if (data.isEmpty() || data.equals("[DONE]")) {
                continue;
            }
            JsonNode chunk;
            try {
                chunk = Json.mapper().readTree(data);
            } catch (IOException e) {
                continue;
            }
            if (chunk == null || !chunk.isObject()) {
                continue;
            }
            events++;
            if (chunk.hasNonNull("error")) {
                error = chunk.get("error");
            }
            if (chunk.hasNonNull("usage")) {
                usage = chunk.get("usage");
            }
            JsonNode choice = chunk.path("choices").path(0);
            JsonNode delta = choice.has("delta") ? choice.get("delta") : choice.path("message");
            if (delta.path("content").isTextual()) {
                content.append(delta.get("content").asText());
            }
            if (delta.path("reasoning_content").isTextual()) {
                reasoning.append(delta.get("reasoning_content").asText());
            }
            for (JsonNode call : delta.path("tool_calls")) {
                lastCall = callKey(call, lastCall, calls.size());
                calls.computeIfAbsent(lastCall, k -> new StreamedCall()).add(call);
            }
            if (choice.hasNonNull("finish_reason")) {
                finish = choice.get("finish_reason").asText();
            }
        }
        if (events == 0) {
            throw new MalformedAnswerException("the provider sent an event stream with no JSON chunk in it (" + arrived(body, "text/event-stream") + ")",
                    mask.apply(body));
        }
        ObjectNode root = Json.mapper().createObjectNode();
        if (error != null) {
            root.set("error", error);
        }
        if (usage != null) {
            root.set("usage", usage);
        }
        if (content.length() > 0 || !calls.isEmpty() || reasoning.length() > 0 || finish != null) {
            ObjectNode choice = root.putArray("choices").addObject();
            if (finish != null) {
                choice.put("finish_reason", finish);
            }
            ObjectNode message = choice.putObject("message");
            message.put("role", "assistant");
            if (content.length() > 0) {
                message.put("content", content.toString());
            }
            if (reasoning.length() > 0) {
                message.put("reasoning_content", reasoning.toString());
            }
            if (!calls.isEmpty()) {
                ArrayNode toolCalls = message.putArray("tool_calls");
                calls.values().forEach(c -> c.addTo(toolCalls));
            }
        }
        return root;
    }

    /**
     * Which call a {@code tool_calls} delta belongs to: its {@code index} (OpenAI streams a call's arguments in many
     * deltas that carry only the index, and several calls interleaved); without one, its {@code id}; without
     * either, the call the previous delta belonged to (or a new one if there was none).
     */
    private static String callKey(JsonNode delta, String previous, int known) {
        if (delta.path("index").canConvertToInt()) {
            return "index " + delta.get("index").asInt();
        }
        if (delta.path("id").isTextual() && !delta.get("id").asText().isEmpty()) {
            return "id " + delta.get("id").asText();
        }
        return previous != null ? previous : "call " + known;
    }

    /** One streamed tool call: its id and name (sent in its first delta) and its arguments, joined in order. */
    private static final class StreamedCall {
        private String id;
        private String name;
        private final StringBuilder arguments = new StringBuilder();

        void add(JsonNode delta) {
            if (id == null && delta.path("id").isTextual()) {
                id = delta.get("id").asText();
            }
            JsonNode fn = delta.path("function");
            if (name == null && fn.path("name").isTextual() && !fn.get("name").asText().isEmpty()) {
                name = fn.get("name").asText();
            }
            JsonNode args = fn.path("arguments");
            arguments.append(args.isObject() ? args.toString() : args.asText(""));
        }

        void addTo(ArrayNode toolCalls) {
            ObjectNode call = toolCalls.addObject();
            if (id != null) {
                call.put("id", id);
            }
            call.put("type", "function");
            ObjectNode fn = call.putObject("function");
            if (name != null) {
                fn.put("name", name);
            }
            fn.put("arguments", arguments.toString());
        }
    }

    /** {@code choices[0]}: the answer text, finish_reason, refusal; and {@code usage}, whatever the shape. */
    static Completion completion(JsonNode root, String body, UnaryOperator<String> mask) throws MalformedAnswerException {
        JsonNode choices = root.get("choices");
        JsonNode choice = choices != null && choices.isArray() && choices.size() > 0 ? choices.get(0) : null;
        JsonNode message = choice == null ? null : choice.has("message") ? choice.get("message") : choice.get("delta");
        JsonNode usage = root.get("usage");
        long prompt = tokens(usage, "prompt_tokens", "input_tokens", "promptTokens", "prompt_eval_count");
        long completion = tokens(usage, "completion_tokens", "output_tokens", "completionTokens", "eval_count");
        String finish = choice == null ? null : Json.text(choice, "finish_reason", "finishReason");
        String refusal = message == null ? null : Json.text(message, "refusal");
        if (refusal != null && refusal.isBlank()) {
            refusal = null;
        }
        String text = message == null ? null : text(message.get("content"));
        String args = message == null ? null : toolArguments(message);
        if (args != null) {
            // the call's arguments go last: the answer is read as the last valid review object in the text, so a
            // model that says a few words in content and calls the tool is read by its call, and a broken call
            // falls back to a review written in the content
            text = text == null || text.isBlank() ? args : text + "\n\n" + args;
        }
        if ((text == null || text.isBlank()) && choice != null && choice.path("text").isTextual()) {
            text = choice.get("text").asText(); // legacy completions shape
        }
        if ((text == null || text.isBlank()) && refusal == null && !"content_filter".equals(finish)) {
            throw new MalformedAnswerException(nothingUsable(root, choice, message, finish), mask.apply(body));
        }
        return new Completion(text == null ? null : mask.apply(text), finish, refusal == null ? null : mask.apply(refusal), prompt, completion);
    }

    private static String text(JsonNode content) {
        if (content == null || content.isNull()) {
            return null;
        }
        if (content.isTextual()) {
            return content.asText();
        }
        if (content.isArray()) {
            StringBuilder sb = new StringBuilder();
            content.forEach(part -> sb.append(part.isTextual() ? part.asText() : part.path("text").asText("")));
            return sb.toString();
        }
        return null;
    }

    /**
     * The arguments of the answer's function calls, each a JSON text of its own, one after the other (or null when
     * there is none): the calls of the review tool ({@link AnswerSchema#TOOL}) when there are any, otherwise every
     * call (proxies rename tools) and the legacy {@code function_call}. The answer is read as the last valid review
     * object in the text, so of several calls the last valid review wins and a broken call does not spoil the others.
     */
    private static String toolArguments(JsonNode message) {
        List<JsonNode> functions = new ArrayList<>();
        for (JsonNode call : message.path("tool_calls")) {
            if (call.path("function").isObject()) {
                functions.add(call.get("function"));
            }
        }
        if (message.path("function_call").isObject()) {
            functions.add(message.get("function_call"));
        }
        List<JsonNode> review = functions.stream().filter(f -> AnswerSchema.TOOL.equals(f.path("name").asText())).toList();
        StringBuilder all = new StringBuilder();
        for (JsonNode fn : review.isEmpty() ? functions : review) {
            JsonNode args = fn.path("arguments");
            String text = args.isTextual() ? args.asText() : args.isObject() ? args.toString() : "";
            if (!text.isBlank()) {
                all.append(all.length() == 0 ? "" : "\n\n").append(text);
            }
        }
        return all.length() == 0 ? null : all.toString();
    }

    private static long tokens(JsonNode usage, String... names) {
        if (usage == null) {
            return 0;
        }
        JsonNode n = Json.field(usage, names);
        return n == null || !n.canConvertToLong() && !n.asText().matches("\\d+") ? 0 : n.asLong();
    }

    /** Why an answer has nothing to read, naming what it has. */
    private static String nothingUsable(JsonNode root, JsonNode choice, JsonNode message, String finish) {
        if (choice == null) {
            return "the provider's response has no choices (fields: " + fields(root) + ")";
        }
        if (message == null) {
            return "the provider's response has no choices[0].message (choice fields: " + fields(choice) + ")";
        }
        String reasoning = Json.text(message, "reasoning_content", "reasoning");
        if (reasoning != null && !reasoning.isBlank()) {
            return "the model's answer has only reasoning_content (" + reasoning.length() + " characters) and no content"
                    + (finish == null ? "" : " (finish_reason \"" + finish + "\")") + ": it spent its tokens thinking; raise ai.maxTokens";
        }
        return "the provider's response has no choices[0].message.content (message fields: " + fields(message)
                + (finish == null ? "" : "; finish_reason \"" + finish + "\"") + ")";
    }

    private static String fields(JsonNode node) {
        StringBuilder sb = new StringBuilder();
        node.fieldNames().forEachRemaining(f -> sb.append(sb.length() == 0 ? "" : ", ").append(f));
        return sb.length() == 0 ? "none" : sb.toString();
    }
}
