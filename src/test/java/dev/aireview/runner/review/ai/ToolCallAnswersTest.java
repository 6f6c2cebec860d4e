package dev.aireview.runner.review.ai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.Json;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.review.ReviewEngine;
import dev.aireview.runner.review.rules.OfflineReviewer;
import dev.aireview.runner.testsupport.FakeOpenAi;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The answer asked for as a forced tool call ({@code submit_review}), against {@link FakeOpenAi} on loopback: a
 * provider that calls the tool, one that refuses tools with a 400 (asked again once without them, and the following
 * parts go without them), one that ignores them and answers in text, and refusals for other reasons (not retried).
 */
class ToolCallAnswersTest {

    private static final String KEY = "sk-tools-2b9e6d1f4a7c0e3b5d8f";
    private final List<String> progress = new ArrayList<>();

    @Test
    void theRequestDeclaresTheReviewToolAndForcesItAndItsCallYieldsTheComments() throws Exception {
        try (FakeOpenAi fake = new FakeOpenAi(FakeOpenAi.Tools.CALL)) {
            TaskResult result = review(task(fake, 1, null), 100_000);
            assertEquals(ResultStatus.COMPLETED, result.status(), String.valueOf(result.error()));
            assertEquals(1, fake.requests());
            JsonNode body = fake.requestBodies().get(0);
            JsonNode tool = body.path("tools").path(0);
            assertEquals(1, body.path("tools").size(), body.toString());
            assertEquals("function", tool.path("type").asText());
            assertEquals("submit_review", tool.path("function").path("name").asText());
            JsonNode params = tool.path("function").path("parameters");
            assertEquals("[\"summary\",\"comments\"]", params.path("required").toString());
            assertEquals("[\"path\",\"line\",\"endLine\",\"severity\",\"message\",\"suggestion\"]",
                    params.path("properties").path("comments").path("items").path("required").toString());
            assertEquals("{\"type\":\"function\",\"function\":{\"name\":\"submit_review\"}}", body.path("tool_choice").toString());
            assertEquals("json_schema", body.path("response_format").path("type").asText(), "structured output is still asked for");
            assertEquals(List.of("src/f0.js:2"), keys(result));
            assertTokens(fake, result, 1);
        }
    }

    @Test
    void aProviderRefusingToolsIsAskedOnceMoreWithoutThemAndTheLaterPartsGoWithoutThem() throws Exception {
        try (FakeOpenAi fake = new FakeOpenAi(FakeOpenAi.Tools.REFUSE)) {
            TaskResult result = review(task(fake, 3, null), 100);
            assertEquals(ResultStatus.COMPLETED, result.status(), String.valueOf(result.error()));
            assertTrue(progress.stream().anyMatch(l -> l.contains("3 request(s)")), progress.toString());
            List<JsonNode> bodies = fake.requestBodies();
            assertEquals(4, bodies.size(), "one refused request, then one per part");
            assertTrue(bodies.get(0).has("tools") && bodies.get(0).has("tool_choice"));
            for (JsonNode b : bodies.subList(1, 4)) {
                assertFalse(b.has("tools") || b.has("tool_choice"), b.toString());
            }
            assertEquals(List.of("src/f0.js:2", "src/f1.js:2", "src/f2.js:2"), keys(result));
            assertNull(result.stats().partial());
            assertTokens(fake, result, 3);
            assertEquals(1, progress.stream().filter(l -> l.contains("refuses tools")).count(), progress.toString());
            assertTrue(progress.stream().anyMatch(l -> l.contains("HTTP 400 refuses tools (" + FakeOpenAi.TOOLS_REFUSED + ")")), progress.toString());
            progress.forEach(l -> assertFalse(l.contains(KEY), l));
        }
    }

    @Test
    void aProviderIgnoringToolsAndAnsweringInTextIsRead() throws Exception {
        try (FakeOpenAi fake = new FakeOpenAi(FakeOpenAi.Tools.IGNORE)) {
            TaskResult result = review(task(fake, 2, null), 100);
            assertEquals(ResultStatus.COMPLETED, result.status(), String.valueOf(result.error()));
            assertEquals(2, fake.requests());
            fake.requestBodies().forEach(b -> assertEquals("submit_review", b.path("tool_choice").path("function").path("name").asText()));
            assertEquals(List.of("src/f0.js:2", "src/f1.js:2"), keys(result));
            assertTokens(fake, result, 2);
        }
    }

    @Test
    void toolsSwitchedOffByTheTaskAreNotAskedFor() throws Exception {
        try (FakeOpenAi fake = new FakeOpenAi(FakeOpenAi.Tools.REFUSE)) {
            TaskResult result = review(task(fake, 1, false), 100_000);
            assertEquals(ResultStatus.COMPLETED, result.status(), String.valueOf(result.error()));
            assertEquals(1, fake.requests());
            assertFalse(fake.requestBodies().get(0).has("tools"));
            assertFalse(fake.requestBodies().get(0).has("tool_choice"));
            assertEquals(List.of("src/f0.js:2"), keys(result));
        }
    }

    @Test
    void a400ForAnotherReasonIsNotRetried() throws Exception {
        try (FakeOpenAi fake = new FakeOpenAi(FakeOpenAi.Tools.CALL)) {
            fake.refuseWith(400, "{\"error\":{\"message\":\"Invalid 'messages[1].content': string too long. Expected a string with maximum "
                    + "length 1048576.\",\"type\":\"invalid_request_error\",\"param\":\"messages[1].content\",\"code\":\"string_above_max_length\"}}");
            TaskResult result = review(task(fake, 1, null), 100_000);
            assertEquals(ResultStatus.FAILED, result.status());
            assertEquals(ErrorKind.EXECUTOR_FAILED, result.error().kind());
            assertTrue(result.error().message().contains("the provider refused the request: HTTP 400 (Invalid 'messages[1].content'"),
                    result.error().message());
            assertEquals(1, fake.requests());
        }
    }

    @Test
    void anotherClientErrorNamingToolsIsNotRetriedEither() throws Exception {
        try (FakeOpenAi fake = new FakeOpenAi(FakeOpenAi.Tools.CALL)) {
            fake.refuseWith(403, "{\"error\":{\"message\":\"Your plan does not include tools\",\"type\":\"permission_error\"}}");
            TaskResult result = review(task(fake, 1, null), 100_000);
            assertEquals(ResultStatus.FAILED, result.status());
            assertTrue(result.error().message().contains("HTTP 403 (Your plan does not include tools)"), result.error().message());
            assertEquals(1, fake.requests());
        }
    }

    @Test
    void aProviderRefusingToolsAndThenEverythingElseStopsAfterOneFallback() throws Exception {
        // the fallback is one more attempt, not a loop: a 400 that names tools again once they are off is final
        try (FakeOpenAi fake = new FakeOpenAi(FakeOpenAi.Tools.CALL)) {
            fake.refuseWith(400, "{\"error\":{\"message\":\"tool_choice is not supported\"}}");
            TaskResult result = review(task(fake, 2, null), 100);
            assertEquals(ResultStatus.FAILED, result.status());
            assertTrue(result.error().message().contains("HTTP 400 (tool_choice is not supported)"), result.error().message());
            assertEquals(2, fake.requests(), "the first part with and without tools; the second part is not asked");
            assertTrue(fake.requestBodies().get(0).has("tools"));
            assertFalse(fake.requestBodies().get(1).has("tools"));
        }
    }

    @Test
    void onlyTheErrorsOwnWordsAreSearchedForTools() {
        // a validator echoing the request back (with its "tools") is not a refusal of tools
        String echo = "{\"detail\":[{\"type\":\"missing\",\"loc\":[\"body\",\"model\"],\"msg\":\"Field required\","
                + "\"input\":{\"messages\":[],\"tools\":[{\"type\":\"function\"}],\"tool_choice\":{}}}]}";
        assertFalse(ChatClient.errorMessage(echo).contains("tool"), ChatClient.errorMessage(echo));
        assertTrue(ChatClient.errorMessage(echo).contains("field required"));
        assertTrue(ChatClient.errorMessage("{\"object\":\"error\",\"message\":\"Tools are not supported\"}").contains("tools"));
        assertTrue(ChatClient.errorMessage("{\"error\":{\"message\":\"Unrecognized request argument\",\"param\":\"tool_choice\"}}").contains("tool_choice"));
        assertEquals("functions are not supported", ChatClient.errorMessage("Functions are NOT supported"));
    }

    @Test
    void theTaskSwitchReadsAsABoolean() throws Exception {
        for (String v : List.of("false", "\"off\"", "\"no\"")) {
            ObjectNode node = (ObjectNode) Json.mapper().readTree("{\"id\":\"t\",\"repository\":\"https://git.example/a/b.git\",\"headSha\":\""
                    + "a".repeat(40) + "\",\"ai\":{\"model\":\"m\",\"tools\":" + v + "}}");
            assertFalse(ReviewTask.fromJson(node).ai().toolsOn(), v);
        }
        ObjectNode on = (ObjectNode) Json.mapper().readTree("{\"id\":\"t\",\"repository\":\"https://git.example/a/b.git\",\"headSha\":\""
                + "a".repeat(40) + "\",\"ai\":{\"model\":\"m\"}}");
        assertTrue(ReviewTask.fromJson(on).ai().toolsOn());
        assertNull(ReviewTask.fromJson(on).ai().tools());
    }

    // --- helpers -------------------------------------------------------------------------------------------

    /** The stats' tokens are the sum of what the fake reported for each answered request. */
    private static void assertTokens(FakeOpenAi fake, TaskResult result, int answered) {
        List<JsonNode> bodies = fake.requestBodies();
        long prompt = 0;
        long completion = 0;
        for (JsonNode b : bodies.subList(bodies.size() - answered, bodies.size())) {
            String user = b.path("messages").path(1).path("content").asText();
            prompt += user.length() / 4;
            completion += FakeOpenAi.review(user).length() / 4;
        }
        assertTrue(prompt > 0 && completion > 0);
        assertEquals(prompt, result.stats().promptTokens());
        assertEquals(completion, result.stats().completionTokens());
    }

    private TaskResult review(ObjectNode node, int diffBudget) throws Exception {
        AiReviewer reviewer = new AiReviewer(diffBudget, 8, new RetryPolicy(3, Duration.ofMillis(5), Duration.ofMillis(50)), Duration.ofSeconds(20));
        return new ReviewEngine(new OfflineReviewer(), reviewer).review(ReviewTask.fromJson(node), null, progress::add);
    }

    /** {@code files} added files {@code src/f<i>.js} of a few lines each; {@code ai.tools} as given (null: not set). */
    private static ObjectNode task(FakeOpenAi fake, int files, Boolean tools) {
        ObjectNode node = Json.mapper().createObjectNode();
        node.put("id", "task_tools_1");
        node.putObject("repository").put("url", "https://git.example/acme/shop.git").put("fullName", "acme/shop");
        node.put("headSha", "d".repeat(40));
        ObjectNode ai = node.putObject("ai").put("provider", "openai").put("baseUrl", fake.baseUrl()).put("model", "review-model").put("apiKey", KEY);
        if (tools != null) {
            ai.put("tools", tools);
        }
        ArrayNode list = node.putArray("files");
        for (int i = 0; i < files; i++) {
            list.addObject().put("path", "src/f" + i + ".js").put("status", "modified")
                    .put("patch", "@@ -1,2 +1,4 @@\n const a" + i + " = 1;\n+const b" + i + " = compute(a" + i + ");\n+console.log(b" + i
                            + ");\n export default a" + i + ";\n");
        }
        return node;
    }

    private static List<String> keys(TaskResult r) {
        return r.comments().stream().map(c -> c.path() + ":" + c.line()).sorted().toList();
    }

}
