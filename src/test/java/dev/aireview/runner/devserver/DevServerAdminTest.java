package dev.aireview.runner.devserver;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aireview.runner.model.Json;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ConnectException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Admin JSON API, secret masking, the HTML dashboard, and the outage switch. */
class DevServerAdminTest {
    private static final String TOKEN = "admin-test-runner-token";
    private static final String ADMIN_TOKEN = "admin-only-token-42";
    private static final String CLONE_TOKEN = "ghs_cloneSecret123456";
    private static final String AI_KEY = "sk-aiKeySecret987654";
    private static final String SHA = "0123456789abcdef0123456789abcdef01234567";

    private DevServer server;
    private Api api;

    @BeforeEach
    void start() throws Exception {
        server = DevServer.start(DevServerOptions.builder(TOKEN).adminToken(ADMIN_TOKEN).build());
        api = new Api(server.baseUrl(), TOKEN);
    }

    @AfterEach
    void stop() {
        server.stop();
    }

    private String enqueueWithSecrets() throws Exception {
        Api.Reply r = api.post("/api/admin/tasks", """
                {"repository":{"url":"https://git.example/acme/shop.git","cloneToken":"%s"},
                 "branch":"feature/cart","headSha":"%s","baseSha":"%s",
                 "files":[{"path":"src/cart.ts","status":"modified","additions":1,"deletions":0,"patch":"@@ -1 +1 @@"}],
                 "rules":["Flag missing error handling"],"prompt":"Review it","timeoutSeconds":120,
                 "ai":{"provider":"openai","baseUrl":"http://127.0.0.1:9/v1","model":"m1","apiKey":"%s"}}
                """.formatted(CLONE_TOKEN, SHA, SHA, AI_KEY));
        assertEquals(201, r.status(), r.toString());
        return r.data().get("id").asText();
    }

    @Test
    void shouldEnqueueATaskAndDeliverItInProtocolShapeWithSecretsToTheRunnerOnly() throws Exception {
        String id = enqueueWithSecrets();
        assertTrue(id.matches("task_\\d+"), id);
        api.register("r1", 1);
        JsonNode task = api.poll("r1", 1, 0).data().get(0);
        assertEquals(id, task.get("id").asText());
        assertTrue(task.get("reviewId").asText().matches("rev_\\d+"), task.toString());
        assertEquals("https://git.example/acme/shop.git", task.get("repository").get("url").asText());
        assertEquals("acme/shop", task.get("repository").get("fullName").asText());
        assertEquals(CLONE_TOKEN, task.get("repository").get("cloneToken").asText(), "runners get the secret");
        assertEquals(AI_KEY, task.get("ai").get("apiKey").asText());
        assertEquals("feature/cart", task.get("branch").asText());
        assertEquals(SHA, task.get("headSha").asText());
        assertEquals(120, task.get("timeoutSeconds").asInt());
        assertEquals("src/cart.ts", task.get("files").get(0).get("path").asText());
        assertEquals("Flag missing error handling", task.get("rules").get(0).asText());
        assertEquals(id, dev.aireview.runner.model.ReviewTask.fromJson(task).id(), "the runner's reader accepts it");
    }

    @Test
    void shouldNeverReturnOrRenderSecrets() throws Exception {
        String id = enqueueWithSecrets();
        api.register("r1", 1);
        api.poll("r1", 1, 0);
        // a runner that leaks: the server counts it and still masks it everywhere
        api.post("/api/runners/tasks/" + id + "/logs", "{\"runnerId\":\"r1\",\"offset\":0,\"lines\":["
                + "{\"stream\":\"stdout\",\"text\":\"cloning https://x-access-token:" + CLONE_TOKEN + "@git.example/acme/shop.git\"},"
                + "{\"stream\":\"stdout\",\"text\":\"key " + AI_KEY + "\"}]}");
        api.result(id, "r1", "completed");

        List<Api.Reply> views = List.of(
                api.get("/api/admin/tasks"),
                api.get("/api/admin/tasks/" + id),
                api.get("/api/admin/runners"),
                api.get("/"),
                api.get("/tasks/" + id));
        for (Api.Reply v : views) {
            assertEquals(200, v.status(), v.toString());
            assertFalse(v.body().contains(CLONE_TOKEN), v.body());
            assertFalse(v.body().contains(AI_KEY), v.body());
            assertFalse(v.body().contains(TOKEN), v.body());
        }
        JsonNode one = api.get("/api/admin/tasks/" + id).data();
        assertEquals("****", one.get("task").get("repository").get("cloneToken").asText());
        assertEquals("****", one.get("task").get("ai").get("apiKey").asText());
        assertEquals(2, one.get("logs").size());
        assertTrue(one.get("logs").get(1).get("text").asText().contains("****"));
        assertEquals(2, one.get("counters").get("secretLeaks").asInt());
        assertEquals(2, server.task(id).secretLeaks());
        assertFalse(server.task(id).toString().contains(AI_KEY));
    }

    @Test
    void shouldListTasksWithPhaseRunnerTimestampsResultAndCounters() throws Exception {
        String done = enqueueWithSecrets();
        String waiting = enqueueWithSecrets();
        api.register("r1", 1);
        api.poll("r1", 1, 0);
        api.status(done, "r1", "reviewing");
        api.post("/api/runners/tasks/" + done + "/logs",
                "{\"runnerId\":\"r1\",\"offset\":0,\"lines\":[{\"ts\":\"2026-01-01T00:00:00Z\",\"stream\":\"stdout\",\"text\":\"reviewing 1 file\"}]}");
        api.result(done, "r1", "completed");
        api.result(done, "r1", "completed");

        JsonNode list = api.get("/api/admin/tasks").data();
        assertEquals(2, list.size());
        JsonNode first = list.get(0);
        assertEquals(done, first.get("id").asText());
        assertEquals("completed", first.get("phase").asText());
        assertEquals("r1", first.get("runnerId").asText());
        assertEquals("completed", first.get("resultStatus").asText());
        assertEquals(1, first.get("commentCount").asInt());
        assertEquals(1, first.get("counters").get("claims").asInt());
        assertEquals(2, first.get("counters").get("resultCalls").asInt());
        assertFalse(first.get("enqueuedAt").isNull());
        assertFalse(first.get("finishedAt").isNull());
        assertEquals("looks fine", first.get("result").get("summary").asText());
        assertNull(first.get("logs"), "the list leaves logs out");
        assertEquals("pending", list.get(1).get("phase").asText());
        assertEquals(1, api.get("/api/admin/tasks?phase=pending").data().size());

        JsonNode one = api.get("/api/admin/tasks/" + done).data();
        assertEquals("reviewing 1 file", one.get("logs").get(0).get("text").asText());
        assertEquals(404, api.get("/api/admin/tasks/task_999").status());

        JsonNode runners = api.get("/api/admin/runners").data();
        assertEquals(1, runners.size());
        assertEquals("r1", runners.get(0).get("id").asText());
        assertEquals("online", runners.get(0).get("status").asText());
        assertEquals(1, runners.get(0).get("maxConcurrency").asInt());
        assertTrue(runners.get(0).has("lastHeartbeat"));
        assertTrue(runners.get(0).has("activeJobs"));
        assertEquals(waiting, api.get("/api/admin/tasks?phase=pending").data().get(0).get("id").asText());
    }

    @Test
    void shouldEnqueueARawBodyVerbatim() throws Exception {
        Api.Reply r = api.post("/api/admin/tasks?raw=true", "{\"reviewId\":\"rev_x\",\"branch\":\"main\",\"extra\":[1,2]}");
        assertEquals(201, r.status(), r.toString());
        String id = r.data().get("id").asText();
        Api.Reply withId = api.post("/api/admin/tasks", "{\"raw\":{\"id\":\"custom-1\",\"headSha\":\"not-a-sha\"}}");
        assertEquals("custom-1", withId.data().get("id").asText());
        assertEquals(409, api.post("/api/admin/tasks?raw=true", "{\"id\":\"custom-1\"}").status(), "ids are unique");
        String noId = server.enqueueRaw(Json.mapper().readTree("{\"headSha\":\"abc\"}"), false);

        api.register("r1", 5);
        JsonNode tasks = api.poll("r1", 5, 0).data();
        assertEquals(3, tasks.size());
        assertEquals(Json.mapper().readTree("{\"id\":\"" + id + "\",\"reviewId\":\"rev_x\",\"branch\":\"main\",\"extra\":[1,2]}"),
                tasks.get(0), "no repository added, nothing changed but the id");
        assertEquals(Json.mapper().readTree("{\"id\":\"custom-1\",\"headSha\":\"not-a-sha\"}"), tasks.get(1));
        assertEquals(Json.mapper().readTree("{\"headSha\":\"abc\"}"), tasks.get(2), "sent without an id: " + noId);
        // the bad task still gets its failed result
        Api.Reply failed = api.post("/api/runners/tasks/custom-1/result",
                "{\"runnerId\":\"r1\",\"status\":\"failed\",\"error\":{\"kind\":\"bad_task\",\"message\":\"missing field 'repository.url'\"}}");
        assertEquals(200, failed.status());
        TaskSnapshot t = server.task("custom-1");
        assertEquals("failed", t.resultStatus());
        assertEquals("bad_task", t.errorKind());
    }

    @Test
    void shouldRefuseIncompleteRequestsOnTheNormalPath() throws Exception {
        Api.Reply noRepo = api.post("/api/admin/tasks", "{\"headSha\":\"" + SHA + "\"}");
        assertEquals(400, noRepo.status());
        assertTrue(noRepo.json().get("error").get("detail").asText().contains("repository"));
        assertEquals(400, api.post("/api/admin/tasks", "{\"repository\":\"https://x/y.git\"}").status(), "no sha/branch");
        assertThrows(IllegalArgumentException.class, () -> NewTask.forRepository("https://x/y.git").build());
        assertTrue(server.tasks().isEmpty());
    }

    @Test
    void shouldAcceptALocalPathAsRepository(@TempDir Path dir) throws Exception {
        Api.Reply r = api.post("/api/admin/tasks",
                "{\"repositoryPath\":\"" + dir.toString().replace("\\", "\\\\") + "\",\"branch\":\"main\"}");
        assertEquals(201, r.status(), r.toString());
        String url = r.data().get("task").get("repository").get("url").asText();
        assertTrue(url.startsWith("file:"), url);
        assertEquals(dir.toUri().toString(), url);
    }

    @Test
    void shouldAcceptTheAdminTokenOnTheAdminApiOnly() throws Exception {
        Api admin = api.withToken(ADMIN_TOKEN);
        assertEquals(200, admin.get("/api/admin/tasks").status());
        assertEquals(200, api.withToken(null).get("/api/admin/runners", "x-api-key", ADMIN_TOKEN).status());
        assertEquals(200, api.get("/api/admin/runners").status(), "the runner token works on the admin API too");
        assertEquals(401, admin.register("r1", 1).status(), "the admin token is not a runner token");
    }

    @Test
    void shouldRenderTheDashboard() throws Exception {
        String id = enqueueWithSecrets();
        api.register("runner-on-page", 2);
        api.poll("runner-on-page", 1, 0);
        api.post("/api/runners/tasks/" + id + "/logs",
                "{\"runnerId\":\"runner-on-page\",\"offset\":0,\"lines\":[{\"stream\":\"stdout\",\"text\":\"<script>alert(1)</script>\"}]}");
        api.post("/api/runners/tasks/" + id + "/result", """
                {"runnerId":"runner-on-page","status":"completed","summary":"One problem found",
                 "comments":[{"path":"src/cart.ts","line":42,"severity":"error","message":"Unchecked null"}]}""");

        Api.Reply index = api.withToken(null).get("/");
        assertEquals(200, index.status());
        assertTrue(index.body().contains(id), index.body());
        assertTrue(index.body().contains("runner-on-page"));
        assertTrue(index.body().contains("completed"));

        Api.Reply page = api.withToken(null).get("/tasks/" + id);
        assertEquals(200, page.status());
        assertTrue(page.body().contains("One problem found"));
        assertTrue(page.body().contains("Unchecked null"));
        assertTrue(page.body().contains("src/cart.ts"));
        assertTrue(page.body().contains("&lt;script&gt;"), "log text is escaped");
        assertFalse(page.body().contains("<script>alert"));
        assertEquals(404, api.withToken(null).get("/tasks/task_nope").status());
    }

    @Test
    void shouldRefuseConnectionsWhileSuspendedAndKeepStateOnResume() throws Exception {
        String id = enqueueWithSecrets();
        api.register("r1", 1);
        int port = server.port();
        server.suspend();
        assertThrows(ConnectException.class, () -> api.get("/api/health"));
        server.resume();
        assertEquals(port, server.port());
        assertEquals(200, api.get("/api/health").status());
        JsonNode tasks = api.poll("r1", 1, 0).data();
        assertEquals(id, tasks.get(0).get("id").asText());
        assertEquals("online", server.runner("r1").orElseThrow().status());
        assertEquals(1, server.awaitTask(id, t -> t.claimCount() == 1, Duration.ofSeconds(1)).claimCount());
    }
}
