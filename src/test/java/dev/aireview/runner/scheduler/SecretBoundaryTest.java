package dev.aireview.runner.scheduler;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import dev.aireview.runner.execution.TaskContext;
import dev.aireview.runner.execution.TaskExecutor;
import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.LogStream;
import dev.aireview.runner.model.ReviewComment;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.Severity;
import dev.aireview.runner.model.TaskError;
import dev.aireview.runner.model.TaskPhase;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.model.TaskStats;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.observability.RunnerMetrics;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 13: credentials in repository URLs that java.net.URI cannot parse (a raw '@' in the password, '_' in the
 * host, %-encoding), a clone token and an AI key, echoed by an executor in every form and every field, reach neither
 * the server (WireMock records every request) nor the runner's own log (as the configured encoder prints it).
 */
class SecretBoundaryTest {
    private static final String RAW_AT_PASSWORD = "Pa55@w0rd!Xy";
    private static final String URL_RAW_AT = "https://deploy:" + RAW_AT_PASSWORD + "@git_host.internal:8443/acme/shop.git";
    private static final String ENCODED_PASSWORD = "t0k%2Fen%40Zz9";
    private static final String DECODED_PASSWORD = "t0k/en@Zz9";
    private static final String URL_ENCODED = "https://ci:" + ENCODED_PASSWORD + "@my_git.example/x.git";
    private static final String CLONE_TOKEN = "ghs_CloneTok3n_abcdef";
    private static final String AI_KEY = "sk-ai-Key-0987654321";
    private static final String SHA = "0123456789abcdef0123456789abcdef01234567";

    private static final List<String> FORBIDDEN = List.of(RAW_AT_PASSWORD, "deploy:" + RAW_AT_PASSWORD, ENCODED_PASSWORD,
            DECODED_PASSWORD, CLONE_TOKEN, AI_KEY, SchedulerTest.TOKEN,
            URLEncoder.encode(RAW_AT_PASSWORD, StandardCharsets.UTF_8), URLEncoder.encode(CLONE_TOKEN + "/", StandardCharsets.UTF_8),
            b64core("x-access-token:" + CLONE_TOKEN), b64core("deploy:" + RAW_AT_PASSWORD), b64core(AI_KEY),
            // parts of a secret cut at a boundary
            RAW_AT_PASSWORD.substring(0, 6), RAW_AT_PASSWORD.substring(6), CLONE_TOKEN.substring(0, 10), CLONE_TOKEN.substring(10));

    private WireMockServer wm;
    private RunnerDaemon daemon;
    private final List<String> logLines = Collections.synchronizedList(new ArrayList<>());
    private AppenderBase<ILoggingEvent> capture;

    /** The part of a base64 text that depends on {@code s} alone (s at offset 0), minus the last group. */
    private static String b64core(String s) {
        String enc = Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
        return enc.substring(0, enc.length() - 4);
    }

    private static String task(String id, String url) {
        return """
                {"id":"%s","repository":{"url":"%s","cloneToken":"%s"},"headSha":"%s",
                 "ai":{"provider":"openai","model":"m","apiKey":"%s"}}""".formatted(id, url, CLONE_TOKEN, SHA, AI_KEY);
    }

    /** Echoes every secret of the task in every form into phases, logs (also past the 16 KiB cut) and the result. */
    private static final class LeakyExecutor implements TaskExecutor {
        @Override
        public TaskResult execute(ReviewTask task, TaskContext ctx) {
            String url = task.repository().url();
            // each task leaks only its own URL's password: the two tasks may run one after the other, and a task's
            // secrets are masked while it runs (another task's are not known to it)
            String user = url.equals(URL_RAW_AT) ? "deploy" : "ci";
            String password = url.equals(URL_RAW_AT) ? RAW_AT_PASSWORD : DECODED_PASSWORD;
            String basic = "Authorization: Basic " + Base64.getEncoder().encodeToString(("x-access-token:" + CLONE_TOKEN).getBytes(StandardCharsets.UTF_8));
            String userBasic = "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
            ctx.phase(TaskPhase.CLONING, "cloning " + url);
            org.slf4j.LoggerFactory.getLogger("leaky").info("executor saw {} and key {} token {}", url, AI_KEY, CLONE_TOKEN);
            for (String line : List.of(url, basic, userBasic, "key=" + AI_KEY,
                    "enc " + URLEncoder.encode(password, StandardCharsets.UTF_8) + " " + URLEncoder.encode(CLONE_TOKEN + "/", StandardCharsets.UTF_8),
                    "x".repeat(16 * 1024) + CLONE_TOKEN, "y".repeat(16 * 1024 - 8) + password + password)) {
                ctx.log(LogStream.STDOUT, line);
            }
            if (task.id().startsWith("fail")) {
                return new TaskResult(ResultStatus.FAILED, null, List.of(),
                        new TaskError(ErrorKind.CLONE_FAILED, "fatal: could not read from " + url + " token " + CLONE_TOKEN), TaskStats.EMPTY);
            }
            return TaskResult.completed("reviewed " + url + " with " + AI_KEY,
                    List.of(new ReviewComment("a.ts", 1, null, Severity.WARNING, "leaks " + password, userBasic)), TaskStats.EMPTY);
        }
    }

    @AfterEach
    void tearDown() throws Exception {
        if (daemon != null) {
            daemon.stopNow();
            assertTrue(daemon.awaitTermination(Duration.ofSeconds(20)));
        }
        if (capture != null) {
            ((LoggerContext) LoggerFactory.getILoggerFactory()).getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).detachAppender(capture);
        }
        if (wm != null) {
            wm.stop();
        }
    }

    @SuppressWarnings("unchecked")
    private void captureRunnerLog() {
        LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
        ch.qos.logback.classic.Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        Encoder<ILoggingEvent> encoder = ((ConsoleAppender<ILoggingEvent>) root.getAppender("STDOUT")).getEncoder();
        capture = new AppenderBase<>() {
            @Override
            protected void append(ILoggingEvent event) {
                logLines.add(new String(encoder.encode(event), StandardCharsets.UTF_8));
            }
        };
        capture.setContext(ctx);
        capture.start();
        root.addAppender(capture);
    }

    @Test
    void shouldKeepUrlCredentialsTokensAndKeysOutOfEverythingSentAndLogged() {
        captureRunnerLog();
        wm = SchedulerTest.startWireMock("srv-m");
        wm.stubFor(post(urlPathMatching("/api/runners/tasks/[^/]+/(status|logs|result)")).willReturn(okJson("{\"data\":{}}")));
        wm.stubFor(get(urlPathEqualTo("/api/runners/tasks/pending")).inScenario("p").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(okJson("{\"data\":[" + task("ok-raw-at", URL_RAW_AT) + "," + task("fail-encoded", URL_ENCODED) + "]}"))
                .willSetStateTo("served"));
        wm.stubFor(get(urlPathEqualTo("/api/runners/tasks/pending")).inScenario("p").whenScenarioStateIs("served")
                .willReturn(aResponse().withStatus(204)));
        daemon = SchedulerTest.httpDaemon(SchedulerTest.wireMockConfig(wm.baseUrl(), "mask-test", 2, Map.of()),
                new LeakyExecutor(), SchedulerTest.settings(), RunnerMetrics.NOOP);
        try {
            daemon.start();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        for (String id : List.of("ok-raw-at", "fail-encoded")) {
            await().atMost(Duration.ofSeconds(20)).until(() ->
                    !wm.findAll(postRequestedFor(urlEqualTo("/api/runners/tasks/" + id + "/result"))).isEmpty());
        }

        List<String> bodies = wm.getAllServeEvents().stream()
                .filter(e -> e.getRequest().getUrl().matches("/api/runners/(tasks/[^/]+/(status|logs|result)|[^/]+/heartbeat|register)"))
                .map(e -> e.getRequest().getBodyAsString()).toList();
        // a raw '@' in the password: git and the runner would split the user-info differently, so it is refused as
        // bad_task, naming the fix and none of the credentials (the FORBIDDEN check below covers every part of it)
        assertTrue(bodies.stream().anyMatch(b -> b.contains("\"kind\":\"bad_task\"") && b.contains("bad task ok-raw-at")
                && b.contains("write it as %40")), "the raw-@ task is refused by its id: " + bodies);
        assertTrue(bodies.stream().anyMatch(b -> b.contains("cloning https://****@my_git.example/x.git")
                        || b.contains("cloning https://ci:****@my_git.example/x.git")),
                "the status arrived, masked: " + bodies);
        assertTrue(bodies.stream().anyMatch(b -> b.contains("\"x".concat("x".repeat(100)))), "the long log line arrived");
        assertTrue(bodies.stream().anyMatch(b -> b.contains("clone_failed")), "the failure arrived");
        for (String body : bodies) {
            for (String secret : FORBIDDEN) {
                assertFalse(body.contains(secret), "sent to the server: '" + secret + "' in " + body);
            }
        }
        List<String> log = List.copyOf(logLines);
        assertTrue(log.stream().anyMatch(l -> l.contains("executor saw")), "the runner log was captured: " + log);
        for (String line : log) {
            for (String secret : FORBIDDEN) {
                assertFalse(line.contains(secret), "in the runner log: '" + secret + "' in " + line);
            }
        }
    }
}
