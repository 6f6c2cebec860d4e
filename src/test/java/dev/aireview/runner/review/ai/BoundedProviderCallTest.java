package dev.aireview.runner.review.ai;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import dev.aireview.runner.model.AiConfig;
import dev.aireview.runner.review.ReviewFailedException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.GZIPOutputStream;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.absent;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Provider calls end within their bounds whatever the provider does: a stall before the headers, a body that trickles
 * or never ends, a gzip bomb, the review's time budget; the one retry policy (429/5xx retried, other 4xx, a body over
 * its cap and a used-up budget not); every failure names the provider, the call and the bound.
 */
class BoundedProviderCallTest {

    @RegisterExtension
    static WireMockExtension wm = WireMockExtension.newInstance().options(wireMockConfig().dynamicPort()).build();

    private static final String OK = "{\"choices\":[{\"message\":{\"content\":\"{\\\"summary\\\":\\\"ok\\\",\\\"comments\\\":[]}\"},"
            + "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3}}";
    private final List<String> progress = new CopyOnWriteArrayList<>();
    private RawServer raw;

    @AfterEach
    void stopRaw() throws Exception {
        if (raw != null) {
            raw.close();
        }
    }

    private ChatClient client(String baseUrl, int attempts, Duration timeout, Budget budget, int cap) {
        AiConfig cfg = new AiConfig("openai", baseUrl, "m", "sk-bounded-test-key-0001", null, null);
        return new ChatClient(cfg, new RetryPolicy(attempts, Duration.ofMillis(5), Duration.ofMillis(50)), timeout, progress::add, budget, cap);
    }

    @Test
    void aBodyThatTricklesEndsAtTheWholeCallDeadlineNotAtTheHeaders() throws Exception {
        raw = new RawServer(out -> {
            out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            for (int i = 0; i < 100_000; i++) {
                out.write(' ');
                out.flush();
                Thread.sleep(20); // the provider's pace, not the test's
            }
        });
        long start = System.nanoTime();
        ProviderCallException e = assertThrows(ProviderCallException.class,
                () -> client(raw.url(), 2, Duration.ofMillis(800), Budget.NONE, 1 << 20).complete("s", "u", "part 1/1"));
        long ms = Duration.ofNanos(System.nanoTime() - start).toMillis();
        assertTrue(ms < 15_000, "ended after " + ms + " ms");
        assertTrue(e.getMessage().startsWith("AI provider 127.0.0.1, part 1/1: unavailable after 2 attempts: no complete answer within 800 ms"
                + " (whole-call deadline, headers and body"), e.getMessage());
        assertTrue(e.getMessage().contains("bytes of the body had arrived"), e.getMessage());
        assertEquals(2, raw.connections.get(), "a missed deadline is retried once more, within the attempts");
    }

    @Test
    void aStallBeforeTheHeadersEndsAtTheDeadline() throws Exception {
        raw = new RawServer(out -> Thread.sleep(60_000));
        ProviderCallException e = assertThrows(ProviderCallException.class,
                () -> client(raw.url(), 1, Duration.ofMillis(500), Budget.NONE, 1 << 20).complete("s", "u", "part 2/3"));
        assertTrue(e.getMessage().contains("part 2/3") && e.getMessage().contains("no complete answer within 500 ms"), e.getMessage());
    }

    @Test
    void anEndlessBodyIsCutAtTheCapAndNotRetried() throws Exception {
        raw = new RawServer(out -> {
            out.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            byte[] chunk = new byte[8192];
            java.util.Arrays.fill(chunk, (byte) 'x');
            while (true) {
                out.write(chunk);
            }
        });
        ProviderCallException e = assertThrows(ProviderCallException.class,
                () -> client(raw.url(), 5, Duration.ofSeconds(30), Budget.NONE, 256 * 1024).complete("s", "u", "part 1/1"));
        assertEquals("AI provider 127.0.0.1, part 1/1: the answer body is larger than the 262144-byte cap", e.getMessage());
        assertEquals(1, raw.connections.get(), "a body over its cap is not asked for again");
    }

    @Test
    void theReviewsTimeBudgetBoundsEveryAttemptAndRetry() throws Exception {
        raw = new RawServer(out -> Thread.sleep(60_000));
        long start = System.nanoTime();
        ProviderCallException e = assertThrows(ProviderCallException.class,
                () -> client(raw.url(), 5, Duration.ofSeconds(180), Budget.of(Duration.ofMillis(2500)), 1 << 20).complete("s", "u", "part 1/1"));
        long ms = Duration.ofNanos(System.nanoTime() - start).toMillis();
        assertTrue(ms < 10_000, "a 180 s request timeout is cut to the 2.5 s budget; ended after " + ms + " ms");
        assertTrue(e.getMessage().contains("time budget") || e.getMessage().contains("no time left in the review's budget"), e.getMessage());
    }

    @Test
    void theFallbackWithoutToolsFitsTheSameBudget() throws Exception {
        // a slow refusal of tools, then a slow answer: the re-ask without tools gets only what is left of the budget
        wm.stubFor(post(urlEqualTo("/v1/chat/completions")).withRequestBody(matchingJsonPath("$.tools"))
                .willReturn(aResponse().withStatus(400).withHeader("Content-Type", "application/json").withFixedDelay(1000)
                        .withBody("{\"error\":{\"message\":\"this model does not support tools\"}}")));
        wm.stubFor(post(urlEqualTo("/v1/chat/completions")).withRequestBody(matchingJsonPath("$.tools", absent()))
                .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/json").withFixedDelay(15000).withBody(OK)));
        long start = System.nanoTime();
        ProviderCallException e = assertThrows(ProviderCallException.class,
                () -> client(wm.baseUrl() + "/v1", 5, Duration.ofSeconds(180), Budget.of(Duration.ofMillis(5000)), 1 << 20).complete("s", "u", "part 1/1"));
        long ms = Duration.ofNanos(System.nanoTime() - start).toMillis();
        assertTrue(ms < 7_000, "the re-ask without tools is cut to what is left of the 5 s budget; ended after " + ms + " ms");
        assertTrue(e.getMessage().contains("time budget") || e.getMessage().contains("no time left in the review's budget"), e.getMessage());
        wm.verify(1, postRequestedFor(urlEqualTo("/v1/chat/completions")).withRequestBody(matchingJsonPath("$.tools")));
        // the re-ask was sent and cut at the rest of the budget (WireMock records it only once its delay is over)
        assertTrue(progress.stream().anyMatch(l -> l.contains("HTTP 400 refuses tools")), progress.toString());
        assertTrue(e.getMessage().contains("no complete answer within ") || e.getMessage().contains("timed out"), e.getMessage());
    }

    @Test
    void aBudgetFromTheTasksLimitKeepsAReserve() throws Exception {
        var node = dev.aireview.runner.model.Json.mapper().createObjectNode();
        node.put("id", "t").put("headSha", "a".repeat(40)).put("timeoutSeconds", 300);
        node.putObject("repository").put("url", "https://git.example/a/b.git");
        Budget b = Budget.forTask(dev.aireview.runner.model.ReviewTask.fromJson(node));
        assertTrue(b.remaining().compareTo(Duration.ofSeconds(240)) <= 0 && b.remaining().compareTo(Duration.ofSeconds(230)) > 0, b.describe());
        assertEquals("240 s of the task's 300 s limit", b.describe());
    }

    @Test
    void rateLimitsAndServerErrorsAreRetriedOtherClientErrorsAreNot() throws Exception {
        wm.stubFor(post(urlEqualTo("/v1/chat/completions")).inScenario("r").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(aResponse().withStatus(429).withHeader("Retry-After", "0")).willSetStateTo("b"));
        wm.stubFor(post(urlEqualTo("/v1/chat/completions")).inScenario("r").whenScenarioStateIs("b")
                .willReturn(aResponse().withStatus(503)).willSetStateTo("c"));
        wm.stubFor(post(urlEqualTo("/v1/chat/completions")).inScenario("r").whenScenarioStateIs("c")
                .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/json").withBody(OK)));
        Completion c = client(wm.baseUrl() + "/v1", 3, Duration.ofSeconds(10), Budget.NONE, 1 << 20).complete("s", "u", "part 1/1");
        assertEquals(7, c.promptTokens());
        wm.verify(3, postRequestedFor(urlEqualTo("/v1/chat/completions")));

        wm.resetAll();
        wm.stubFor(post(urlEqualTo("/v1/chat/completions")).willReturn(aResponse().withStatus(401).withBody("{\"error\":{\"message\":\"bad key\"}}")));
        ProviderCallException e = assertThrows(ProviderCallException.class,
                () -> client(wm.baseUrl() + "/v1", 5, Duration.ofSeconds(10), Budget.NONE, 1 << 20).complete("s", "u", "part 1/1"));
        assertTrue(e.getMessage().endsWith("part 1/1: the provider refused the request: HTTP 401 (bad key)"), e.getMessage());
        wm.verify(1, postRequestedFor(urlEqualTo("/v1/chat/completions")));
    }

    @Test
    void aGzipBodyIsReadAndAGzipBombIsCut() throws Exception {
        wm.stubFor(post(urlEqualTo("/v1/chat/completions")).willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "application/json").withHeader("Content-Encoding", "gzip").withBody(gzip(OK.getBytes(StandardCharsets.UTF_8)))));
        assertEquals(3, client(wm.baseUrl() + "/v1", 1, Duration.ofSeconds(10), Budget.NONE, 1 << 20).complete("s", "u", "p").completionTokens());

        wm.resetAll();
        wm.stubFor(post(urlEqualTo("/v1/chat/completions")).willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "application/json").withHeader("Content-Encoding", "gzip").withBody(gzip(new byte[4 << 20]))));
        ProviderCallException e = assertThrows(ProviderCallException.class,
                () -> client(wm.baseUrl() + "/v1", 3, Duration.ofSeconds(10), Budget.NONE, 1 << 20).complete("s", "u", "p"));
        assertTrue(e.getMessage().contains("inflates to more than the 1048576-byte cap"), e.getMessage());
        wm.verify(1, postRequestedFor(urlEqualTo("/v1/chat/completions")));
    }

    @Test
    void theKeyNeverAppearsInAFailure() {
        ReviewFailedException e = assertThrows(ReviewFailedException.class, () -> client("http://127.0.0.1:1/v1", 1, Duration.ofSeconds(2),
                Budget.NONE, 1 << 20).complete("s", "u", "part 1/1"));
        assertInstanceOf(ProviderCallException.class, e);
        assertTrue(!e.getMessage().contains("sk-bounded-test-key-0001") && e.getMessage().contains("127.0.0.1"), e.getMessage());
    }

    private static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(bytes)) {
            out.write(data);
        }
        return bytes.toByteArray();
    }

    /** A loopback HTTP server whose every answer is written by hand, byte by byte if need be. */
    private static final class RawServer implements AutoCloseable {
        interface Behaviour {
            void answer(OutputStream out) throws Exception;
        }

        final AtomicInteger connections = new AtomicInteger();
        private final ServerSocket socket;
        private final List<Socket> open = new CopyOnWriteArrayList<>();
        private final List<Thread> threads = new ArrayList<>();

        RawServer(Behaviour behaviour) throws IOException {
            socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread accept = new Thread(() -> {
                while (!socket.isClosed()) {
                    try {
                        Socket s = socket.accept();
                        connections.incrementAndGet();
                        open.add(s);
                        Thread t = new Thread(() -> {
                            try (s) {
                                readHeadersAndBody(s.getInputStream());
                                behaviour.answer(s.getOutputStream());
                            } catch (Exception ignored) {
                                // the client hung up: what the test is about
                            }
                        }, "raw-provider-conn");
                        t.setDaemon(true);
                        t.start();
                    } catch (IOException e) {
                        return;
                    }
                }
            }, "raw-provider");
            accept.setDaemon(true);
            accept.start();
            threads.add(accept);
        }

        String url() {
            return "http://127.0.0.1:" + socket.getLocalPort() + "/v1";
        }

        private static void readHeadersAndBody(InputStream in) throws IOException {
            StringBuilder head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) {
                int c = in.read();
                if (c < 0) {
                    return;
                }
                head.append((char) c);
            }
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(head);
            if (m.find()) {
                in.readNBytes(Integer.parseInt(m.group(1)));
            }
        }

        @Override
        public void close() throws Exception {
            socket.close();
            for (Socket s : open) {
                s.close();
            }
            for (Thread t : threads) {
                t.join(5000);
            }
        }
    }
}
