package dev.aireview.runner.review.ai;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aireview.runner.model.Json;

/**
 * The answer format as a JSON schema for structured output ({@code response_format: {"type": "json_schema"}}), in
 * the strict form OpenAI and Azure require (every property required, no additional properties; optional values
 * nullable). Ollama, vLLM, LiteLLM and OpenRouter accept the same shape for models that support it.
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

    private AnswerSchema() {
    }

    static ObjectNode responseFormat() {
        try {
            return (ObjectNode) Json.mapper().readTree(SCHEMA);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
