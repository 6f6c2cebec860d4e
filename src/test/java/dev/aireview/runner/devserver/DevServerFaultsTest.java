package dev.aireview.runner.devserver;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Fault injection of the dev server, each mode against a started server with a plain HTTP client: errors and 429s
 * (not processed), stalled bodies (headers first, the call processed only when the stall ends), both kinds of
 * outage, duplicate and bundled (colliding) ids in a poll answer, an oversized task; and the records that prove
 * exactly-once: attempts, executions per attempt, {@code runner_shutdown} re-queues.
 */
class DevServerFaultsTest {
    private static final String TOKEN = "faults-token-0123456789";
    private static final String SHA = "0123456789abcdef0123456789abcdef01234567";

    private DevServer server;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop();
        }
    }

    private Api start(DevServerOptions.Builder options) throws Exception {
        server = DevServer.start(options.build());
        return new Api(server.baseUrl(), TOKEN);
    }

    private Api start() throws Exception {
        return start(DevServerOptions.builder(TOKEN).heartbeatTimeout(Duration.ofMinutes(5)));
    }

    private String enqueue(String id) {
        NewTask.Builder b = NewTask.forRepository("https://git.example/acme/shop.git").headSha(SHA);
        if (id != null) {
            b.id(id);
        }
        return server.enqueue(b.build());
    }

    private static List<String> ids(Api.Reply poll) {
        List<String> out = new java.util.ArrayList<>();
        poll.data().forEach(t -> out.add(t.get("id").asText()));
        return out;
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(server.baseUrl() + path)).timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + TOKEN);
    }

    @Test
    void shouldAnswerInjectedServerErrorsWithoutProcessingTheCall() throws Exception {
        Api api = start();
        api.register("r1", 2);
        String id = enqueue(null);
        Api.Reply added = api.post("/api/admin/faults", "{\"call\":\"poll\",\"mode\":\"error\",\"status\":502,\"count\":2}");
        assertEquals(201, added.status(), added.toString());
        assertEquals(2, added.data().get("remaining").asInt());

        for (int i = 0; i < 2; i++) {
            Api.Reply r = api.poll("r1", 2, 0);
            assertEquals(502, r.status(), r.toString());
            assertEquals(502, r.json().get("error").get("status").asInt());
        }
        assertEquals(0, server.task(id).claimCount(), "an answered fault claims nothing");
        assertEquals(List.of(id), ids(api.poll("r1", 2, 0)), "the third poll is served");
        assertEquals(1, server.task(id).claimCount());

        JsonNode faults = api.get("/api/admin/faults").data();
        assertEquals(2, faults.get("injected").get("poll:error").asInt());
        assertEquals(0, faults.get("rules").get(0).get("remaining").asInt());
        assertEquals(2, faults.get("rules").get(0).get("applied").asInt());
    }

    @Test
    void shouldAnswerRateLimitsWithRetryAfterAndNotRecordTheHeartbeat() throws Exception {
        Api api = start();
        api.register("r1", 2);
        server.injectFault(Fault.rateLimit("heartbeat", 7, 1));

        HttpResponse<String> r = http.send(request("/api/runners/r1/heartbeat").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"status\":\"online\",\"activeJobs\":0}")).build(),
                HttpResponse.BodyHandlers.ofString());

        assertEquals(429, r.statusCode(), r.body());
        assertEquals("7", r.headers().firstValue("Retry-After").orElse(null));
        assertEquals(0, server.runner("r1").orElseThrow().heartbeats(), "the limited heartbeat was not processed");
        assertEquals(200, api.heartbeat("r1", "online").status());
        assertEquals(1, server.runner("r1").orElseThrow().heartbeats());
        assertEquals(1, server.injectedFaults().get("heartbeat:rate_limit"));
    }

    @Test
    void shouldSendHeadersThenStallTheBodyForTheGivenTimeAndProcessTheCallAfterwards() throws Exception {
        Api api = start();
        api.register("r1", 2);
        String id = enqueue(null);
        assertEquals(List.of(id), ids(api.poll("r1", 1, 0)));
        long stallMs = 1500;
        server.injectFault(Fault.stall("result", Duration.ofMillis(stallMs), 1));

        HttpResponse<InputStream> r = http.send(request("/api/runners/tasks/" + id + "/result").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"runnerId\":\"r1\",\"status\":\"completed\",\"summary\":\"ok\"}")).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        long headersAt = System.nanoTime();
        assertEquals(200, r.statusCode(), "headers arrive at once");
        String body;
        try (InputStream in = r.body()) {
            body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        long bodyMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - headersAt);

        assertTrue(bodyMs >= stallMs - 100, "the body came " + bodyMs + " ms after the headers");
        assertTrue(body.contains("\"status\":\"completed\""), body);
        assertEquals("completed", server.task(id).resultStatus(), "the call was processed after the stall");
        assertEquals(1, server.injectedFaults().get("result:stall"));
        Api.Reply next = api.result(id, "r1", "completed");
        assertEquals(200, next.status(), "the next call of the kind is answered normally: " + next);
        assertTrue(next.data().get("duplicate").asBoolean());
    }

    @Test
    void shouldStallABodyUntilReleasedWithoutProcessingTheCallMeanwhile() throws Exception {
        Api api = start();
        api.register("r1", 2);
        String id = enqueue(null);
        assertEquals(List.of(id), ids(api.poll("r1", 1, 0)));
        server.injectFault(Fault.stall("status", null, 1));

        HttpResponse<InputStream> r = http.send(request("/api/runners/tasks/" + id + "/status").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"runnerId\":\"r1\",\"status\":\"reviewing\",\"at\":\"2026-01-01T00:00:00Z\"}")).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, r.statusCode());
        CompletableFuture<String> body = CompletableFuture.supplyAsync(() -> {
            try (InputStream in = r.body()) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        assertThrows(TimeoutException.class, () -> body.get(1, TimeUnit.SECONDS), "no body while stalled");
        assertEquals("claimed", server.task(id).phase(), "a stalled call is not processed");

        assertEquals(200, api.status(id, "r1", "cloning").status(), "other calls go on meanwhile");

        server.clearFaults();

        String released = body.get(30, TimeUnit.SECONDS);
        assertTrue(released.contains("reviewing"), released);
        assertEquals("reviewing", server.task(id).phase(), "released: processed now");
        assertEquals(1, server.task(id).attempts().get(0).executions());
    }

    @Test
    void shouldRefuseConnectionsDuringAnOutageAndServeAgainAfterIt() throws Exception {
        Api api = start(DevServerOptions.builder(TOKEN).heartbeatTimeout(Duration.ofMillis(500)));
        api.register("r1", 2);
        Api.Reply r = api.post("/api/admin/faults", "{\"mode\":\"outage\",\"kind\":\"refused\",\"durationMs\":2000}");
        assertEquals(201, r.status(), r.toString());

        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(() -> refused(api));
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).ignoreExceptions()
                .until(() -> api.get("/api/health").status() == 200);

        assertEquals(1, server.injectedFaults().get("outage:refused"));
        assertTrue(server.runner("r1").orElseThrow().online(), "no runner timed out during the outage");
        assertEquals(200, api.heartbeat("r1", "online").status());
    }

    private static boolean refused(Api api) throws InterruptedException {
        try {
            api.get("/api/health");
            return false;
        } catch (ConnectException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void shouldAnswer503ToRunnerCallsDuringA503OutageButServeTheAdminApi() throws Exception {
        Api api = start();
        api.register("r1", 2);
        server.injectFault(Fault.outage(Duration.ofMinutes(5), "503"));

        assertEquals(503, api.poll("r1", 1, 0).status());
        assertEquals(503, api.heartbeat("r1", "online").status());
        assertEquals(503, api.get("/api/health").status());
        assertEquals(200, api.get("/api/admin/tasks").status(), "the admin API stays up");
        assertTrue(server.injectedFaults().get("outage:503:poll") >= 1);

        server.clearFaults();
        assertEquals(200, api.poll("r1", 1, 0).status());
        assertEquals(200, api.get("/api/health").status());
    }

    @Test
    void shouldListTheFirstTaskTwiceInOneAnswerButClaimItOnce() throws Exception {
        Api api = start();
        api.register("r1", 4);
        String id = enqueue(null);
        server.injectFault(Fault.duplicate(1));

        assertEquals(List.of(id, id), ids(api.poll("r1", 4, 0)));
        TaskSnapshot t = server.task(id);
        assertEquals(1, t.claimCount());
        assertEquals(1, t.attempts().size());
        assertEquals(1, t.duplicatesSent());
        assertEquals(List.of(id), server.runner("r1").orElseThrow().claimedTaskIds());
    }

    @Test
    void shouldHandOutCollidingIdsTogetherInOneAnswer() throws Exception {
        Api api = start();
        api.register("r1", 4);
        String other = enqueue(null);
        String slash = enqueue("task/7");
        String underscore = enqueue("task_7");
        server.injectFault(Fault.bundle(List.of(slash, underscore)));

        assertEquals(List.of(other), ids(api.poll("r1", 1, 0)), "bundled tasks are held back");
        assertEquals(List.of(), ids(api.poll("r1", 1, 0)), "a poll without room for the whole bundle gets none");
        assertEquals(List.of(slash, underscore), ids(api.poll("r1", 2, 0)));

        assertEquals(200, api.status("task%2F7", "r1", "reviewing").status(), "an encoded slash addresses task/7");
        assertEquals("reviewing", server.task(slash).phase());
        assertEquals("claimed", server.task(underscore).phase());
        assertEquals(1, server.injectedFaults().get("poll:bundle"));
    }

    @Test
    void shouldPadAnOversizedTaskOnlyInTheAnswer() throws Exception {
        Api api = start();
        api.register("r1", 4);
        String big = enqueue(null);
        String small = enqueue(null);
        JsonNode rule = server.injectFault(Fault.oversized(big, 2_000_000));
        assertEquals(2_000_000, rule.get("bytes").asInt());

        JsonNode data = api.poll("r1", 4, 0).data();

        assertEquals(2, data.size());
        assertEquals(2_000_000, data.get(0).get("padding").asText().length());
        assertNull(data.get(1).get("padding"), small + " is not padded");
        assertNull(server.task(big).task().get("padding"), "the stored task is unchanged");
    }

    @Test
    void shouldStreamAPollAnswerAndPutBackOnlyTheTasksNotWrittenWholeWhenTheRunnerHangsUp() throws Exception {
        Api api = start();
        api.register("r1", 4);
        String first = enqueue(null);
        String big = enqueue(null);
        String last = enqueue(null);
        server.injectFault(Fault.oversized(big, 64_000_000));
        try (java.net.Socket s = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), URI.create(server.baseUrl()).getPort())) {
            s.getOutputStream().write(("GET /api/runners/tasks/pending?runnerId=r1&maxTasks=4 HTTP/1.1\r\nHost: x\r\n"
                    + "Authorization: Bearer " + TOKEN + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            StringBuilder seen = new StringBuilder();
            byte[] buf = new byte[8192];
            int n;
            // the headers and the first task arrive before the large one is written whole: read into the padding, hang up
            while (!seen.toString().contains("\"padding\"") && (n = in.read(buf)) > 0) {
                seen.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
            }
            assertTrue(seen.toString().startsWith("HTTP/1.1 200"), seen.substring(0, Math.min(200, seen.length())));
            assertTrue(seen.toString().contains("\"id\":\"" + first + "\""), "the first task was streamed before the large one");
        }
        await("the tasks not written whole go back to the queue").atMost(Duration.ofSeconds(30))
                .until(() -> server.task(big).phase().equals("pending") && server.task(last).phase().equals("pending"));
        assertEquals("claimed", server.task(first).phase(), "the task written whole stays with the runner that may have read it");
        assertEquals("r1", server.task(first).runnerId());
    }

    @Test
    void shouldDribbleAPollAnswerInPacedPiecesAndRecordIt() throws Exception {
        Api api = start();
        api.register("r1", 4);
        String first = enqueue(null);
        String second = enqueue(null);
        server.injectFault(Fault.dribble(Duration.ofMillis(2000), Duration.ofMillis(100), 1));

        HttpResponse<String> r = http.send(request("/api/runners/tasks/pending?runnerId=r1&maxTasks=4").GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        JsonNode data = com.fasterxml.jackson.databind.json.JsonMapper.builder().build().readTree(r.body()).get("data");
        assertEquals(2, data.size(), r.body());
        assertEquals(first, data.get(0).get("id").asText());
        assertEquals(second, data.get(1).get("id").asText());
        await().atMost(Duration.ofSeconds(30)).until(() -> server.faults().get("rules").get(0).get("answers").size() == 1);
        JsonNode answer = server.faults().get("rules").get(0).get("answers").get(0);
        assertEquals("r1", answer.get("runnerId").asText(), answer.toString());
        assertEquals(List.of(first, second), List.of(answer.get("taskIds").get(0).asText(), answer.get("taskIds").get(1).asText()));
        assertTrue(answer.get("whole").asBoolean(), answer.toString());
        // 2000 / 100 = 20 pieces of equal size, each task in pieces of its own: at least 20 flushes, 19 gaps between
        assertTrue(answer.get("pieces").asInt() >= 20, answer.toString());
        assertTrue(answer.get("ms").asLong() >= 1900, "each gap is waited out: " + answer);
        assertEquals(1, server.injectedFaults().get("poll:dribble"));
        assertEquals(List.of(), ids(api.poll("r1", 4, 0)), "the tasks were claimed by the dribbled answer");
    }

    /** Reads what has arrived of a dribbled body: its first piece, which must not be the whole answer. */
    private static String firstPiece(InputStream in) throws IOException {
        byte[] buf = new byte[65536];
        int n = in.read(buf);
        assertTrue(n > 0, "the body began");
        String piece = new String(buf, 0, n, StandardCharsets.UTF_8);
        assertFalse(piece.endsWith("]}"), "the first piece is not the whole answer: " + piece);
        return piece;
    }

    @Test
    void shouldWriteTheRestOfADribbleAtOnceWhenTheFaultsAreReleased() throws Exception {
        Api api = start();
        api.register("r1", 4);
        String first = enqueue(null);
        String second = enqueue(null);
        server.injectFault(Fault.dribble(Duration.ofMinutes(5), Duration.ofSeconds(5), 1));

        HttpResponse<InputStream> r = http.send(request("/api/runners/tasks/pending?runnerId=r1&maxTasks=4").GET().build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, r.statusCode(), "the headers arrive at once");
        try (InputStream in = r.body()) {
            String head = firstPiece(in);
            CompletableFuture<String> rest = CompletableFuture.supplyAsync(() -> {
                try {
                    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            assertFalse(rest.isDone(), "the rest is paced (a piece every 5 s)");
            server.clearFaults();
            // far less than the five minutes the dribble would take: the rest comes at once
            String body = head + rest.get(60, TimeUnit.SECONDS);
            JsonNode data = com.fasterxml.jackson.databind.json.JsonMapper.builder().build().readTree(body).get("data");
            assertEquals(List.of(first, second), List.of(data.get(0).get("id").asText(), data.get(1).get("id").asText()));
        }
        assertEquals("r1", server.task(first).runnerId());
        assertEquals("r1", server.task(second).runnerId());
    }

    @Test
    void shouldEndADribbleWhenTheServerStops() throws Exception {
        Api api = start();
        api.register("r1", 4);
        enqueue(null);
        server.injectFault(Fault.dribble(Duration.ofMinutes(5), Duration.ofSeconds(5), 1));

        HttpResponse<InputStream> r = http.send(request("/api/runners/tasks/pending?runnerId=r1&maxTasks=4").GET().build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, r.statusCode());
        try (InputStream in = r.body()) {
            String head = firstPiece(in);
            CompletableFuture<String> rest = CompletableFuture.supplyAsync(() -> {
                try {
                    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    return "<broken: " + e.getMessage() + ">";
                }
            });
            server.stop();
            String end = rest.get(60, TimeUnit.SECONDS); // not the five minutes of the dribble
            assertFalse((head + end).endsWith("]}"), "a stopped server does not finish the answer: " + head + end);
        }
    }

    @Test
    void shouldRefuseADribbleBeyondItsBounds() throws Exception {
        Api api = start();
        assertEquals(400, api.post("/api/admin/faults", "{\"mode\":\"dribble\",\"totalMs\":600001,\"gapMs\":1000}").status());
        assertEquals(400, api.post("/api/admin/faults", "{\"mode\":\"dribble\",\"totalMs\":100000,\"gapMs\":1}").status());
        assertEquals(400, api.post("/api/admin/faults", "{\"mode\":\"dribble\",\"totalMs\":1000,\"gapMs\":0}").status());
        assertEquals(201, api.post("/api/admin/faults", "{\"mode\":\"dribble\",\"totalMs\":1000,\"gapMs\":100}").status());
    }

    @Test
    void shouldNotUseADribbleOnAnEmptyPollAnswer() throws Exception {
        Api api = start();
        api.register("r1", 4);
        server.injectFault(Fault.dribble(Duration.ofMillis(60_000), Duration.ofMillis(100), 1));
        assertEquals(List.of(), ids(api.poll("r1", 4, 0)));
        String id = enqueue(null);
        assertNull(server.injectedFaults().get("poll:dribble"), "an empty answer is not paced");
        assertEquals(1, server.faults().get("rules").get(0).get("remaining").asInt());
        server.clearFaults();
        assertEquals(List.of(id), ids(api.poll("r1", 4, 0)));
    }

    @Test
    void shouldPutBackTheTasksNotWrittenWholeWhenTheRunnerHangsUpOnADribble() throws Exception {
        Api api = start();
        api.register("r1", 4);
        String first = enqueue(null);
        String second = enqueue(null);
        server.injectFault(Fault.dribble(Duration.ofMillis(30_000), Duration.ofMillis(50), 1));
        try (java.net.Socket s = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), URI.create(server.baseUrl()).getPort())) {
            s.getOutputStream().write(("GET /api/runners/tasks/pending?runnerId=r1&maxTasks=4 HTTP/1.1\r\nHost: x\r\n"
                    + "Authorization: Bearer " + TOKEN + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            StringBuilder seen = new StringBuilder();
            byte[] buf = new byte[8192];
            int n;
            // the headers and the first pieces of the body (chunked, a few bytes each), then hang up
            while ((seen.indexOf("\r\n\r\n") < 0 || seen.length() < seen.indexOf("\r\n\r\n") + 20)
                    && (n = in.read(buf)) > 0) {
                seen.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
            }
            assertTrue(seen.toString().startsWith("HTTP/1.1 200"), seen.toString());
        }
        await("the tasks not written whole go back to the queue").atMost(Duration.ofSeconds(30))
                .until(() -> server.task(first).phase().equals("pending") && server.task(second).phase().equals("pending"));
        await().atMost(Duration.ofSeconds(10)).until(() -> server.faults().get("rules").get(0).get("answers").size() == 1);
        assertFalse(server.faults().get("rules").get(0).get("answers").get(0).get("whole").asBoolean());
    }

    @Test
    void shouldAnswerInjectedRedirectsWithALocationWithoutProcessingTheCall() throws Exception {
        Api api = start();
        api.register("r1", 2);
        String id = enqueue(null);
        assertEquals(List.of(id), ids(api.poll("r1", 1, 0)));
        server.injectFault(Fault.redirect("result", 307, 2));

        for (int i = 0; i < 2; i++) {
            HttpResponse<String> r = http.send(request("/api/runners/tasks/" + id + "/result").header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"runnerId\":\"r1\",\"status\":\"completed\",\"summary\":\"ok\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(307, r.statusCode(), r.body());
            assertEquals("/maintenance", r.headers().firstValue("Location").orElse(null));
            assertFalse(server.task(id).terminal(), "a redirected result is not processed");
        }
        assertEquals(200, api.result(id, "r1", "completed").status());
        assertEquals("completed", server.task(id).resultStatus());
        assertEquals(2, server.injectedFaults().get("result:redirect"));
        assertEquals("[\"" + id + "\",\"" + id + "\"]", server.faults().get("rules").get(0).get("hits").toString());
        assertEquals(400, api.post("/api/admin/faults", "{\"call\":\"result\",\"mode\":\"redirect\",\"status\":503}").status());
    }

    @Test
    void shouldAnswerAnErrorOnlyToTheCallsOfTheTaskItNames() throws Exception {
        Api api = start();
        api.register("r1", 4);
        String target = enqueue(null);
        String other = enqueue(null);
        assertEquals(List.of(target, other), ids(api.poll("r1", 4, 0)));
        JsonNode rule = server.injectFault(Fault.error("result", target, 503, 2));
        assertEquals(target, rule.get("taskId").asText());

        assertEquals(200, api.result(other, "r1", "completed").status(), "another task's result passes");
        assertEquals(503, api.result(target, "r1", "completed").status());
        assertEquals(503, api.result(target, "r1", "completed").status());
        assertFalse(server.task(target).terminal());
        assertEquals(200, api.result(target, "r1", "completed").status());
        assertEquals(2, server.faults().get("rules").get(0).get("applied").asInt());
        assertEquals("[\"" + target + "\",\"" + target + "\"]", server.faults().get("rules").get(0).get("hits").toString());
    }

    @Test
    void shouldDefaultAnOversizedFieldToJustOverJacksonsStringLimit() throws Exception {
        Api api = start();
        Api.Reply r = api.post("/api/admin/faults", "{\"mode\":\"oversized\",\"taskId\":\"t1\"}");
        assertEquals(201, r.status(), r.toString());
        assertEquals(20_000_001, r.data().get("bytes").asInt());
        assertEquals("padding", r.data().get("field").asText());
    }

    @Test
    void shouldRejectMalformedFaults() throws Exception {
        Api api = start();
        assertEquals(400, api.post("/api/admin/faults", "{\"call\":\"poll\",\"mode\":\"explode\"}").status());
        assertEquals(400, api.post("/api/admin/faults", "{\"call\":\"nope\",\"mode\":\"error\"}").status());
        assertEquals(400, api.post("/api/admin/faults", "{\"call\":\"poll\",\"mode\":\"error\",\"status\":404}").status());
        assertEquals(400, api.post("/api/admin/faults", "{\"mode\":\"bundle\",\"taskIds\":[\"a\"]}").status());
        assertEquals(400, api.post("/api/admin/faults", "{\"mode\":\"outage\",\"kind\":\"refused\"}").status());
        assertEquals(0, api.get("/api/admin/faults").data().get("rules").size());
    }

    @Test
    void shouldCountExecutionsPerAttemptAndRunnerWithRetriedReportsOnce() throws Exception {
        Api api = start();
        api.register("r1", 2);
        api.register("r2", 2);
        String id = enqueue(null);
        assertEquals(List.of(id), ids(api.poll("r1", 1, 0)));
        api.status(id, "r1", "reviewing");
        api.status(id, "r1", "reviewing"); // a retry: same "at"
        assertEquals(1, server.task(id).attempts().get(0).executions());

        api.heartbeat("r1", "offline"); // its claim goes back to the queue: attempt 1 ends
        assertEquals(List.of(id), ids(api.poll("r2", 1, 0)));
        assertEquals(409, api.status(id, "r1", "reviewing").status(), "r1 no longer holds it");
        api.post("/api/runners/tasks/" + id + "/status", "{\"runnerId\":\"r2\",\"status\":\"reviewing\",\"at\":\"2026-01-01T00:00:01Z\"}");
        api.post("/api/runners/tasks/" + id + "/status", "{\"runnerId\":\"r2\",\"status\":\"reviewing\",\"at\":\"2026-01-01T00:00:02Z\"}");
        assertEquals(200, api.result(id, "r2", "completed").status());

        TaskSnapshot t = server.task(id);
        assertEquals(2, t.attempts().size());
        Attempt first = t.attempts().get(0);
        assertEquals("r1", first.runnerId());
        assertEquals("requeued", first.end());
        assertEquals(1, first.executions(), "the refused report repeats the first stamp");
        assertEquals(1, first.rejectedStatusCalls());
        Attempt second = t.attempts().get(1);
        assertEquals("r2", second.runnerId());
        assertEquals(2, second.executions(), "two distinct reviewing reports within one claim: executed twice");
        assertEquals("result", second.end());
        assertEquals("completed", second.resultStatus());
        assertEquals(0, t.strayCalls());
    }

    @Test
    void shouldRequeueARunnerShutdownResultAsANewAttemptUpToTheLimit() throws Exception {
        Api api = start(DevServerOptions.builder(TOKEN).heartbeatTimeout(Duration.ofMinutes(5)).maxShutdownRetries(1));
        api.register("r1", 2);
        api.register("r2", 2);
        String id = enqueue(null);
        String shutdown = "{\"runnerId\":\"%s\",\"status\":\"failed\",\"error\":{\"kind\":\"runner_shutdown\","
                + "\"message\":\"the runner restarted while this review ran\"}}";
        assertEquals(List.of(id), ids(api.poll("r1", 1, 0)));

        Api.Reply first = api.post("/api/runners/tasks/" + id + "/result", shutdown.formatted("r1"));

        assertEquals(200, first.status(), first.toString());
        assertTrue(first.data().get("requeued").asBoolean());
        TaskSnapshot t = server.task(id);
        assertEquals("pending", t.phase());
        assertFalse(t.terminal());
        assertEquals(1, t.shutdownRequeues());
        assertEquals("requeued", t.attempts().get(0).end());
        assertEquals("runner_shutdown", t.attempts().get(0).errorKind());
        assertEquals("the runner restarted while this review ran", t.attempts().get(0).errorMessage());
        assertEquals(409, api.post("/api/runners/tasks/" + id + "/result", shutdown.formatted("r1")).status(),
                "the report again: the task is no longer r1's");

        assertEquals(List.of(id), ids(api.poll("r2", 1, 0)), "retried by another runner");
        Api.Reply second = api.post("/api/runners/tasks/" + id + "/result", shutdown.formatted("r2"));
        assertFalse(second.data().get("requeued").asBoolean(), "over the limit the report is the result");
        t = server.task(id);
        assertTrue(t.terminal());
        assertEquals("failed", t.resultStatus());
        assertEquals("runner_shutdown", t.errorKind());
        assertEquals(2, t.attempts().size());
        assertEquals("result", t.attempts().get(1).end());
    }
}
