package dev.aireview.runner.devserver;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The runner side of PROTOCOL.md, over real HTTP: auth, envelopes, register, heartbeat, status, logs, result. */
class DevServerProtocolTest {
    private static final String TOKEN = "runner-token-0123456789";
    private static final String SHA = "0123456789abcdef0123456789abcdef01234567";

    private DevServer server;
    private Api api;

    @BeforeEach
    void start() throws Exception {
        server = DevServer.start(DevServerOptions.builder(TOKEN).build());
        api = new Api(server.baseUrl(), TOKEN);
    }

    @AfterEach
    void stop() {
        server.stop();
    }

    private String enqueue() {
        return server.enqueue(NewTask.forRepository("https://git.example/acme/shop.git").headSha(SHA).build());
    }

    /** Registers the runner and claims exactly one task for it. */
    private String claimOne(String runnerId) throws Exception {
        api.register(runnerId, 2);
        String id = enqueue();
        JsonNode tasks = api.poll(runnerId, 1, 0).data();
        assertEquals(1, tasks.size(), tasks.toString());
        assertEquals(id, tasks.get(0).get("id").asText());
        return id;
    }

    @Test
    void shouldAnswerHealthWithoutToken() throws Exception {
        Api.Reply r = api.withToken(null).get("/api/health");
        assertEquals(200, r.status());
        assertEquals("ok", r.data().get("status").asText());
    }

    @Test
    void shouldAcceptBearerAndApiKeyAndRejectOthersWithErrorEnvelope() throws Exception {
        assertEquals(201, api.register("r1", 1).status());
        Api noToken = api.withToken(null);
        Api.Reply viaBearer = api.heartbeat("r1", "online");
        assertEquals(200, viaBearer.status(), viaBearer.toString());
        Api.Reply viaKey = noToken.post("/api/runners/r1/heartbeat", "{\"status\":\"online\"}", "x-api-key", TOKEN);
        assertEquals(200, viaKey.status(), viaKey.toString());

        for (Api.Reply bad : List.of(
                noToken.post("/api/runners/r1/heartbeat", "{}"),
                api.withToken("wrong-token").post("/api/runners/r1/heartbeat", "{}"),
                noToken.post("/api/runners/r1/heartbeat", "{}", "x-api-key", "wrong-token"),
                noToken.get("/api/runners/tasks/pending?runnerId=r1"),
                noToken.get("/api/admin/tasks"))) {
            assertEquals(401, bad.status(), bad.toString());
            JsonNode err = bad.json().get("error");
            assertNotNull(err, bad.toString());
            assertEquals(401, err.get("status").asInt());
            assertEquals("Unauthorized", err.get("title").asText());
            assertFalse(err.get("detail").asText().isBlank());
            assertFalse(bad.body().contains(TOKEN), "the token must not be echoed");
        }
    }

    @Test
    void shouldUpsertRegistrationByHeaderIdOrBodyName() throws Exception {
        Api.Reply first = api.register("runner-a", 2);
        assertEquals(201, first.status(), first.toString());
        assertEquals("runner-a", first.data().get("id").asText());
        Api.Reply again = api.register("runner-a", 3);
        assertEquals(200, again.status(), again.toString());
        assertEquals("runner-a", again.data().get("id").asText());

        Api.Reply byName = api.post("/api/runners/register", "{\"name\":\"runner-b\",\"maxConcurrentJobs\":5}");
        assertEquals(201, byName.status(), byName.toString());
        assertEquals("runner-b", byName.data().get("id").asText());

        assertEquals(400, api.post("/api/runners/register", "{}").status());

        assertEquals(2, server.runners().size());
        RunnerSnapshot a = server.runner("runner-a").orElseThrow();
        assertEquals(3, a.maxConcurrency());
        assertEquals(2, a.registrations());
        assertEquals("online", a.status());
        assertEquals(5, server.runner("runner-b").orElseThrow().maxConcurrency());
    }

    @Test
    void shouldAnswer404ForUnknownRunnerAndTask() throws Exception {
        assertEquals(404, api.heartbeat("ghost", "online").status());
        Api.Reply poll = api.poll("ghost", 1, 0);
        assertEquals(404, poll.status());
        assertEquals(404, poll.json().get("error").get("status").asInt());
        api.register("r1", 1);
        assertEquals(404, api.status("task_nope", "r1", "preparing").status());
        assertEquals(404, api.result("task_nope", "r1", "completed").status());
        assertEquals(404, api.post("/api/runners/tasks/task_nope/logs", "{\"runnerId\":\"r1\",\"lines\":[]}").status());
    }

    @Test
    void shouldRecordHeartbeatState() throws Exception {
        String id = claimOne("r1");
        Api.Reply hb = api.heartbeat("r1", "busy", id);
        assertEquals(200, hb.status());
        assertEquals(0, hb.data().get("cancelTaskIds").size());
        RunnerSnapshot r = server.runner("r1").orElseThrow();
        assertEquals("busy", r.status());
        assertEquals(1, r.activeJobs());
        assertEquals(List.of(id), r.runningTaskIds());
        assertEquals(List.of(id), r.claimedTaskIds());
        assertNotNull(r.lastHeartbeat());
        assertEquals(1, r.heartbeats());
    }

    @Test
    void shouldHandOutAtMostMaxTasks() throws Exception {
        api.register("r1", 4);
        for (int i = 0; i < 5; i++) {
            enqueue();
        }
        assertEquals(0, api.poll("r1", 0, 5000).data().size(), "maxTasks=0 claims nothing and does not wait");
        assertEquals(2, api.poll("r1", 2, 0).data().size());
        assertEquals(1, api.poll("r1", 1, 0).data().size());
        assertEquals(2, api.poll("r1", 10, 0).data().size(), "only two were left");
        assertEquals(0, api.poll("r1", 10, 0).data().size());
        assertEquals(5, server.runner("r1").orElseThrow().maxClaimed());
    }

    @Test
    void shouldRecordPhasesWithTimestamps() throws Exception {
        String id = claimOne("r1");
        for (String phase : List.of("preparing", "cloning", "reviewing", "submitting")) {
            Api.Reply r = api.status(id, "r1", phase);
            assertEquals(200, r.status(), r.toString());
        }
        assertEquals(200, api.result(id, "r1", "completed").status());
        TaskSnapshot t = server.task(id);
        assertEquals(List.of("pending", "claimed", "preparing", "cloning", "reviewing", "submitting", "completed"),
                t.phaseNames());
        assertTrue(t.phases().stream().allMatch(p -> p.receivedAt() != null));
        assertEquals("2026-01-01T00:00:00Z", t.phases().get(2).at());
        assertNotNull(t.startedAt());
        assertNotNull(t.finishedAt());
        assertEquals("completed", t.phase());
        assertEquals(409, api.status(id, "r1", "reviewing").status(), "no status after the result");
    }

    @Test
    void shouldDropLogLinesAlreadyStored() throws Exception {
        String id = claimOne("r1");
        String path = "/api/runners/tasks/" + id + "/logs";
        Api.Reply first = api.post(path, "{\"runnerId\":\"r1\",\"offset\":0,\"lines\":["
                + "{\"ts\":\"2026-01-01T00:00:00Z\",\"stream\":\"stdout\",\"text\":\"line 0\"},"
                + "{\"ts\":\"2026-01-01T00:00:01Z\",\"stream\":\"stderr\",\"text\":\"line 1\"}]}");
        assertEquals(200, first.status(), first.toString());
        assertEquals(2, first.data().get("accepted").asInt());
        // the same batch again (a retry) and an overlapping one
        Api.Reply retry = api.post(path, "{\"runnerId\":\"r1\",\"offset\":0,\"lines\":["
                + "{\"stream\":\"stdout\",\"text\":\"line 0\"},{\"stream\":\"stderr\",\"text\":\"line 1\"}]}");
        assertEquals(0, retry.data().get("accepted").asInt());
        assertEquals(2, retry.data().get("duplicates").asInt());
        Api.Reply overlap = api.post(path, "{\"runnerId\":\"r1\",\"offset\":1,\"lines\":["
                + "{\"stream\":\"stderr\",\"text\":\"line 1\"},{\"stream\":\"system\",\"text\":\"line 2\"}]}");
        assertEquals(1, overlap.data().get("accepted").asInt());
        assertEquals(3, overlap.data().get("nextOffset").asInt());

        TaskSnapshot t = server.task(id);
        assertEquals(List.of("line 0", "line 1", "line 2"), t.logs().stream().map(LogLine::text).toList());
        assertEquals(List.of(0L, 1L, 2L), t.logs().stream().map(LogLine::index).toList());
        assertEquals(List.of("stdout", "stderr", "system"), t.logs().stream().map(LogLine::stream).toList());
        assertEquals(3, t.duplicateLogLines());
        assertEquals(3, t.logBatches());
    }

    @Test
    void shouldAcceptTheSameResultTwiceAndRefuseForeignRunners() throws Exception {
        String id = claimOne("r1");
        api.register("r2", 1);
        Api.Reply foreign = api.result(id, "r2", "completed");
        assertEquals(409, foreign.status(), foreign.toString());
        assertEquals(409, foreign.json().get("error").get("status").asInt());
        assertEquals(409, api.status(id, "r2", "preparing").status());

        Api.Reply first = api.result(id, "r1", "completed");
        assertEquals(200, first.status(), first.toString());
        assertFalse(first.data().get("duplicate").asBoolean());
        Api.Reply second = api.result(id, "r1", "completed");
        assertEquals(200, second.status(), second.toString());
        assertTrue(second.data().get("duplicate").asBoolean());
        assertEquals(409, api.result(id, "r1", "failed").status(), "a different second result is a conflict");
        assertEquals(409, api.result(id, "r2", "completed").status());

        TaskSnapshot t = server.task(id);
        assertEquals("completed", t.resultStatus());
        assertEquals("r1", t.runnerId());
        assertEquals(5, t.resultCalls());
        assertEquals(1, t.commentCount());
        assertEquals("looks fine", t.summary());
        assertEquals(List.of(), server.runner("r1").orElseThrow().claimedTaskIds());
    }

    @Test
    void shouldRefuseResultForTaskThatWasNeverClaimed() throws Exception {
        api.register("r1", 1);
        String id = enqueue();
        assertEquals(409, api.result(id, "r1", "completed").status());
        assertEquals("pending", server.task(id).phase());
        assertEquals(1, api.poll("r1", 1, 0).data().size(), "the refused result did not touch the queue");
    }

    @Test
    void shouldAnswer404EnvelopeForUnknownPathsAnd405ForWrongMethod() throws Exception {
        Api.Reply r = api.get("/api/nothing/here");
        assertEquals(404, r.status());
        assertEquals(404, r.json().get("error").get("status").asInt());
        Api.Reply m = api.get("/api/runners/register");
        assertEquals(405, m.status());
        Api.Reply bad = api.post("/api/runners/register", "{not json", "x-runner-id", "r1");
        assertEquals(400, bad.status());
        assertEquals("Bad Request", bad.json().get("error").get("title").asText());
    }
}
