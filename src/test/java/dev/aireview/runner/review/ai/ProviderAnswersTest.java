package dev.aireview.runner.review.ai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.Json;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.ReviewComment;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.Severity;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.review.ChangeSet;
import dev.aireview.runner.review.DiffSource;
import dev.aireview.runner.review.Fixtures;
import dev.aireview.runner.review.Progress;
import dev.aireview.runner.review.ReviewEngine;
import dev.aireview.runner.review.config.RepoConfig;
import dev.aireview.runner.review.config.RepoConfigLoader;
import dev.aireview.runner.review.rules.OfflineReviewer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static com.github.tomakehurst.wiremock.client.WireMock.absent;
import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.notContaining;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Recorded answers of real providers, replayed by a stub provider on 127.0.0.1: the response envelopes under
 * {@code review/providers/} follow each provider's documented examples (OpenAI, Azure OpenAI, Ollama, vLLM, LiteLLM,
 * OpenRouter), with the answer shapes models produce (fences, prose, think blocks, line as text, truncation,
 * refusals) and the errors providers send. Every review must end with only valid, in-diff comments of the right
 * severity, token counts and a useful summary, or with a named failure.
 */
class ProviderAnswersTest {

    @RegisterExtension
    static WireMockExtension provider = WireMockExtension.newInstance()
            .options(wireMockConfig().dynamicPort().bindAddress("127.0.0.1")).build();

    private static final String KEY = "sk-prov-4e7a1c9b2d5f8a0c3e6b";
    private static final String PATH = "/v1/chat/completions";
    /** src/cart.js: hunk 1 adds new lines 11, 12 (context 10, 13, 14); hunk 2 adds 32 (context 31, 33, 34). */
    private static final String CART = """
            @@ -10,4 +10,5 @@ function total(cart) {
               let sum = 0;
            +  for (const i of cart.items) sum += i.price;
            +  console.log(sum);
            -  return cart.total;
               return sum;
             }
            @@ -30,3 +31,4 @@ function discount(cart) {
               const d = cart.discount;
            +  if (d > 1) throw new Error("bad discount");
               return d;
             }
            """;
    private static final Set<Integer> ADDED = Set.of(11, 12, 32);
    private static final String GOOD = """
            {"summary": "A loop and a discount check were added; one leftover log.",
             "comments": [
               {"path": "src/cart.js", "line": 11, "endLine": null, "severity": "error", "message": "i.price may be undefined: the sum becomes NaN.", "suggestion": "sum += i.price ?? 0;"},
               {"path": "src/cart.js", "line": 12, "endLine": null, "severity": "warning", "message": "Remove the console.log before merging.", "suggestion": null}
             ]}""";

    private final List<String> progress = new ArrayList<>();

    @Test
    void openAiStructuredOutputWithUsageAndNoiseFilesLeftOut() throws Exception {
        stub(envelope("openai", GOOD, "stop"));
        TaskResult result = review(task(null, null, true));
        assertSound(result, 1200, 150);
        assertEquals(List.of("src/cart.js:11:error", "src/cart.js:12:warning"), keys(result));
        provider.verify(1, postRequestedFor(urlEqualTo(PATH))
                .withHeader("Authorization", equalTo("Bearer " + KEY))
                .withRequestBody(matchingJsonPath("$.response_format.type", equalTo("json_schema")))
                .withRequestBody(matchingJsonPath("$.response_format.json_schema.schema.required[1]", equalTo("comments")))
                .withRequestBody(notContaining("package-lock.json"))
                .withRequestBody(notContaining("app.min.js")));
        assertTrue(result.summary().contains("### Not reviewed by the model"), result.summary());
        assertTrue(result.summary().contains("`package-lock.json` (lock file)"), result.summary());
        assertTrue(result.summary().contains("`dist/app.min.js` (vendored or build output)"), result.summary());
        assertTrue(result.summary().contains("Tokens: 1200 prompt + 150 completion"), result.summary());
        assertTrue(progress.stream().anyMatch(l -> l.contains("part 1/1: 1200 prompt + 150 completion tokens")), progress.toString());
    }

    @Test
    void azureResourceUrlUsesTheDeploymentPathApiVersionAndApiKeyHeader() throws Exception {
        String path = "/openai/deployments/review-deploy/chat/completions?api-version=" + ProviderEndpoint.DEFAULT_AZURE_API_VERSION;
        provider.stubFor(post(urlEqualTo(path)).willReturn(json(envelope("azure", GOOD, "stop"))));
        ObjectNode node = task(null, null, false);
        ((ObjectNode) node.get("ai")).put("provider", "azure").put("baseUrl", provider.baseUrl()).put("model", "review-deploy");
        TaskResult result = review(node);
        assertSound(result, 1100, 90);
        provider.verify(1, postRequestedFor(urlEqualTo(path)).withHeader("api-key", equalTo(KEY)).withHeader("Authorization", absent()));
    }

    @Test
    void azureDeploymentUrlKeepsItsApiVersion() throws Exception {
        String path = "/openai/deployments/gpt4o/chat/completions?api-version=2024-06-01";
        provider.stubFor(post(urlEqualTo(path)).willReturn(json(envelope("azure", GOOD, "stop"))));
        ObjectNode node = task(null, null, false);
        ((ObjectNode) node.get("ai")).put("provider", (String) null).put("baseUrl", provider.baseUrl() + "/openai/deployments/gpt4o/?api-version=2024-06-01");
        assertSound(review(node), 1100, 90);
        provider.verify(1, postRequestedFor(urlEqualTo(path)).withHeader("api-key", equalTo(KEY)));
    }

    @Test
    void ollamaRefusingJsonSchemaFallsBackToJsonObjectAndFencedAnswerWithProseIsRead() throws Exception {
        provider.stubFor(post(urlEqualTo(PATH)).withRequestBody(matchingJsonPath("$.response_format.type", equalTo("json_schema")))
                .willReturn(json(error("openai_response_format_400")).withStatus(400)));
        provider.stubFor(post(urlEqualTo(PATH)).withRequestBody(matchingJsonPath("$.response_format.type", equalTo("json_object")))
                .willReturn(json(envelope("ollama", "Here is my review {as asked}:\n\n```json\n" + GOOD + "\n```\n\nLet me know if you need more.", "stop"))));
        TaskResult result = review(task(null, null, false));
        assertSound(result, 1500, 210);
        assertEquals(2, keys(result).size());
        provider.verify(2, postRequestedFor(urlEqualTo(PATH)));
        assertTrue(progress.stream().anyMatch(l -> l.contains("refuses response_format json_schema; asking with json_object")), progress.toString());
    }

    @Test
    void vllmReasoningModelWithThinkBlockLineAsTextAndNoResponseFormatAtAll() throws Exception {
        provider.stubFor(post(urlEqualTo(PATH)).withRequestBody(matchingJsonPath("$.response_format.type", equalTo("json_schema")))
                .willReturn(json(error("openai_response_format_400")).withStatus(400)));
        provider.stubFor(post(urlEqualTo(PATH)).withRequestBody(matchingJsonPath("$.response_format.type", equalTo("json_object")))
                .willReturn(json(error("vllm_json_object_400")).withStatus(400)));
        String answer = """
                <think>
                The user wants a JSON object like {"summary": ..., "comments": [...]}. Line 12 logs. Line 32 throws.
                </think>
                {"summary": "Leftover log; the discount check is fine.", "comments": [
                  {"file": "src/cart.js", "line": "12", "severity": "high", "body": "console.log leaks cart totals to the browser console."},
                  {"path": "src/cart.js", "line": "L32-33", "severity": "nit", "message": "Use a RangeError for an out-of-range discount."}]}""";
        provider.stubFor(post(urlEqualTo(PATH)).withRequestBody(matchingJsonPath("$.response_format", absent()))
                .willReturn(json(envelope("vllm", answer, "stop"))));
        TaskResult result = review(task(null, null, false));
        assertSound(result, 1300, 400);
        assertEquals(List.of(new ReviewComment("src/cart.js", 12, null, Severity.ERROR, "console.log leaks cart totals to the browser console.", null),
                new ReviewComment("src/cart.js", 32, 33, Severity.INFO, "Use a RangeError for an out-of-range discount.", null)), result.comments());
        provider.verify(3, postRequestedFor(urlEqualTo(PATH)));
    }

    @Test
    void liteLlmRateLimitReportedInA200IsRetried() throws Exception {
        provider.stubFor(post(urlEqualTo(PATH)).inScenario("l").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(json(error("litellm_rate_limit_in_200"))).willSetStateTo("ok"));
        provider.stubFor(post(urlEqualTo(PATH)).inScenario("l").whenScenarioStateIs("ok").willReturn(json(envelope("litellm", GOOD, "stop"))));
        TaskResult result = review(task(null, null, false));
        assertSound(result, 1000, 120);
        provider.verify(2, postRequestedFor(urlEqualTo(PATH)));
        assertTrue(progress.stream().anyMatch(l -> l.contains("with an error: litellm.RateLimitError")), progress.toString());
    }

    @Test
    void openRouterUpstreamErrorIsRetriedAndProseWithBracesAroundTheJsonIsSkipped() throws Exception {
        provider.stubFor(post(urlEqualTo(PATH)).inScenario("o").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(json(error("openrouter_upstream_error_in_200"))).willSetStateTo("ok"));
        provider.stubFor(post(urlEqualTo(PATH)).inScenario("o").whenScenarioStateIs("ok")
                .willReturn(json(envelope("openrouter", "I looked at {the cart} code. " + GOOD + " Hope this helps {:}", "stop"))));
        TaskResult result = review(task(null, null, false));
        assertSound(result, 1400, 160);
        assertEquals(2, result.comments().size());
    }

    @Test
    void openRouterPermanentErrorInA200IsANamedFailure() throws Exception {
        stub(error("openrouter_bad_model_in_200"));
        TaskResult result = review(task(null, null, false));
        assertEquals(ResultStatus.FAILED, result.status());
        assertEquals(ErrorKind.EXECUTOR_FAILED, result.error().kind());
        assertTrue(result.error().message().matches("AI provider [^,]+, part 1/1: the provider returned an error: meta-llama/unknown is not a valid model ID.*"), result.error().message());
        provider.verify(1, postRequestedFor(urlEqualTo(PATH)));
    }

    @Test
    void answerCutOffAtTheTokenLimitSplitsThePartAndAsksAgain() throws Exception {
        provider.stubFor(post(urlEqualTo(PATH)).withRequestBody(containing("+10,5 @@")).withRequestBody(containing("+31,4 @@"))
                .willReturn(json(envelope("openai", "{\"summary\": \"The change adds a loop and", "length"))));
        provider.stubFor(post(urlEqualTo(PATH)).withRequestBody(containing("+10,5 @@")).withRequestBody(notContaining("+31,4 @@"))
                .willReturn(json(envelope("openai", "{\"summary\":\"first half\",\"comments\":[{\"path\":\"src/cart.js\",\"line\":11,"
                        + "\"severity\":\"error\",\"message\":\"NaN when a price is missing.\"}]}", "stop"))));
        provider.stubFor(post(urlEqualTo(PATH)).withRequestBody(notContaining("+10,5 @@")).withRequestBody(containing("+31,4 @@"))
                .willReturn(json(envelope("openai", "{\"summary\":\"second half\",\"comments\":[{\"path\":\"src/cart.js\",\"line\":32,"
                        + "\"severity\":\"warning\",\"message\":\"Discounts of exactly 1 pass.\"}]}", "stop"))));
        TaskResult result = review(task(null, null, false));
        assertSound(result, 3 * 1200, 3 * 150);
        assertEquals(List.of("src/cart.js:11:error", "src/cart.js:32:warning"), keys(result));
        assertTrue(result.summary().contains("first half") && result.summary().contains("second half"), result.summary());
        provider.verify(3, postRequestedFor(urlEqualTo(PATH)));
        assertTrue(progress.stream().anyMatch(l -> l.contains("cut off at the token limit; asking about it in two halves")), progress.toString());
    }

    @Test
    void answerCutOffOnASingleHunkIsANamedFailure() throws Exception {
        stub(envelope("openai", "{\"summary\": \"The change adds", "length"));
        ObjectNode node = task(null, null, false);
        ((ObjectNode) node.get("files").get(0)).put("patch", CART.substring(0, CART.indexOf("@@ -30")));
        TaskResult result = review(node);
        assertEquals(ResultStatus.FAILED, result.status());
        assertTrue(result.error().message().contains("cut off at the token limit (finish_reason \"length\")"), result.error().message());
        assertTrue(result.error().message().contains("raise ai.maxTokens"), result.error().message());
    }

    @Test
    void aPartTheModelDeclinesIsNamedInTheSummaryAndTheRestIsReviewed() throws Exception {
        provider.stubFor(post(urlEqualTo(PATH)).withRequestBody(containing("### src/exploit.js"))
                .willReturn(json(Fixtures.text("providers/openai-refusal.json"))));
        provider.stubFor(post(urlEqualTo(PATH)).withRequestBody(containing("### src/cart.js")).willReturn(json(envelope("openai", GOOD, "stop"))));
        ObjectNode node = task(null, null, false);
        StringBuilder exploit = new StringBuilder("@@ -0,0 +1,20 @@\n");
        for (int i = 1; i <= 20; i++) {
            exploit.append("+const payload").append(i).append(" = build(").append(i).append(");\n");
        }
        ((com.fasterxml.jackson.databind.node.ArrayNode) node.get("files")).add(file("src/exploit.js", "added", exploit.toString()));
        TaskResult result = review(node, 350);
        provider.verify(2, postRequestedFor(urlEqualTo(PATH)));
        assertSound(result, 1200 + 900, 150 + 12);
        assertTrue(result.summary().contains("### Parts the model declined"), result.summary());
        assertTrue(result.summary().contains("src/exploit.js): I'm sorry, I can't assist with that request."), result.summary());
    }

    @Test
    void aRefusalOfTheWholeChangeIsANamedFailure() throws Exception {
        stub(Fixtures.text("providers/openai-refusal.json"));
        TaskResult result = review(task(null, null, false));
        assertEquals(ResultStatus.FAILED, result.status());
        assertTrue(result.error().message().contains("the model declined to review the change"), result.error().message());
    }

    @Test
    void rateLimitWithRetryAfterMsAndAServerErrorAreRetried() throws Exception {
        provider.stubFor(post(urlEqualTo(PATH)).inScenario("r").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(json(error("openai_429")).withStatus(429).withHeader("retry-after-ms", "5").withHeader("Retry-After", "20"))
                .willSetStateTo("busy"));
        provider.stubFor(post(urlEqualTo(PATH)).inScenario("r").whenScenarioStateIs("busy")
                .willReturn(json(error("azure_500")).withStatus(500)).willSetStateTo("ok"));
        provider.stubFor(post(urlEqualTo(PATH)).inScenario("r").whenScenarioStateIs("ok").willReturn(json(envelope("openai", GOOD, "stop"))));
        TaskResult result = review(task(null, null, false));
        assertSound(result, 1200, 150);
        provider.verify(3, postRequestedFor(urlEqualTo(PATH)));
        assertTrue(progress.stream().anyMatch(l -> l.contains("HTTP 429") && l.contains("retrying in 5 ms")), progress.toString());
        assertTrue(progress.stream().anyMatch(l -> l.contains("HTTP 500 (The server had an error")), progress.toString());
    }

    @Test
    void modelRefusingMaxTokensIsAskedWithMaxCompletionTokens() throws Exception {
        provider.stubFor(post(urlEqualTo(PATH)).withRequestBody(matchingJsonPath("$.max_tokens"))
                .willReturn(json(error("openai_max_tokens_400")).withStatus(400)));
        provider.stubFor(post(urlEqualTo(PATH)).withRequestBody(matchingJsonPath("$.max_completion_tokens", equalTo("777")))
                .willReturn(json(envelope("openai", GOOD, "stop"))));
        assertSound(review(task(null, null, false)), 1200, 150);
        provider.verify(2, postRequestedFor(urlEqualTo(PATH)));
    }

    @Test
    void cleanChangeGetsAnExplicitNoFindingsSummary() throws Exception {
        stub(envelope("openai", "{\"summary\": \"The loop and the check look correct.\", \"comments\": []}", "stop"));
        TaskResult result = review(task(null, null, false));
        assertSound(result, 1200, 150);
        assertTrue(result.comments().isEmpty());
        assertTrue(result.summary().contains("**No findings**"), result.summary());
    }

    @Test
    void onlyNoiseFilesMeansNoRequestAndANoFindingsSummary() throws Exception {
        ObjectNode node = task(null, null, true);
        ((com.fasterxml.jackson.databind.node.ArrayNode) node.get("files")).remove(0);
        TaskResult result = review(node);
        assertEquals(ResultStatus.COMPLETED, result.status(), String.valueOf(result.error()));
        assertEquals(0, provider.getAllServeEvents().size());
        assertTrue(result.summary().contains("**No findings**: nothing in this change needed the model"), result.summary());
        assertTrue(result.summary().contains("`package-lock.json` (lock file)"), result.summary());
    }

    @Test
    void repositoryConfigShapesThePromptAndThePostedComments() throws Exception {
        RepoConfigLoader.Loaded loaded = RepoConfigLoader.parse("""
                severity_threshold: warning
                max_comments: 1
                language: German
                instructions:
                  - path: "src/**/*.js"
                    text: "Prices are integers in cents."
                  - path: "docs/**"
                    text: "Not for this change."
                rules:
                  - "No floating point for money"
                languages:
                  "src/**": "ES2022 JavaScript"
                """, "test");
        assertEquals(List.of(), loaded.problems());
        stub(envelope("openai", """
                {"summary": "s", "comments": [
                  {"path": "src/cart.js", "line": 11, "severity": "error", "message": "i.price may be undefined: the sum becomes NaN."},
                  {"path": "src/cart.js", "line": 12, "severity": "error", "message": "i.price may be undefined, the sum becomes NaN!"},
                  {"path": "src/cart.js", "line": 32, "severity": "warning", "message": "Discounts of exactly 1 pass."},
                  {"path": "src/cart.js", "line": 32, "severity": "info", "message": "Style."}]}""", "stop"));
        ReviewTask task = ReviewTask.fromJson(task(null, null, false));
        ChangeSet change = new DiffSource(Progress.none(), null).load(task, null);
        TaskResult result = reviewer(AiReviewer.DEFAULT_DIFF_BUDGET).review(task, change, loaded.config(), p -> null, progress::add);
        assertEquals(List.of("src/cart.js:11:error"), keys(result));
        assertTrue(result.comments().get(0).message().endsWith("(Similar on line 12.)"), result.comments().get(0).message());
        assertTrue(result.summary().contains("1 comment(s) below the repository's severity threshold `warning` not posted"), result.summary());
        assertTrue(result.summary().contains("1 near-duplicate comment(s) merged"), result.summary());
        assertTrue(result.summary().contains("1 further comment(s) not posted (limit 1 per review"), result.summary());
        provider.verify(1, postRequestedFor(urlEqualTo(PATH))
                .withRequestBody(matchingJsonPath("$.messages[0].content", containing("in German")))
                .withRequestBody(matchingJsonPath("$.messages[0].content", containing("- No floating point for money")))
                .withRequestBody(matchingJsonPath("$.messages[1].content", containing("- for src/**/*.js: Prices are integers in cents.")))
                .withRequestBody(matchingJsonPath("$.messages[1].content", containing("### src/cart.js (modified; language: ES2022 JavaScript)")))
                .withRequestBody(matchingJsonPath("$.messages[1].content", notContaining("Not for this change"))));
    }

    @Test
    void theModelSeesContextUpToTheEnclosingFunctionFromTheFileAtHead() throws Exception {
        stub(envelope("openai", GOOD, "stop"));
        List<String> head = new ArrayList<>();
        for (int i = 1; i <= 40; i++) {
            head.add(i == 2 ? "function total(cart) {" : i == 9 ? "  // totals in cents" : "  step" + i + "();");
        }
        ReviewTask task = ReviewTask.fromJson(task(null, null, false));
        ChangeSet change = new DiffSource(Progress.none(), null).load(task, null);
        TaskResult result = reviewer(AiReviewer.DEFAULT_DIFF_BUDGET).review(task, change, RepoConfig.DEFAULTS,
                p -> p.equals("src/cart.js") ? head : null, progress::add);
        assertSound(result, 1200, 150);
        provider.verify(1, postRequestedFor(urlEqualTo(PATH))
                .withRequestBody(matchingJsonPath("$.messages[1].content", containing("    2 | function total(cart) {")))
                .withRequestBody(matchingJsonPath("$.messages[1].content", containing("    9 |   // totals in cents"))));
    }

    // --- helpers -------------------------------------------------------------------------------------------

    /** Completed; only comments on added lines of the diff; tokens as the provider reported; a real summary. */
    @Test
    void anAnswerAfterTheFormatRestatedAndAFencedExampleKeepsItsRealComments() throws Exception {
        String content = "You asked for this format:\n{\"summary\": \"markdown overall assessment (2-6 sentences)\", \"comments\": "
                + "[{\"path\": \"file path as shown\", \"line\": 12, \"severity\": \"warning\", \"message\": \"what is wrong and why\"}]}\n"
                + "For example:\n```json\n{\"summary\": \"Example only\", \"comments\": []}\n```\nMy review:\n```json\n" + GOOD + "\n```";
        stub(envelope("openai", content, "stop"));
        TaskResult result = review(task(null, null, false));
        assertSound(result, 1200, 150);
        assertEquals(List.of("src/cart.js:11:error", "src/cart.js:12:warning"), keys(result));
        assertFalse(result.summary().contains("No findings"), result.summary());
    }

    @Test
    void anEventStreamBodyIsJoinedIntoOneAnswerWithItsUsage() throws Exception {
        StringBuilder sse = new StringBuilder();
        String text = GOOD;
        for (int i = 0; i < text.length(); i += 40) {
            String piece = Json.mapper().writeValueAsString(text.substring(i, Math.min(text.length(), i + 40)));
            sse.append("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":").append(piece).append("}}]}\n\n");
        }
        sse.append("data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":900,\"completion_tokens\":80}}\n\n");
        sse.append("data: [DONE]\n\n");
        provider.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(200).withHeader("Content-Type", "text/event-stream").withBody(sse.toString())));
        TaskResult result = review(task(null, null, false));
        assertSound(result, 900, 80);
        assertEquals(List.of("src/cart.js:11:error", "src/cart.js:12:warning"), keys(result));
    }

    /**
     * An SSE body streaming several tool calls interleaved, as OpenAI streams them: a call's first delta carries its
     * index, id and name, the following ones only the index and a piece of the arguments.
     */
    private static String interleavedToolCalls(List<String> names, List<String> arguments) throws Exception {
        StringBuilder sse = new StringBuilder();
        for (int i = 0; i < names.size(); i++) {
            sse.append("data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"tool_calls\":[{\"index\":").append(i)
                    .append(",\"id\":\"call_").append(i).append("\",\"type\":\"function\",\"function\":{\"name\":\"").append(names.get(i))
                    .append("\",\"arguments\":\"\"}}]}}]}\n\n");
        }
        int longest = arguments.stream().mapToInt(String::length).max().orElse(0);
        for (int at = 0; at < longest; at += 25) {
            for (int i = 0; i < arguments.size(); i++) {
                String a = arguments.get(i);
                if (at < a.length()) {
                    String piece = Json.mapper().writeValueAsString(a.substring(at, Math.min(a.length(), at + 25)));
                    sse.append("data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":").append(i)
                            .append(",\"function\":{\"arguments\":").append(piece).append("}}]}}]}\n\n");
                }
            }
        }
        sse.append("data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":910,\"completion_tokens\":85}}\n\n");
        return sse.append("data: [DONE]\n\n").toString();
    }

    @Test
    void twoReviewCallsStreamedInterleavedAreReadApartAndTheLastValidOneWins() throws Exception {
        String draft = "{\"summary\": \"Draft: nothing found yet.\", \"comments\": []}";
        String sse = interleavedToolCalls(List.of("submit_review", "submit_review"), List.of(draft, GOOD));
        provider.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(200).withHeader("Content-Type", "text/event-stream").withBody(sse)));
        TaskResult result = review(task(null, null, false));
        assertSound(result, 910, 85);
        assertEquals(List.of("src/cart.js:11:error", "src/cart.js:12:warning"), keys(result));
        assertFalse(result.summary().contains("Draft"), result.summary());
    }

    @Test
    void aReviewCallStreamedWithABrokenReviewCallAndAnotherToolsCallIsRead() throws Exception {
        String other = "{\"path\": \"src/cart.js\", \"summary\": \"not a review\", \"comments\": []}";
        String broken = "{\"summary\": \"cut off\", \"comments\": [{\"path\": \"src/cart.js\", \"li";
        String sse = interleavedToolCalls(List.of("submit_review", "submit_review", "read_file"), List.of(GOOD, broken, other));
        provider.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(200).withHeader("Content-Type", "text/event-stream").withBody(sse)));
        TaskResult result = review(task(null, null, false));
        assertSound(result, 910, 85);
        assertEquals(List.of("src/cart.js:11:error", "src/cart.js:12:warning"), keys(result));
    }

    @Test
    void aToolCallAnswerIsRead() throws Exception {
        String body = "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\","
                + "\"function\":{\"name\":\"code_review\",\"arguments\":" + Json.mapper().writeValueAsString(GOOD) + "}}]},\"finish_reason\":\"tool_calls\"}],"
                + "\"usage\":{\"input_tokens\":500,\"output_tokens\":60}}";
        stub(body);
        TaskResult result = review(task(null, null, false));
        assertSound(result, 500, 60);
        assertEquals(2, result.comments().size());
    }

    @Test
    void aToolCallBesideAFewWordsOfContentIsReadByItsCall() throws Exception {
        String body = "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"I will submit my review {now}.\",\"tool_calls\":"
                + "[{\"id\":\"c1\",\"type\":\"function\",\"function\":{\"name\":\"submit_review\",\"arguments\":"
                + Json.mapper().writeValueAsString(GOOD) + "}}]},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":700,\"completion_tokens\":90}}";
        stub(body);
        TaskResult result = review(task(null, null, false));
        assertSound(result, 700, 90);
        assertEquals(List.of("src/cart.js:11:error", "src/cart.js:12:warning"), keys(result));
        provider.verify(1, postRequestedFor(urlEqualTo(PATH)));
    }

    @Test
    void openRouter404ForToolUseIsAskedAgainWithoutTools() throws Exception {
        provider.stubFor(post(urlEqualTo(PATH)).withRequestBody(matchingJsonPath("$.tool_choice.function.name", equalTo("submit_review")))
                .willReturn(json("{\"error\":{\"message\":\"No endpoints found that support tool use. To learn more about provider routing, "
                        + "visit: https://openrouter.ai/docs/provider-routing\",\"code\":404}}").withStatus(404)));
        provider.stubFor(post(urlEqualTo(PATH)).withRequestBody(matchingJsonPath("$.tools", absent()))
                .willReturn(json(envelope("openrouter", GOOD, "stop"))));
        TaskResult result = review(task(null, null, false));
        assertSound(result, 1400, 160);
        provider.verify(2, postRequestedFor(urlEqualTo(PATH)));
        assertTrue(progress.stream().anyMatch(l -> l.contains("HTTP 404 refuses tools (No endpoints found that support tool use")), progress.toString());
    }

    @Test
    void aReasoningOnlyAnswerIsAFailureThatSaysSo() throws Exception {
        stub("{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"\",\"reasoning_content\":\"Let me think about the loop...\"},"
                + "\"finish_reason\":\"length\"}]}");
        TaskResult result = review(task(null, null, false));
        assertEquals(ResultStatus.FAILED, result.status());
        assertTrue(result.error().message().contains("only reasoning_content"), result.error().message());
    }

    @Test
    void aBodyThatIsNotJsonIsNamedByWhatArrived() throws Exception {
        provider.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(200).withHeader("Content-Type", "text/html").withBody("<html>Gateway login</html>")));
        TaskResult result = review(task(null, null, false));
        assertEquals(ResultStatus.FAILED, result.status());
        assertTrue(result.error().message().contains("not JSON (Content-Type text/html, 26 characters, beginning \"<html>Gateway login</html>\")"),
                result.error().message());
    }

    @Test
    void missingFieldsWrongTypesAndLinesOutsideTheDiffAreDroppedOrListedNotPosted() throws Exception {
        String content = "{\"summary\": \"mixed\", \"comments\": ["
                + "{\"path\": \"src/cart.js\", \"line\": \"12\", \"severity\": \"high\", \"message\": \"line as text\"},"
                + "{\"path\": \"src/cart.js\", \"line\": 32.0, \"severity\": 3, \"message\": \"line as float, severity a number\"},"
                + "{\"path\": \"src/cart.js\", \"message\": \"no line\"},"
                + "{\"line\": 11, \"message\": \"no path\"},"
                + "{\"path\": \"src/cart.js\", \"line\": 11, \"message\": [\"not\", \"text\"]},"
                + "{\"path\": \"src/cart.js\", \"line\": 500, \"severity\": \"warning\", \"message\": \"far outside\"},"
                + "{\"path\": \"src/other.js\", \"line\": 11, \"severity\": \"warning\", \"message\": \"a file not in the change\"},"
                + "\"just a string\"]}";
        stub(envelope("openai", content, "stop"));
        TaskResult result = review(task(null, null, false));
        assertSound(result, 1200, 150);
        assertEquals(List.of("src/cart.js:12:error", "src/cart.js:32:info"), keys(result));
        assertTrue(result.summary().contains("### Comments outside the diff"), result.summary());
        assertTrue(result.summary().contains("`src/cart.js:500`") && result.summary().contains("`src/other.js:11`"), result.summary());
        assertTrue(result.summary().contains("4 invalid comment(s) dropped"), result.summary());
    }

    @Test
    void aPartTheProviderCannotAnswerLeavesAPartialReviewOfTheOthers() throws Exception {
        provider.stubFor(post(anyUrl()).inScenario("p").whenScenarioStateIs(com.github.tomakehurst.wiremock.stubbing.Scenario.STARTED)
                .willReturn(json(envelope("openai", GOOD, "stop"))).willSetStateTo("down"));
        provider.stubFor(post(anyUrl()).inScenario("p").whenScenarioStateIs("down").willReturn(aResponse().withStatus(503)));
        ObjectNode node = task(null, null, false);
        ((com.fasterxml.jackson.databind.node.ArrayNode) node.get("files")).add(file("src/other.js", "added", "@@ -0,0 +1,2 @@\n+const a = 1;\n+export default a;\n"));
        TaskResult result = review(node, 175);
        assertEquals(ResultStatus.COMPLETED, result.status(), String.valueOf(result.error()));
        assertEquals(Boolean.TRUE, result.stats().partial(), result.summary());
        assertEquals(1, result.stats().filesNotReviewed());
        assertEquals(List.of("src/cart.js:11:error", "src/cart.js:12:warning"), keys(result));
        assertTrue(result.summary().contains("**Partial review**: 1 of 2 file(s)"), result.summary());
        assertTrue(result.summary().contains("### Parts not reviewed") && result.summary().contains("src/other.js")
                && result.summary().contains("unavailable after 3 attempts: HTTP 503"), result.summary());
    }

    private void assertSound(TaskResult result, long prompt, long completion) throws Exception {
        assertEquals(ResultStatus.COMPLETED, result.status(), String.valueOf(result.error()));
        for (ReviewComment c : result.comments()) {
            assertEquals("src/cart.js", c.path(), c.toString());
            assertTrue(ADDED.contains(c.line()), "comment off the diff: " + c);
            assertFalse(c.message().isBlank());
        }
        assertEquals(prompt, result.stats().promptTokens());
        assertEquals(completion, result.stats().completionTokens());
        assertTrue(result.summary().startsWith("## AI review\n\n"), result.summary());
        assertTrue(result.summary().contains("Reviewed "), result.summary());
        String json = Json.mapper().writeValueAsString(result);
        assertFalse(json.contains(KEY), json);
        progress.forEach(l -> assertFalse(l.contains(KEY), l));
    }

    private TaskResult review(ObjectNode node) throws Exception {
        return review(node, AiReviewer.DEFAULT_DIFF_BUDGET);
    }

    private TaskResult review(ObjectNode node, int budget) throws Exception {
        return new ReviewEngine(new OfflineReviewer(), reviewer(budget)).review(ReviewTask.fromJson(node), null, progress::add);
    }

    private static AiReviewer reviewer(int budget) {
        return new AiReviewer(budget, 8, new RetryPolicy(3, Duration.ofMillis(5), Duration.ofMillis(100)), Duration.ofSeconds(20));
    }

    private ObjectNode task(String baseUrl, String providerName, boolean withNoise) {
        ObjectNode node = Json.mapper().createObjectNode();
        node.put("id", "task_prov_1");
        node.putObject("repository").put("url", "https://git.example/acme/shop.git").put("fullName", "acme/shop");
        node.put("headSha", "c".repeat(40));
        node.putObject("ai").put("provider", providerName == null ? "openai" : providerName)
                .put("baseUrl", baseUrl == null ? provider.baseUrl() + "/v1" : baseUrl).put("model", "review-model")
                .put("apiKey", KEY).put("maxTokens", 777);
        var files = node.putArray("files");
        files.add(file("src/cart.js", "modified", CART));
        if (withNoise) {
            files.add(file("package-lock.json", "modified", "@@ -1,1 +1,1 @@\n-  \"version\": \"1.0.0\",\n+  \"version\": \"1.0.1\",\n"));
            files.add(file("dist/app.min.js", "added", "@@ -0,0 +1,1 @@\n+!function(){console.log(1)}();\n"));
        }
        return node;
    }

    private static JsonNode file(String path, String status, String patch) {
        ObjectNode f = Json.mapper().createObjectNode();
        f.put("path", path).put("status", status).put("patch", patch);
        return f;
    }

    private static void stub(String body) {
        provider.stubFor(post(anyUrl()).willReturn(json(body)));
    }

    private static com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder json(String body) {
        return aResponse().withStatus(200).withHeader("Content-Type", "application/json").withBody(body);
    }

    /** A recorded response envelope with this answer content and finish reason. */
    private static String envelope(String name, String content, String finish) throws Exception {
        String text = Json.mapper().writeValueAsString(content);
        return Fixtures.text("providers/" + name + ".json").replace("\"__CONTENT__\"", text).replace("__FINISH__", finish);
    }

    private static String error(String name) throws Exception {
        return Json.mapper().readTree(Fixtures.text("providers/errors.json")).get(name).toString();
    }

    private static List<String> keys(TaskResult r) {
        return r.comments().stream().map(c -> c.path() + ":" + c.line() + ":" + c.severity().wire()).toList();
    }
}
