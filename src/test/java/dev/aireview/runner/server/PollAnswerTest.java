package dev.aireview.runner.server;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
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

/** A poll answer is read task by task: one bad task gets its own failure, the others run (WireMock round trips). */
class PollAnswerTest {
    static final String SHA = "0123456789abcdef0123456789abcdef01234567";

    /** A fresh WireMock server for every test (an instance extension: started before, stopped after each). */
    @RegisterExtension
    final WireMockExtension wm = WireMockExtension.newInstance().options(options().dynamicPort()).build();
    HttpServerClient client;

    @BeforeEach
    void setUp() {
        client = new HttpServerClient(URI.create(wm.baseUrl()), "tok-poll-1", Duration.ofSeconds(10), Duration.ofSeconds(30), Clock.systemUTC());
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
    void shouldReadTheTasksAroundOneOverJacksonsStringLimitAndFailItByItsIdWhereverTheIdStands() throws Exception {
        String huge = "z".repeat(20_000_001);
        List<ClaimedTask> tasks = poll("{\"data\":[" + task("before-1", "") + ",{\"id\":\"huge-1\",\"prompt\":\"" + huge + "\"},"
                + task("middle-1", "") + ",{\"prompt\":\"" + huge + "\",\"repository\":{\"id\":\"not-this\"},\"taskId\":\"huge-2\"},"
                + task("after-1", "\"files\":[{\"path\":\"a.ts\",\"patch\":\"+ok\"}]") + "]}");
        assertEquals(List.of("before-1", "huge-1", "middle-1", "huge-2", "after-1"), tasks.stream().map(ClaimedTask::id).toList());
        for (String good : List.of("before-1", "middle-1", "after-1")) {
            assertFalse(byId(tasks, good).isBad(), good + ": " + byId(tasks, good).parseError());
        }
        assertEquals("+ok", byId(tasks, "after-1").task().files().get(0).patch(), "the task after the big ones is read whole");
        for (String bad : List.of("huge-1", "huge-2")) {
            ClaimedTask big = byId(tasks, bad);
            assertTrue(big.isBad(), bad);
            assertTrue(big.parseError().contains("task is larger than " + TaskListScanner.MAX_TASK_BYTES + " bytes"), big.parseError());
            assertTrue(big.parseError().contains("not read"), big.parseError());
            assertFalse(big.parseError().contains("zzzz"), "never the content");
        }
    }

    @Test
    void shouldFailOnlyTheTaskHoldingInvalidUtf8ByItsIdAndRunTheOthers() throws Exception {
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        body.writeBytes(("{\"data\":[" + task("before-1", "") + ",{\"id\":\"broken-1\",\"prompt\":\"caf").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        body.writeBytes(new byte[]{(byte) 0xC3, 'z', (byte) 0xFF});
        body.writeBytes(("\"}," + task("after-1", "\"files\":[{\"path\":\"a.ts\",\"patch\":\"+ok \u00e9\"}]") + "]}")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        wm.stubFor(get(urlPathEqualTo("/api/runners/tasks/pending")).willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "application/json").withBody(body.toByteArray())));
        List<ClaimedTask> tasks = client.poll("r", 5, Duration.ZERO);
        assertEquals(List.of("before-1", "broken-1", "after-1"), tasks.stream().map(ClaimedTask::id).toList());
        assertFalse(byId(tasks, "before-1").isBad(), byId(tasks, "before-1").parseError());
        assertTrue(byId(tasks, "broken-1").isBad(), "bad_task by its id");
        assertFalse(byId(tasks, "after-1").isBad(), "the task after it is read: " + byId(tasks, "after-1").parseError());
        assertEquals("+ok \u00e9", byId(tasks, "after-1").task().files().get(0).patch());
    }

    @Test
    void shouldSkipAnOversizedEntryWithoutAnIdAndReadTheRest() throws Exception {
        String huge = "q".repeat(TaskListScanner.MAX_TASK_BYTES + 1);
        List<ClaimedTask> tasks = poll("[" + task("first", "") + ",{\"prompt\":\"" + huge + "\",\"meta\":{\"id\":\"deep\"}},"
                + task("last", "") + "]");
        assertEquals(List.of("first", "last"), tasks.stream().map(ClaimedTask::id).toList(), "an id at depth 2 is not the entry's");
        assertTrue(tasks.stream().noneMatch(ClaimedTask::isBad));
    }

    @Test
    void shouldFailTasksPastTheAnswersBudgetByTheirIdsNotDropThem() throws Exception {
        String patch = "p".repeat(TaskListScanner.MAX_KEPT_BYTES / 2 + 100);
        String files = "\"files\":[{\"path\":\"a.ts\",\"patch\":\"" + patch + "\"}]";
        List<ClaimedTask> tasks = poll("[" + task("big-1", files) + "," + task("big-2", files) + "," + task("small", "") + "]");
        assertEquals(List.of("big-1", "big-2", "small"), tasks.stream().map(ClaimedTask::id).toList());
        assertFalse(byId(tasks, "big-1").isBad());
        assertTrue(byId(tasks, "big-2").isBad());
        assertTrue(byId(tasks, "big-2").parseError().contains("together"), byId(tasks, "big-2").parseError());
        assertFalse(byId(tasks, "small").isBad(), "a small task still fits");
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
