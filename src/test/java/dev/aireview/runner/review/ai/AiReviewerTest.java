package dev.aireview.runner.review.ai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import dev.aireview.runner.model.BadTaskException;
import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.Json;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.ReviewComment;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.Severity;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.review.ReviewEngine;
import dev.aireview.runner.review.rules.OfflineReviewer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The AI path against WireMock playing an OpenAI-compatible provider. */
class AiReviewerTest {

    @RegisterExtension
    static WireMockExtension provider = WireMockExtension.newInstance().options(wireMockConfig().dynamicPort()).build();

    private static final String KEY = "sk-test-7f3a9c1e5b2d4f6a8c0e";
    private static final String PATH = "/v1/chat/completions";
    /** src/cart.js new lines: 10 ctx, 11 added, 12 added, 13 ctx, 14 ctx (old 12 removed). */
    private static final String CART_PATCH = "@@ -10,5 +10,6 @@ function total(cart) {\n   let sum = 0;\n+  for (const i of cart.items) sum += i.price;\n"
            + "+  console.log(sum);\n-  return cart.total;\n   return sum;\n }\n";

    private final List<String> progress = new ArrayList<>();
    private final ReviewEngine engine = new ReviewEngine(new OfflineReviewer(),
            new AiReviewer(AiReviewer.DEFAULT_DIFF_BUDGET, new RetryPolicy(3, Duration.ofMillis(10), Duration.ofMillis(200)), Duration.ofSeconds(10)));

    @Test
    void sendsAChatCompletionsRequestOfTheExpectedShape() throws Exception {
        stubAnswer("{\"summary\":\"Looks fine.\",\"comments\":[]}");
        TaskResult result = review(task(CART_PATCH, null));
        assertEquals(ResultStatus.COMPLETED, result.status());
        provider.verify(1, postRequestedFor(urlEqualTo(PATH))
                .withHeader("Authorization", equalTo("Bearer " + KEY))
                .withHeader("Content-Type", containing("application/json"))
                .withRequestBody(matchingJsonPath("$.model", equalTo("review-model-1")))
                .withRequestBody(matchingJsonPath("$.response_format.type", equalTo("json_schema")))
                .withRequestBody(matchingJsonPath("$.response_format.json_schema.strict", equalTo("true")))
                .withRequestBody(matchingJsonPath("$.temperature", equalTo("0.1")))
                .withRequestBody(matchingJsonPath("$.max_tokens", equalTo("777")))
                .withRequestBody(matchingJsonPath("$.messages[0].role", equalTo("system")))
                .withRequestBody(matchingJsonPath("$.messages[0].content", containing("- Flag missing error handling")))
                .withRequestBody(matchingJsonPath("$.messages[1].role", equalTo("user")))
                .withRequestBody(matchingJsonPath("$.messages[1].content", containing("   12 |+  console.log(sum);")))
                .withRequestBody(matchingJsonPath("$.messages[1].content", containing("### src/cart.js (modified)"))));
        assertTrue(result.summary().contains("Looks fine."));
        assertNoKey(result);
    }

    @Test
    void promptTemplatePlaceholdersAreFilledIn() throws Exception {
        stubAnswer("{\"summary\":\"ok\",\"comments\":[]}");
        review(task(CART_PATCH, "Repo {{repository}} at {{headSha}}, part {{part}}/{{parts}}. Rules:\n{{rules}}\nFiles: {{files}}\n{{diff}}"));
        provider.verify(1, postRequestedFor(urlEqualTo(PATH))
                .withRequestBody(matchingJsonPath("$.messages[1].content", containing("Repo acme/shop at " + "b".repeat(40) + ", part 1/1.")))
                .withRequestBody(matchingJsonPath("$.messages[1].content", containing("Files: src/cart.js")))
                .withRequestBody(matchingJsonPath("$.messages[1].content", containing("- Flag missing error handling"))));
    }

    @Test
    void goodAnswerBecomesCommentsOnTheRightLinesAndOffDiffCommentsAreMovedOrDropped() throws Exception {
        stubAnswer("""
                {"summary": "One bug, one leftover log.",
                 "comments": [
                   {"path": "src/cart.js", "line": 11, "endLine": 12, "severity": "error", "message": "Prices may be undefined.", "suggestion": "sum += i.price ?? 0;"},
                   {"path": "src/cart.js", "line": 12, "severity": "warning", "message": "Remove the console.log."},
                   {"path": "./src/cart.js", "line": 14, "severity": "info", "message": "Context line comment."},
                   {"path": "src/cart.js", "line": 200, "severity": "info", "message": "Far away."},
                   {"path": "src/other.js", "line": 3, "severity": "error", "message": "Not in the diff."},
                   {"path": "src/cart.js", "severity": "info", "message": "No line."}
                 ]}""");
        TaskResult result = review(task(CART_PATCH, null));
        assertEquals(ResultStatus.COMPLETED, result.status());
        List<ReviewComment> c = result.comments();
        assertEquals(3, c.size(), c.toString());
        assertEquals(new ReviewComment("src/cart.js", 11, 12, Severity.ERROR, "Prices may be undefined.", "sum += i.price ?? 0;"), c.get(0));
        assertEquals(new ReviewComment("src/cart.js", 12, null, Severity.WARNING, "Remove the console.log.", null), c.get(1));
        assertEquals(new ReviewComment("src/cart.js", 12, null, Severity.INFO, "(about line 14) Context line comment.", null), c.get(2));
        assertTrue(result.summary().contains("One bug, one leftover log."), result.summary());
        assertTrue(result.summary().contains("1 comment(s) moved to the nearest changed line."), result.summary());
        assertTrue(result.summary().contains("1 invalid comment(s) dropped"), result.summary());
        assertTrue(result.summary().contains("### Comments outside the diff"), result.summary());
        assertTrue(result.summary().contains("`src/cart.js:200` (info): Far away."), result.summary());
        assertTrue(result.summary().contains("`src/other.js:3` (error): Not in the diff."), result.summary());
        assertEquals(1, result.stats().filesReviewed());
        assertNoKey(result);
    }

    @Test
    void answerInACodeFenceIsAccepted() throws Exception {
        stubAnswer("```json\n{\"summary\":\"fenced\",\"comments\":[{\"file\":\"src/cart.js\",\"line\":\"11\",\"severity\":\"high\",\"body\":\"x\"}]}\n```");
        TaskResult result = review(task(CART_PATCH, null));
        assertEquals(List.of(new ReviewComment("src/cart.js", 11, null, Severity.ERROR, "x", null)), result.comments());
    }

    @Test
    void malformedAnswerIsRetriedOnceThenFailsQuotingTheModel() throws Exception {
        stubAnswer("Sure! Here is my review of the cart code: it looks mostly fine but " + KEY);
        TaskResult result = review(task(CART_PATCH, null));
        assertEquals(ResultStatus.FAILED, result.status());
        assertEquals(ErrorKind.EXECUTOR_FAILED, result.error().kind());
        assertTrue(result.error().message().contains("malformed output"), result.error().message());
        assertTrue(result.error().message().contains("\"Sure! Here is my review of the cart code"), result.error().message());
        provider.verify(2, postRequestedFor(urlEqualTo(PATH)));
        assertNoKey(result);
    }

    @Test
    void malformedAnswerFollowedByAGoodOneCompletes() throws Exception {
        provider.stubFor(post(urlEqualTo(PATH)).inScenario("m").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(okJson(completion("{\"summary\": \"cut off"))).willSetStateTo("second"));
        provider.stubFor(post(urlEqualTo(PATH)).inScenario("m").whenScenarioStateIs("second")
                .willReturn(okJson(completion("{\"summary\":\"second try\",\"comments\":[]}"))));
        TaskResult result = review(task(CART_PATCH, null));
        assertEquals(ResultStatus.COMPLETED, result.status());
        assertTrue(result.summary().contains("second try"));
        provider.verify(2, postRequestedFor(urlEqualTo(PATH)));
        assertTrue(progress.stream().anyMatch(l -> l.contains("asking once more")), progress.toString());
    }

    @Test
    void rateLimitAndServerErrorsAreRetried() throws Exception {
        provider.stubFor(post(urlEqualTo(PATH)).inScenario("r").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(aResponse().withStatus(429).withHeader("Retry-After", "0").withBody("{\"error\":{\"message\":\"slow down\"}}"))
                .willSetStateTo("busy"));
        provider.stubFor(post(urlEqualTo(PATH)).inScenario("r").whenScenarioStateIs("busy")
                .willReturn(aResponse().withStatus(503)).willSetStateTo("ok"));
        provider.stubFor(post(urlEqualTo(PATH)).inScenario("r").whenScenarioStateIs("ok")
                .willReturn(okJson(completion("{\"summary\":\"after retries\",\"comments\":[]}"))));
        TaskResult result = review(task(CART_PATCH, null));
        assertEquals(ResultStatus.COMPLETED, result.status(), String.valueOf(result.error()));
        provider.verify(3, postRequestedFor(urlEqualTo(PATH)));
        assertTrue(progress.stream().anyMatch(l -> l.contains("HTTP 429") && l.contains("retrying in 0 ms")), progress.toString());
    }

    @Test
    void persistentServerErrorsFailAfterTheLastAttempt() throws Exception {
        provider.stubFor(post(urlEqualTo(PATH)).willReturn(aResponse().withStatus(502)));
        TaskResult result = review(task(CART_PATCH, null));
        assertEquals(ErrorKind.EXECUTOR_FAILED, result.error().kind());
        assertTrue(result.error().message().contains("after 3 attempts: HTTP 502"), result.error().message());
        provider.verify(3, postRequestedFor(urlEqualTo(PATH)));
    }

    @Test
    void refusedRequestFailsAtOnceWithoutEchoingTheKey() throws Exception {
        provider.stubFor(post(urlEqualTo(PATH)).willReturn(aResponse().withStatus(401)
                .withBody("{\"error\":{\"message\":\"Incorrect API key provided: " + KEY + "\"}}")));
        TaskResult result = review(task(CART_PATCH, null));
        assertEquals(ErrorKind.EXECUTOR_FAILED, result.error().kind());
        assertTrue(result.error().message().contains("HTTP 401"), result.error().message());
        assertTrue(result.error().message().contains("Incorrect API key provided: ****"), result.error().message());
        provider.verify(1, postRequestedFor(urlEqualTo(PATH)));
        assertNoKey(result);
    }

    @Test
    void largeDiffIsSplitIntoSeveralRequestsAndMerged() throws Exception {
        ReviewEngine small = new ReviewEngine(new OfflineReviewer(),
                new AiReviewer(250, new RetryPolicy(2, Duration.ofMillis(10), Duration.ofMillis(50)), Duration.ofSeconds(10)));
        StringBuilder a = new StringBuilder("@@ -0,0 +1,8 @@\n");
        StringBuilder b = new StringBuilder("@@ -0,0 +1,8 @@\n");
        for (int i = 1; i <= 8; i++) {
            a.append("+const alpha").append(i).append(" = computeSomethingLong(").append(i).append(");\n");
            b.append("+const beta").append(i).append(" = computeSomethingElse(").append(i).append(");\n");
        }
        ObjectNode node = taskNode(null);
        node.putArray("files").add(file("src/a.js", "added", a.toString())).add(file("src/b.js", "added", b.toString()));
        provider.stubFor(post(urlEqualTo(PATH)).withRequestBody(containing("### src/a.js"))
                .willReturn(okJson(completion("{\"summary\":\"part about a\",\"comments\":[{\"path\":\"src/a.js\",\"line\":2,\"severity\":\"warning\",\"message\":\"a2\"}]}"))));
        provider.stubFor(post(urlEqualTo(PATH)).withRequestBody(containing("### src/b.js"))
                .willReturn(okJson(completion("{\"summary\":\"part about b\",\"comments\":[{\"path\":\"src/b.js\",\"line\":7,\"severity\":\"info\",\"message\":\"b7\"}]}"))));
        TaskResult result = small.review(ReviewTask.fromJson(node), null, progress::add);
        assertEquals(ResultStatus.COMPLETED, result.status(), String.valueOf(result.error()));
        assertEquals(List.of("src/a.js:2:a2", "src/b.js:7:b7"),
                result.comments().stream().map(c -> c.path() + ":" + c.line() + ":" + c.message()).toList());
        assertEquals(2, provider.getAllServeEvents().size());
        assertTrue(result.summary().contains("part about a") && result.summary().contains("part about b"), result.summary());
        assertTrue(result.summary().contains("in 2 requests"), result.summary());
    }

    @Test
    void chunkerPacksWholeHunksWithinTheTokenBudgetAndListsWhatDoesNotFit() {
        StringBuilder patch = new StringBuilder();
        for (int h = 0; h < 40; h++) {
            int start = 1 + h * 10;
            patch.append("@@ -").append(start).append(",1 +").append(start).append(",2 @@\n ctx ").append(h).append('\n')
                    .append("+line number ").append(h).append(" of a long file\n");
        }
        var file = dev.aireview.runner.review.UnifiedDiffParser.parsePatch("big.txt", null,
                dev.aireview.runner.review.FileDiff.ChangeType.MODIFIED, patch.toString());
        StringBuilder huge = new StringBuilder("@@ -0,0 +1,300 @@\n");
        for (int i = 1; i <= 300; i++) {
            huge.append("+generated value ").append(i).append('\n');
        }
        var hugeFile = dev.aireview.runner.review.UnifiedDiffParser.parsePatch("huge.txt", null,
                dev.aireview.runner.review.FileDiff.ChangeType.ADDED, huge.toString());
        DiffChunker.Plan plan = new DiffChunker(200, 100, null).split(List.of(file, hugeFile));
        assertTrue(plan.chunks().size() > 3, "split into " + plan.chunks().size());
        StringBuilder all = new StringBuilder();
        for (DiffChunker.Chunk c : plan.chunks()) {
            assertTrue(TokenEstimate.of(c.text()) <= 200 + 10, "part of about " + TokenEstimate.of(c.text()) + " tokens");
            assertTrue(c.text().startsWith("### big.txt (modified)"));
            all.append(c.text());
        }
        for (int h = 0; h < 40; h++) {
            int line = 2 + h * 10;
            assertTrue(all.toString().contains(String.format("%5d |+line number %d of", line, h)), "hunk " + h + " lost or split");
        }
        assertEquals(1, plan.notFitting().size(), plan.notFitting().toString());
        assertTrue(plan.notFitting().get(0).startsWith("`huge.txt` @@ -0,0 +1,300 @@"), plan.notFitting().toString());
        DiffChunker.Plan capped = new DiffChunker(200, 2, null).split(List.of(file));
        assertEquals(2, capped.chunks().size());
        assertTrue(capped.notFitting().get(0).contains("beyond the limit of 2 requests"), capped.notFitting().toString());
    }

    // --- helpers -------------------------------------------------------------------------------------------

    private TaskResult review(ReviewTask task) {
        TaskResult result = engine.review(task, null, progress::add);
        for (String line : progress) {
            assertFalse(line.contains(KEY), "progress line leaks the key: " + line);
        }
        return result;
    }

    private static void assertNoKey(TaskResult result) throws Exception {
        String json = Json.mapper().writeValueAsString(result);
        assertFalse(json.contains(KEY), json);
        assertNotNull(result.status());
    }

    private void stubAnswer(String content) {
        provider.stubFor(post(urlEqualTo(PATH)).willReturn(okJson(completion(content))));
    }

    private static com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder okJson(String body) {
        return aResponse().withStatus(200).withHeader("Content-Type", "application/json").withBody(body);
    }

    private static String completion(String content) {
        ObjectNode root = Json.mapper().createObjectNode();
        root.put("id", "chatcmpl-1").put("object", "chat.completion");
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", 0).put("finish_reason", "stop");
        choice.putObject("message").put("role", "assistant").put("content", content);
        return root.toString();
    }

    private ReviewTask task(String patch, String prompt) throws BadTaskException {
        ObjectNode node = taskNode(prompt);
        node.putArray("files").add(file("src/cart.js", "modified", patch));
        return ReviewTask.fromJson(node);
    }

    private ObjectNode taskNode(String prompt) {
        ObjectNode node = Json.mapper().createObjectNode();
        node.put("id", "task_ai_1");
        node.putObject("repository").put("url", "https://git.example/acme/shop.git").put("fullName", "acme/shop");
        node.put("headSha", "b".repeat(40));
        node.putObject("ai").put("provider", "openai").put("baseUrl", provider.baseUrl() + "/v1/").put("model", "review-model-1")
                .put("apiKey", KEY).put("temperature", 0.1).put("maxTokens", 777);
        node.putArray("rules").add("Flag missing error handling");
        if (prompt != null) {
            node.put("prompt", prompt);
        }
        return node;
    }

    private static JsonNode file(String path, String status, String patch) {
        ObjectNode f = Json.mapper().createObjectNode();
        f.put("path", path).put("status", status).put("patch", patch);
        return f;
    }

    @Test
    void endpointIsBaseUrlPlusChatCompletions() {
        var cfg = new dev.aireview.runner.model.AiConfig("openai", "http://h:1/v1//", "m", null, null, null);
        assertEquals("http://h:1/v1/chat/completions", new ChatClient(cfg, RetryPolicy.DEFAULT, Duration.ofSeconds(1), l -> { }).endpoint().toString());
        var noBase = new dev.aireview.runner.model.AiConfig("openai", null, "m", null, null, null);
        assertEquals(ChatClient.DEFAULT_BASE_URL + "/chat/completions",
                new ChatClient(noBase, RetryPolicy.DEFAULT, Duration.ofSeconds(1), l -> { }).endpoint().toString());
        assertNull(new dev.aireview.runner.model.AiConfig(null, null, "m", null, null, null).apiKey());
    }
}
