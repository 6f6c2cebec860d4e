package dev.aireview.runner.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.Json;
import dev.aireview.runner.testsupport.Requests;
import dev.aireview.runner.model.TaskResult;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

import static com.github.tomakehurst.wiremock.client.WireMock.*;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.junit.jupiter.api.Assertions.*;

/** The upstream server's dialect: documented heartbeat statuses, {@code limit}, and a strict server's 400s. */
class DialectTest {
    /** A fresh WireMock server for every test (an instance extension: started before, stopped after each). */
    @RegisterExtension
    final WireMockExtension wm = WireMockExtension.newInstance().options(options().dynamicPort()).build();
    HttpServerClient client;

    @BeforeEach
    void setUp() {
        client = new HttpServerClient(URI.create(wm.baseUrl()), "tok-dialect-1", Duration.ofSeconds(5), Duration.ofSeconds(5), Clock.systemUTC());
    }


    private List<JsonNode> heartbeats() {
        return wm.findAll(postRequestedFor(urlEqualTo("/api/runners/r/heartbeat"))).stream().map(Requests::body).toList();
    }

    @Test
    void shouldSendADrainAsBusyPlusDrainingAndNothingButTheThreeStatuses() throws Exception {
        wm.stubFor(post("/api/runners/r/heartbeat").willReturn(okJson("{}")));
        client.heartbeat("r", Heartbeat.draining(1, 2, List.of("t1")));
        client.heartbeat("r", new Heartbeat(RunnerStatus.ONLINE, true, 0, 2, List.of()));
        client.heartbeat("r", new Heartbeat(RunnerStatus.ONLINE, 0, 2, List.of()));
        List<JsonNode> sent = heartbeats();
        assertEquals("busy", sent.get(0).get("status").asText());
        assertTrue(sent.get(0).get("draining").asBoolean());
        assertEquals("busy", sent.get(1).get("status").asText(), "draining is never online");
        assertEquals("online", sent.get(2).get("status").asText());
        assertFalse(sent.get(2).get("draining").asBoolean());
        assertEquals("draining", Heartbeat.draining(0, 1, List.of()).healthStatus(), "/health keeps draining as its own state");
    }

    @Test
    void shouldResendARefusedHeartbeatInTheMinimalFormAndKeepThatForm() throws Exception {
        // a strict server: any field besides status is a 400
        wm.stubFor(post("/api/runners/r/heartbeat").withRequestBody(matchingJsonPath("$.runningTaskIds"))
                .willReturn(aResponse().withStatus(400).withBody("{\"error\":{\"title\":\"Bad Request\",\"detail\":\"unknown field runningTaskIds\"}}")));
        wm.stubFor(post("/api/runners/r/heartbeat").withRequestBody(equalToJson("{\"status\":\"busy\"}"))
                .willReturn(okJson("{\"data\":{\"cancelTaskIds\":[\"t1\"]}}")));
        HeartbeatAnswer a = client.heartbeat("r", new Heartbeat(RunnerStatus.BUSY, 1, 1, List.of("t1")));
        assertEquals(List.of("t1"), a.cancelTaskIds(), "the retried beat's answer counts");
        client.heartbeat("r", Heartbeat.draining(1, 1, List.of("t1")));
        List<JsonNode> sent = heartbeats();
        assertEquals(3, sent.size(), "one refused full beat, then only minimal ones: " + sent);
        assertTrue(sent.get(0).has("runningTaskIds"));
        assertEquals(Json.mapper().readTree("{\"status\":\"busy\"}"), sent.get(1));
        assertEquals(Json.mapper().readTree("{\"status\":\"busy\"}"), sent.get(2));
    }

    @Test
    void shouldSendLimitWithMaxTasksAndFallBackToTheDocumentedParametersOnA400() throws Exception {
        wm.stubFor(get(urlPathEqualTo("/api/runners/tasks/pending")).withQueryParam("maxTasks", matching(".*"))
                .willReturn(aResponse().withStatus(400).withBody("{\"error\":{\"title\":\"Bad Request\",\"detail\":\"unknown parameter maxTasks\"}}")));
        wm.stubFor(get(urlPathEqualTo("/api/runners/tasks/pending")).withQueryParam("limit", equalTo("3"))
                .withQueryParam("maxTasks", absent()).withQueryParam("waitMs", absent())
                .willReturn(okJson("{\"data\":[]}")));
        assertEquals(List.of(), client.poll("r", 3, Duration.ofMillis(500)));
        assertEquals(List.of(), client.poll("r", 3, Duration.ofMillis(500)));
        List<LoggedRequest> polls = wm.findAll(getRequestedFor(urlPathEqualTo("/api/runners/tasks/pending")));
        assertEquals(3, polls.size());
        assertEquals("3", polls.get(0).queryParameter("limit").firstValue());
        assertEquals("3", polls.get(0).queryParameter("maxTasks").firstValue());
        assertFalse(polls.get(2).queryParameter("maxTasks").isPresent(), "the documented form is kept");
        assertEquals("r", polls.get(2).queryParameter("runnerId").firstValue());
    }

    @Test
    void shouldPassOnA400ThatTheMinimalFormGetsToo() {
        wm.stubFor(post("/api/runners/r/heartbeat").willReturn(aResponse().withStatus(400)));
        ServerException e = assertThrows(ServerException.class, () -> client.heartbeat("r", new Heartbeat(RunnerStatus.ONLINE, 0, 1, List.of())));
        assertEquals(ErrorClass.BAD_REQUEST, e.errorClass());
        assertEquals(2, heartbeats().size(), "the full form, then the minimal one; no loop");
    }

    @Test
    void shouldTellAnUnknownRunnerFromAnUnknownTaskOnA404ToATaskCall() {
        wm.stubFor(post("/api/runners/tasks/t1/result").willReturn(aResponse().withStatus(404)
                .withBody("{\"error\":{\"title\":\"Not Found\",\"status\":404,\"detail\":\"unknown runner r; register first\"}}")));
        wm.stubFor(post("/api/runners/tasks/t2/result").willReturn(aResponse().withStatus(404)
                .withBody("{\"error\":{\"title\":\"Not Found\",\"status\":404,\"detail\":\"unknown task t2\"}}")));
        wm.stubFor(post("/api/runners/tasks/t3/result").willReturn(aResponse().withStatus(404)));
        TaskResult r = TaskResult.failure(ErrorKind.TIMEOUT, "x");
        assertEquals(ErrorClass.REREGISTER, assertThrows(ServerException.class, () -> client.result("r", "t1", r)).errorClass());
        assertEquals(ErrorClass.TASK_GONE, assertThrows(ServerException.class, () -> client.result("r", "t2", r)).errorClass());
        assertEquals(ErrorClass.TASK_GONE, assertThrows(ServerException.class, () -> client.result("r", "t3", r)).errorClass());
    }
}
