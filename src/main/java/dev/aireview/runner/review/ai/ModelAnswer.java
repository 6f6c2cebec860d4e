package dev.aireview.runner.review.ai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aireview.runner.model.Json;
import dev.aireview.runner.model.ReviewComment;
import dev.aireview.runner.model.Severity;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A parsed and validated model answer: {@code {"summary": "...", "comments": [...]}}. Tolerant of code fences
 * and text around the object, of {@code file}/{@code body}/{@code end_line} spellings and numeric strings.
 * An answer that is not a JSON object, or has neither {@code summary} nor a {@code comments} list, is
 * malformed; single comments without path, line or message are dropped and counted.
 */
public record ModelAnswer(String summary, List<ReviewComment> comments, int invalidComments) {

    public static ModelAnswer parse(String content) throws MalformedAnswerException {
        String text = content == null ? "" : content.strip();
        int open = text.indexOf('{');
        int close = text.lastIndexOf('}');
        if (open < 0 || close < open) {
            throw new MalformedAnswerException("the model's answer is not a JSON object", content);
        }
        JsonNode root;
        try {
            root = Json.mapper().readTree(text.substring(open, close + 1));
        } catch (IOException e) {
            throw new MalformedAnswerException("the model's answer is not valid JSON", content);
        }
        if (root == null || !root.isObject()) {
            throw new MalformedAnswerException("the model's answer is not a JSON object", content);
        }
        JsonNode commentsNode = Json.field(root, "comments", "findings", "issues");
        String summary = Json.text(root, "summary", "overview", "assessment");
        if (summary == null && (commentsNode == null || !commentsNode.isArray())) {
            throw new MalformedAnswerException("the model's answer has neither \"summary\" nor a \"comments\" list", content);
        }
        if (commentsNode != null && !commentsNode.isArray()) {
            throw new MalformedAnswerException("\"comments\" in the model's answer is not a list", content);
        }
        List<ReviewComment> comments = new ArrayList<>();
        int invalid = 0;
        if (commentsNode != null) {
            for (JsonNode c : commentsNode) {
                String path = Json.text(c, "path", "file", "filename");
                Integer line = intOf(Json.field(c, "line", "startLine", "start_line", "lineNumber", "line_number"));
                String message = Json.text(c, "message", "body", "comment", "text");
                if (path == null || line == null || line < 1 || message == null) {
                    invalid++;
                    continue;
                }
                Integer end = intOf(Json.field(c, "endLine", "end_line"));
                comments.add(new ReviewComment(path, line, end, Severity.fromWire(Json.text(c, "severity", "level")),
                        message, Json.text(c, "suggestion", "fix")));
            }
        }
        return new ModelAnswer(summary == null ? "" : summary, comments, invalid);
    }

    private static Integer intOf(JsonNode n) {
        if (n == null) {
            return null;
        }
        if (n.isIntegralNumber()) {
            return n.intValue();
        }
        try {
            return Integer.valueOf(n.asText().strip());
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
