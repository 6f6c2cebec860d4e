package dev.aireview.runner.review.ai;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aireview.runner.model.Json;

/**
 * The answer format as a JSON schema for structured output ({@code response_format: {"type": "json_schema"}}), in
 * the strict form OpenAI and Azure require (every property required, no additional properties; optional values
 * nullable). Ollama, vLLM, LiteLLM and OpenRouter accept the same shape for models that support it. The same schema
 * is the parameters of the one function tool {@value #TOOL}, which {@link #toolChoice()} forces: a provider that
 * supports tools answers with the review as the call's arguments.
 */
final class AnswerSchema {

    private static final String SCHEMA = """
            {"type": "json_schema", "json_schema": {"name": "code_review", "strict": true, "schema": {
              "type": "object", "additionalProperties": false, "required": ["summary", "comments"],
              "properties": {
                "summary": {"type": "string"},
                "comments": {"type": "array", "items": {
                  "type": "object", "additionalProperties": false,
                  "required": ["path", "line", "endLine", "severity", "message", "suggestion"],
                  "properties": {
                    "path": {"type": "string"},
                    "line": {"type": "integer"},
                    "endLine": {"type": ["integer", "null"]},
                    "severity": {"type": "string", "enum": ["error", "warning", "info"]},
                    "message": {"type": "string"},
                    "suggestion": {"type": ["string", "null"]}}}}}}}}
            """;

    /** The function the model is made to call with its review. */
    static final String TOOL = "submit_review";

    private AnswerSchema() {
    }

    /** {@code {"type": "function", "function": {"name": "submit_review", "strict": true, "parameters": <schema>}}}. */
    static ObjectNode tool() {
        ObjectNode tool = Json.mapper().createObjectNode();
        tool.put("type", "function");
        ObjectNode fn = tool.putObject("function");
        fn.put("name", TOOL);
        fn.put("description", "Submit the code review: an overall summary and the comments on lines of the diff.");
        fn.put("strict", true);
        fn.set("parameters", responseFormat().path("json_schema").path("schema").deepCopy());
        return tool;
    }

    /** {@code {"type": "function", "function": {"name": "submit_review"}}}: the model must call it. */
    static ObjectNode toolChoice() {
        ObjectNode choice = Json.mapper().createObjectNode();
        choice.put("type", "function");
        choice.putObject("function").put("name", TOOL);
        return choice;
    }

    static ObjectNode responseFormat() {
        try {
            return (ObjectNode) Json.mapper().readTree(SCHEMA);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
