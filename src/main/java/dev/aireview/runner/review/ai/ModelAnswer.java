package dev.aireview.runner.review.ai;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import dev.aireview.runner.model.Json;
import dev.aireview.runner.model.ReviewComment;
import dev.aireview.runner.model.Severity;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A parsed and validated model answer: {@code {"summary": "...", "comments": [...]}}, as models actually write it:
 * <ul>
 *   <li>reasoning blocks ({@code <think>…</think>}, {@code <thinking>}, {@code <reasoning>}) are removed first;</li>
 *   <li>every JSON object in the text (fenced or not, prose around it with braces in it does not matter) is a
 *       candidate; those that are not a valid answer ({@code comments} not a list, no comment and no summary) or are
 *       the answer format restated from the prompt ({@code "file path as shown"}) are passed over, and the
 *       <em>last</em> valid one is the answer: a model that first echoes the format or shows an example keeps its
 *       real comments;</li>
 *   <li>{@code file}/{@code body}/{@code end_line} spellings, {@code line} as a string ({@code "12"}, {@code "L12"},
 *       {@code "12-14"} for a range), and severities such as {@code critical}/{@code high}/{@code nit}.</li>
 * </ul>
 * An answer with no such object, or with neither {@code summary} nor a {@code comments} list, is malformed;
 * single comments without path, line or message are dropped and counted.
 */
public record ModelAnswer(String summary, List<ReviewComment> comments, int invalidComments) {

    private static final Pattern THINK = Pattern.compile("(?is)<(think|thinking|reasoning)>.*?</\\1>");
    private static final Pattern OPEN_THINK = Pattern.compile("(?is)^\\s*<(think|thinking|reasoning)>");
    private static final Pattern LINE = Pattern.compile("^\\s*(?:[Ll](?:ine)?\\s*)?(\\d+)(?:\\s*(?:-|–|:|\\.\\.)\\s*[Ll]?(\\d+))?");

    public static ModelAnswer parse(String content) throws MalformedAnswerException {
        String text = content == null ? "" : THINK.matcher(content).replaceAll("").strip();
        if (OPEN_THINK.matcher(text).find()) {
            throw new MalformedAnswerException("the model's answer is an unfinished reasoning block with no review in it", content);
        }
        JsonNode root = lastValidAnswer(text);
        if (root == null) {
            root = firstReviewObject(text); // not valid: read below for the error that names what is wrong with it
        }
        if (root == null) {
            boolean anyObject = text.indexOf('{') >= 0;
            throw new MalformedAnswerException(anyObject ? "the model's answer has no valid JSON review object"
                    : "the model's answer is not a JSON object", content);
        }
        JsonNode commentsNode = Json.field(root, "comments", "findings", "issues");
        String summary = Json.text(root, "summary", "overview", "assessment");
        if (commentsNode != null && !commentsNode.isArray() && !commentsNode.isNull()) {
            throw new MalformedAnswerException("\"comments\" in the model's answer is not a list", content);
        }
        List<ReviewComment> comments = new ArrayList<>();
        int invalid = 0;
        if (commentsNode != null) {
            for (JsonNode c : commentsNode) {
                String path = Json.text(c, "path", "file", "filename");
                JsonNode lineNode = Json.field(c, "line", "startLine", "start_line", "lineNumber", "line_number");
                int[] range = lineOf(lineNode);
                String message = Json.text(c, "message", "body", "comment", "text");
                if (path == null || range == null || range[0] < 1 || message == null || message.isBlank()) {
                    invalid++;
                    continue;
                }
                Integer end = range[1] > 0 ? Integer.valueOf(range[1]) : endOf(Json.field(c, "endLine", "end_line"));
                comments.add(new ReviewComment(path, range[0], end, Severity.fromWire(Json.text(c, "severity", "level", "priority")),
                        message.strip(), blankToNull(Json.text(c, "suggestion", "fix"))));
            }
        }
        return new ModelAnswer(summary == null ? "" : summary, comments, invalid);
    }

    /** Objects tried at most per answer (each '{' that does not start a JSON object costs a parse attempt). */
    private static final int MAX_CANDIDATES = 2_000;

    /** The last JSON object in the text that is a valid answer and not the prompt's format restated; null if none. */
    static JsonNode lastValidAnswer(String text) {
        JsonNode last = null;
        int tries = 0;
        for (int i = text.indexOf('{'); i >= 0 && tries < MAX_CANDIDATES; tries++) {
            JsonNode node = null;
            int end = i + 1;
            try (JsonParser p = Json.mapper().getFactory().createParser(text.substring(i))) {
                node = p.readValueAsTree();
                end = i + (int) Math.max(1, p.getCurrentLocation().getCharOffset());
            } catch (IOException | RuntimeException e) {
                node = null;
            }
            if (node != null && node.isObject() && valid(node)) {
                last = node;
                i = text.indexOf('{', end);
            } else {
                i = text.indexOf('{', i + 1);
            }
        }
        return last;
    }

    /** A review-shaped object whose types are right and that is not the prompt's example. */
    private static boolean valid(JsonNode node) {
        JsonNode comments = Json.field(node, "comments", "findings", "issues");
        JsonNode summary = Json.field(node, "summary", "overview", "assessment");
        if (comments == null && (summary == null || !summary.isTextual())) {
            return false;
        }
        if (comments != null && !comments.isArray() && !comments.isNull()) {
            return false;
        }
        if (summary != null && summary.isTextual() && summary.asText().startsWith("markdown overall assessment")) {
            return false;
        }
        if (comments != null) {
            for (JsonNode c : comments) {
                if ("file path as shown".equals(Json.text(c, "path", "file")) || "what is wrong and why".equals(Json.text(c, "message", "body"))) {
                    return false;
                }
            }
        }
        return true;
    }

    /** The first JSON object in the text that has a {@code summary} or a {@code comments} field, or null. */
    static JsonNode firstReviewObject(String text) {
        for (int i = text.indexOf('{'); i >= 0; i = text.indexOf('{', i + 1)) {
            JsonNode node;
            try (JsonParser p = Json.mapper().getFactory().createParser(text.substring(i))) {
                node = p.readValueAsTree();
            } catch (IOException | RuntimeException e) {
                continue;
            }
            if (node != null && node.isObject()
                    && (Json.field(node, "comments", "findings", "issues") != null || Json.text(node, "summary", "overview", "assessment") != null)) {
                return node;
            }
        }
        return null;
    }

    /** {@code [line, endLine or 0]} from a number or a text such as {@code "12"}, {@code "L12"}, {@code "12-14"}; null if none. */
    private static int[] lineOf(JsonNode n) {
        if (n == null || n.isNull()) {
            return null;
        }
        if (n.isIntegralNumber()) {
            return new int[]{n.intValue(), 0};
        }
        if (n.isNumber()) {
            return new int[]{(int) n.doubleValue(), 0};
        }
        Matcher m = LINE.matcher(n.asText());
        if (!m.find()) {
            return null;
        }
        try {
            int start = Integer.parseInt(m.group(1));
            int end = m.group(2) == null ? 0 : Integer.parseInt(m.group(2));
            return new int[]{start, end > start ? end : 0};
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static Integer endOf(JsonNode n) {
        int[] r = lineOf(n);
        return r == null || r[0] < 1 ? null : r[0];
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }
}
