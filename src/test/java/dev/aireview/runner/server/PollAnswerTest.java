package dev.aireview.runner.server;

import com.github.tomakehurst.wiremock.WireMockServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

import static com.github.tomakehurst.wiremock.client.WireMock.*;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.junit.jupiter.api.Assertions.*;

/** A poll answer is read task by task: one bad task gets its own failure, the others run (WireMock round trips). */
class PollAnswerTest {
    static final String SHA = "0123456789abcdef0123456789abcdef01234567";

    WireMockServer wm;
    HttpServerClient client;

    @BeforeEach
    void setUp() {
        wm = new WireMockServer(options().dynamicPort());
        wm.start();
        client = new HttpServerClient(URI.create(wm.baseUrl()), "tok-poll-1", Duration.ofSeconds(10), Duration.ofSeconds(30), Clock.systemUTC());
    }

    @AfterEach
    void tearDown() {
        wm.stop();
    }

    static String task(String id, String extra) {
        return "{\"id\":\"" + id + "\",\"repository\":{\"url\":\"https://git.example/a/b.git\"},\"headSha\":\"" + SHA + "\""
                + (extra.isEmpty() ? "" : "," + extra) + "}";
    }

    private List<ClaimedTask> poll(String body) throws Exception {
        wm.stubFor(get(urlPathEqualTo("/api/runners/tasks/pending")).willReturn(okJson(body)));
        return client.poll("r", 5, Duration.ZERO);
    }

    private static ClaimedTask byId(List<ClaimedTask> tasks, String id) {
        return tasks.stream().filter(t -> t.id().equals(id)).findFirst().orElseThrow(() -> new AssertionError("no " + id + " in " + tasks));
    }

    @Test
    void shouldClaimTheGoodTasksAndReportEachBadOneWithItsOwnError() throws Exception {
        List<ClaimedTask> tasks = poll("{\"data\":[" + task("good-1", "")
                + "," + task("types-1", "\"files\":\"nope\",\"timeoutSeconds\":\"soon\"")
                + ",{\"repository\":{\"url\":\"https://git.example/x.git\"},\"secret\":\"hunter2\"}"
                + ",\"just-a-string\""
                + "," + task("good-2", "\"files\":[{\"path\":\"a.ts\",\"patch\":\"" + "y".repeat(12 << 20) + "\"}]")
                + "]}");
        assertEquals(List.of("good-1", "types-1", "good-2"), tasks.stream().map(ClaimedTask::id).toList(),
                "entries without an id are skipped, every other one is claimed");
        assertFalse(byId(tasks, "good-1").isBad());
        ClaimedTask types = byId(tasks, "types-1");
        assertTrue(types.isBad());
        assertTrue(types.parseError().contains("'files' is not a list"), types.parseError());
        assertTrue(types.parseError().contains("'timeoutSeconds' is not a number"), types.parseError());
        ClaimedTask big = byId(tasks, "good-2");
        assertFalse(big.isBad(), "a 12 MiB field is read: " + big.parseError());
        assertEquals(12 << 20, big.task().files().get(0).patch().length());
    }

    @Test
    void shouldKeepTheTasksBeforeAnAnswerCutOffAtTheCapAndFailTheOneItCutThrough() throws Exception {
        String huge = "z".repeat(ServerCall.POLL.maxBodyBytes());
        List<ClaimedTask> tasks = poll("[" + task("before-1", "") + ",{\"id\":\"huge-1\",\"prompt\":\"" + huge + "\"}," + task("after-1", "") + "]");
        assertEquals(List.of("before-1", "huge-1"), tasks.stream().map(ClaimedTask::id).toList());
        assertFalse(tasks.get(0).isBad());
        ClaimedTask cut = tasks.get(1);
        assertTrue(cut.isBad());
        assertTrue(cut.parseError().contains("larger than 16 MiB"), cut.parseError());
        assertFalse(cut.parseError().contains("zzzz"), "never the content");
    }

    @Test
    void shouldClampATimeoutAbove2To31AndRefuseZeroOrNegativeOnes() throws Exception {
        List<ClaimedTask> tasks = poll("[" + task("t-big", "\"timeoutSeconds\":4294967296") + ","
                + task("t-huge", "\"timeoutSeconds\":1e30") + "," + task("t-frac", "\"timeoutSeconds\":\"1.5\"") + ","
                + task("t-zero", "\"timeoutSeconds\":0") + "," + task("t-neg", "\"timeoutSeconds\":-4294967296") + "]");
        assertEquals(Integer.MAX_VALUE, byId(tasks, "t-big").task().timeoutSeconds(), "clamped, not wrapped to 0");
        assertEquals(Integer.MAX_VALUE, byId(tasks, "t-huge").task().timeoutSeconds());
        assertEquals(2, byId(tasks, "t-frac").task().timeoutSeconds(), "rounded up to whole seconds");
        assertTrue(byId(tasks, "t-zero").isBad());
        assertTrue(byId(tasks, "t-zero").parseError().contains("must be positive"), byId(tasks, "t-zero").parseError());
        assertTrue(byId(tasks, "t-neg").isBad(), "-2^32 must not wrap to 0 or a positive value");
    }

    @Test
    void shouldReadEmptyAndOtherShapesOfAnswer() throws Exception {
        assertEquals(List.of(), poll("{\"data\":null}"));
        assertEquals(List.of(), poll("{\"data\":{},\"meta\":{\"x\":1}}"));
        assertEquals(List.of("one"), poll("{\"meta\":{},\"data\":" + task("one", "") + "}").stream().map(ClaimedTask::id).toList());
        assertEquals(List.of("in-items"), poll("{\"data\":{\"items\":[" + task("in-items", "") + "]}}").stream().map(ClaimedTask::id).toList());
    }

    @Test
    void shouldKeepCompleteTasksOfAnAnswerThatBreaksOffAndRetryOneThatIsNoJsonAtAll() throws Exception {
        List<ClaimedTask> tasks = poll("{\"data\":[" + task("whole-1", "") + ",{\"id\":\"broken-1\",\"headSha\":\"" + SHA + "\",\"files\":[{\"path\":");
        assertEquals(List.of("whole-1", "broken-1"), tasks.stream().map(ClaimedTask::id).toList());
        assertTrue(tasks.get(1).isBad());
        assertTrue(tasks.get(1).parseError().contains("ends early"), tasks.get(1).parseError());

        wm.stubFor(get(urlPathEqualTo("/api/runners/tasks/pending")).willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "text/html").withBody("<!DOCTYPE html><html><body>502 Bad Gateway</body></html>")));
        ServerException e = assertThrows(ServerException.class, () -> client.poll("r", 1, Duration.ZERO));
        assertEquals(ErrorClass.RETRYABLE, e.errorClass());
    }
}
