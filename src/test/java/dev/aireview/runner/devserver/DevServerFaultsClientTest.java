package dev.aireview.runner.devserver;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.model.TaskStats;
import dev.aireview.runner.server.ClaimedTask;
import dev.aireview.runner.server.ErrorClass;
import dev.aireview.runner.server.HttpServerClient;
import dev.aireview.runner.server.ServerException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The dev server's issue-18 faults as the runner's own HTTP client sees them, on real round trips: a poll answer
 * dribbled for longer than the poll timeout is read whole (every task, none cut), a 3xx answer to a result is a
 * retryable error naming its target (the result not processed), and an error aimed at one task's calls refuses only
 * those. No timing is measured here: the dribble's own record says how long it took (a lower bound by construction).
 */
class DevServerFaultsClientTest {
    private static final String TOKEN = "faults-client-token-0123456789";
    private static final String SHA = "0123456789abcdef0123456789abcdef01234567";
    /** The headers' deadline; the body has 4 idle periods of the request timeout after it (PollBodyDeadline). */
    private static final Duration POLL_TIMEOUT = Duration.ofMillis(1000);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

    private DevServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop();
        }
    }

    private HttpServerClient start() throws Exception {
        server = DevServer.start(DevServerOptions.builder(TOKEN).heartbeatTimeout(Duration.ofMinutes(5)).build());
        new Api(server.baseUrl(), TOKEN).register("r1", 4);
        return new HttpServerClient(URI.create(server.baseUrl()), TOKEN, REQUEST_TIMEOUT, POLL_TIMEOUT, Clock.systemUTC());
    }

    private String enqueue() {
        return server.enqueue(NewTask.forRepository("https://git.example/acme/shop.git").headSha(SHA).build());
    }

    private static TaskResult completed() {
        return TaskResult.completed("ok", List.of(), TaskStats.EMPTY);
    }

    @Test
    void shouldReadEveryTaskOfAPollAnswerDribbledForLongerThanThePollTimeout() throws Exception {
        HttpServerClient client = start();
        String first = enqueue();
        String second = enqueue();
        String third = enqueue();
        server.injectFault(Fault.dribble(Duration.ofMillis(2500), Duration.ofMillis(100), 1));

        List<ClaimedTask> tasks = client.poll("r1", 4, Duration.ZERO);

        assertEquals(List.of(first, second, third), tasks.stream().map(ClaimedTask::id).toList());
        tasks.forEach(t -> assertFalse(t.isBad(), "read whole, not cut: " + t.parseError()));
        // the rule records the answer once the server has written its last piece, which may be after the client read it
        org.awaitility.Awaitility.await("the dribbled answer recorded").atMost(Duration.ofSeconds(30))
                .until(() -> server.faults().get("rules").get(0).get("answers").size() > 0);
        JsonNode answer = server.faults().get("rules").get(0).get("answers").get(0);
        assertTrue(answer.get("whole").asBoolean(), answer.toString());
        assertTrue(answer.get("ms").asLong() > POLL_TIMEOUT.toMillis(), "the body took longer than the poll timeout: " + answer);
        tasks.forEach(t -> assertEquals("r1", server.task(t.id()).runnerId(), "claimed by the runner that read it"));
    }

    @Test
    void shouldSeeARedirectedResultAsRetryableNamingItsTargetAndDeliverItAfterwards() throws Exception {
        HttpServerClient client = start();
        String id = enqueue();
        assertEquals(List.of(id), client.poll("r1", 1, Duration.ZERO).stream().map(ClaimedTask::id).toList());
        server.injectFault(Fault.redirect("result", 307, 1));

        ServerException e = assertThrows(ServerException.class, () -> client.result("r1", id, completed()));
        assertEquals(307, e.httpStatus());
        assertEquals(ErrorClass.RETRYABLE, e.errorClass(), e.getMessage());
        assertTrue(e.getMessage().contains("/maintenance"), e.getMessage());
        assertFalse(server.task(id).terminal(), "a redirected result is not processed");

        client.result("r1", id, completed());
        assertEquals("completed", server.task(id).resultStatus());
    }

    @Test
    void shouldRefuseOnlyTheAimedTasksResultUntilItsRefusalsAreSpent() throws Exception {
        HttpServerClient client = start();
        String leftover = enqueue();
        String other = enqueue();
        client.poll("r1", 4, Duration.ZERO);
        server.injectFault(Fault.error("result", leftover, 503, 2));

        client.result("r1", other, completed()); // another task's call passes
        assertEquals("completed", server.task(other).resultStatus());
        for (int i = 0; i < 2; i++) {
            ServerException e = assertThrows(ServerException.class, () -> client.result("r1", leftover, completed()));
            assertEquals(503, e.httpStatus());
            assertEquals(ErrorClass.RETRYABLE, e.errorClass());
            assertFalse(server.task(leftover).terminal());
        }
        client.result("r1", leftover, completed());
        assertEquals("completed", server.task(leftover).resultStatus());
        assertEquals(2, server.faults().get("rules").get(0).get("applied").asInt());
    }
}
