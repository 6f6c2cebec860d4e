package dev.aireview.runner.devserver;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.NoSuchElementException;

import static org.junit.jupiter.api.Assertions.*;

/** Cancel: pending tasks end at once, running ones are handed to their runner on the next heartbeat. */
class DevServerCancelTest {
    private static final String TOKEN = "cancel-token-0123456789";
    private static final String SHA = "0123456789abcdef0123456789abcdef01234567";

    private DevServer server;
    private Api api;

    @BeforeEach
    void start() throws Exception {
        server = DevServer.start(DevServerOptions.builder(TOKEN).build());
        api = new Api(server.baseUrl(), TOKEN);
        api.register("r1", 2);
    }

    @AfterEach
    void stop() {
        server.stop();
    }

    private String enqueue() {
        return server.enqueue(NewTask.forRepository("https://git.example/acme/shop.git").headSha(SHA).build());
    }

    @Test
    void shouldCancelAPendingTaskAtOnceThroughTheAdminApi() throws Exception {
        String id = enqueue();
        Api.Reply r = api.post("/api/admin/tasks/" + id + "/cancel", "");
        assertEquals(200, r.status(), r.toString());
        assertEquals("cancelled", r.data().get("phase").asText());
        TaskSnapshot t = server.awaitTerminal(id, Duration.ofSeconds(5));
        assertTrue(t.terminal());
        assertEquals("cancelled", t.phase());
        assertNull(t.result());
        assertEquals(0, api.poll("r1", 1, 0).data().size(), "a cancelled task is not handed out");
        assertEquals(409, api.post("/api/admin/tasks/" + id + "/cancel", "").status(), "already finished");
    }

    @Test
    void shouldSendCancelOfARunningTaskWithTheNextHeartbeat() throws Exception {
        String id = enqueue();
        String other = enqueue();
        assertEquals(2, api.poll("r1", 2, 0).data().size());
        assertEquals(200, api.status(id, "r1", "reviewing").status());
        assertEquals(0, api.heartbeat("r1", "busy", id, other).data().get("cancelTaskIds").size());

        TaskSnapshot requested = server.cancel(id);
        assertTrue(requested.cancelRequested());
        assertFalse(requested.terminal());

        Api.Reply hb = api.heartbeat("r1", "busy", id, other);
        assertEquals(1, hb.data().get("cancelTaskIds").size(), hb.toString());
        assertEquals(id, hb.data().get("cancelTaskIds").get(0).asText());
        Api.Reply status = api.status(id, "r1", "reviewing");
        assertEquals(409, status.status());
        assertTrue(status.json().get("error").get("detail").asText().contains("cancelled"), status.toString());
        assertEquals(409, api.post("/api/runners/tasks/" + id + "/logs",
                "{\"runnerId\":\"r1\",\"offset\":0,\"lines\":[{\"stream\":\"stdout\",\"text\":\"x\"}]}").status());
        assertEquals(200, api.status(other, "r1", "reviewing").status(), "other tasks are not affected");

        assertEquals(200, api.result(id, "r1", "cancelled").status());
        TaskSnapshot t = server.awaitTerminal(id, Duration.ofSeconds(5));
        assertEquals("cancelled", t.resultStatus());
        assertEquals(0, api.heartbeat("r1", "online", other).data().get("cancelTaskIds").size(),
                "once the result is in, the cancel is not repeated");
    }

    @Test
    void shouldEndACancelledTaskWhenItsRunnerGoesOfflineInsteadOfRequeueingIt() throws Exception {
        String id = enqueue();
        assertEquals(1, api.poll("r1", 1, 0).data().size());
        server.cancel(id);
        assertEquals(200, api.heartbeat("r1", "offline").status());
        TaskSnapshot t = server.awaitTerminal(id, Duration.ofSeconds(5));
        assertEquals("cancelled", t.phase());
        assertEquals(0, t.requeues());
    }

    @Test
    void shouldReportUnknownAndFinishedTasksThroughTheJavaApi() throws Exception {
        assertThrows(NoSuchElementException.class, () -> server.cancel("task_404"));
        assertEquals(404, api.post("/api/admin/tasks/task_404/cancel", "").status());
        String id = enqueue();
        api.poll("r1", 1, 0);
        api.result(id, "r1", "completed");
        assertThrows(IllegalStateException.class, () -> server.cancel(id));
    }
}
