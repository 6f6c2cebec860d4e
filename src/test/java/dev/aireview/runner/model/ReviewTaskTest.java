package dev.aireview.runner.model;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class ReviewTaskTest {

    private static JsonNode json(String s) throws Exception {
        return Json.mapper().readTree(s);
    }

    @Test
    void shouldReadCamelCaseTaskWithSecrets() throws Exception {
        ReviewTask task = ReviewTask.fromJson(json("""
                {"id":"t1","reviewId":"r1","repository":{"url":"https://git.example/a/b.git","fullName":"a/b","cloneToken":"ghs_secret"},
                 "branch":"main","headSha":"0123456789abcdef0123456789abcdef01234567",
                 "files":[{"path":"x.ts","status":"modified","additions":1,"deletions":0,"patch":"@@ -1 +1 @@"}],
                 "ai":{"provider":"openai","baseUrl":"http://127.0.0.1:1/v1","model":"m","apiKey":"sk-123","temperature":0.2,"maxTokens":100},
                 "rules":["r1"],"timeoutSeconds":60,"unknownField":true}"""));
        assertEquals("t1", task.id());
        assertEquals("ghs_secret", task.repository().cloneToken());
        assertEquals(1, task.files().size());
        assertEquals(60, task.timeoutSeconds());
        assertEquals(java.util.List.of("ghs_secret", "sk-123"), task.secrets());
        assertFalse(task.toString().contains("ghs_secret"), task.toString());
        assertFalse(task.toString().contains("sk-123"), task.toString());
        assertFalse(task.toContainerJson().toString().contains("ghs_secret"));
        assertEquals(task.headSha(), ReviewTask.fromJson(task.toContainerJson()).headSha());
    }

    @Test
    void shouldReadSnakeCaseAndTaskIdAlias() throws Exception {
        ReviewTask task = ReviewTask.fromJson(json("""
                {"task_id":"t2","repository":{"url":"file:///repo","clone_token":"tok"},"head_sha":"abcdef1","base_sha":"1234567"}"""));
        assertEquals("t2", task.id());
        assertEquals("tok", task.repository().cloneToken());
        assertEquals("1234567", task.baseSha());
    }

    @Test
    void shouldNameEveryMissingField() {
        BadTaskException e = assertThrows(BadTaskException.class,
                () -> ReviewTask.fromJson(json("{\"id\":\"t3\",\"headSha\":\"--upload-pack=evil\"}")));
        assertTrue(e.getMessage().contains("repository.url"), e.getMessage());
        assertTrue(e.getMessage().contains("headSha"), e.getMessage());
        assertTrue(e.getMessage().contains("t3"), e.getMessage());
    }

    @Test
    void shouldMapResultStatusFromErrorKind() throws Exception {
        assertEquals(ResultStatus.TIMED_OUT, TaskResult.failure(ErrorKind.TIMEOUT, "x").status());
        assertEquals(ResultStatus.CANCELLED, TaskResult.failure(ErrorKind.RUNNER_SHUTDOWN, "x").status());
        String wire = Json.mapper().writeValueAsString(TaskResult.failure(ErrorKind.OOM_KILLED, "oom"));
        assertTrue(wire.contains("\"status\":\"failed\""), wire);
        assertTrue(wire.contains("\"kind\":\"oom_killed\""), wire);
        TaskResult back = Json.mapper().readValue("{\"status\":\"completed\",\"summary\":\"s\",\"comments\":[{\"file\":\"a\",\"line\":3,\"end_line\":4,\"severity\":\"critical\",\"body\":\"m\"}]}", TaskResult.class);
        assertEquals(Severity.ERROR, back.comments().get(0).severity());
        assertEquals(4, back.comments().get(0).endLine());
    }

    @Test
    void shouldTreatCredentialsInTheRepositoryUrlAsSecrets() throws Exception {
        ReviewTask task = ReviewTask.fromJson(json("""
                {"id":"t4","repository":{"url":"https://ci-bot:s3cr%40t-pass@git.example/a/b.git"},"headSha":"abcdef1"}"""));
        assertTrue(task.secrets().contains("s3cr@t-pass"), task.secrets().toString());
        assertTrue(task.secrets().contains("ci-bot:s3cr%40t-pass"), task.secrets().toString());
        ReviewTask plain = ReviewTask.fromJson(json("""
                {"id":"t5","repository":{"url":"https://git.example/a/b.git"},"headSha":"abcdef1"}"""));
        assertEquals(java.util.List.of(), plain.secrets());
    }

    @Test
    void shouldRefuseCredentialsWithARawAtSignWithoutEchoingThem() {
        BadTaskException e = assertThrows(BadTaskException.class, () -> ReviewTask.fromJson(json("""
                {"id":"t9","repository":{"url":"https://us_er:Secr3t@Pass99@host.example/repo.git"},"headSha":"abcdef1"}""")));
        assertTrue(e.getMessage().contains("raw '@'"), e.getMessage());
        assertTrue(e.getMessage().startsWith("bad task t9: "), e.getMessage());
        assertFalse(e.getMessage().contains("Pass99") || e.getMessage().contains("Secr3t"), e.getMessage());
    }

    @Test
    void shouldRefuseAnIdWithControlCharactersNamingItEscaped() {
        BadTaskException e = assertThrows(BadTaskException.class, () -> ReviewTask.fromJson(json("""
                {"id":"t10\\nINFO result delivered\\r","repository":"file:///repo","headSha":"abcdef1"}""")));
        assertTrue(e.getMessage().startsWith("bad task t10\\nINFO result delivered\\r: "), e.getMessage());
        assertTrue(e.getMessage().contains("control characters"), e.getMessage());
        assertFalse(e.getMessage().contains("\n") || e.getMessage().contains("\r"), e.getMessage());
    }
}
