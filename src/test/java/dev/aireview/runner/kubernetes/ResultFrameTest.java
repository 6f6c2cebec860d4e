package dev.aireview.runner.kubernetes;

import dev.aireview.runner.model.ResultStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The report container's script, run here by sh on hostile files, and the runner's parse of what it prints. */
class ResultFrameTest {
    static final String JSON = "{\"status\":\"completed\",\"comments\":[],\"summary\":\"ok \\u00e9\"}";
    static final long LIMIT = 4096;

    @TempDir
    Path dir;

    /** Runs {@link ResultFrame#SCRIPT} with {@code file} as result.json; its stdout. */
    String report(Path file) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("sh", "-c", ResultFrame.SCRIPT).redirectErrorStream(false);
        pb.environment().put("AI_REVIEW_RESULT_FILE", file.toString());
        pb.environment().put(ResultFrame.LIMIT_ENV, Long.toString(LIMIT));
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    @Test
    void aRegularFileRoundTrips() throws Exception {
        Path f = Files.writeString(dir.resolve("result.json"), JSON);
        ResultFrame.Read r = ResultFrame.parse(report(f), LIMIT);
        assertNull(r.problem());
        assertEquals(ResultStatus.COMPLETED, r.result().status());
        assertEquals("ok \u00e9", r.result().summary());
    }

    @Test
    void aMissingFileIsNamed() throws Exception {
        assertTrue(ResultFrame.parse(report(dir.resolve("result.json")), LIMIT).problem().contains("no result file"));
    }

    @Test
    void aSymlinkIsNotFollowed() throws Exception {
        Path target = Files.writeString(dir.resolve("elsewhere"), JSON);
        Path link = Files.createSymbolicLink(dir.resolve("result.json"), target);
        String problem = ResultFrame.parse(report(link), LIMIT).problem();
        assertTrue(problem.contains("not a regular file") && problem.contains("symbolic link"), problem);
    }

    @Test
    void aFifoIsNotOpened() throws Exception {
        Path fifo = dir.resolve("result.json");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        String problem = ResultFrame.parse(report(fifo), LIMIT).problem();
        assertTrue(problem.contains("not a regular file"), problem);
    }

    @Test
    void aFileOverTheCapIsNotRead() throws Exception {
        Path f = Files.writeString(dir.resolve("result.json"), "x".repeat((int) LIMIT + 1));
        String problem = ResultFrame.parse(report(f), LIMIT).problem();
        assertTrue(problem.contains("larger than DOCKER_RESULT_LIMIT_BYTES") && problem.contains("4097"), problem);
    }

    @Test
    void notJsonIsNamed() throws Exception {
        Path f = Files.writeString(dir.resolve("result.json"), "{not json");
        assertTrue(ResultFrame.parse(report(f), LIMIT).problem().contains("not valid JSON"));
    }

    @Test
    void hostileFramesAreRefused() {
        byte[] b = JSON.getBytes(StandardCharsets.UTF_8);
        String b64 = Base64.getEncoder().encodeToString(b);
        String sha = ResultFrame.sha256(b);
        assertTrue(ResultFrame.parse("", LIMIT).problem().contains("printed nothing"));
        assertTrue(ResultFrame.parse("{\"status\":\"completed\"}\n", LIMIT).problem().contains("not a result frame"));
        assertTrue(ResultFrame.parse("ai-review-result ok " + b.length + " " + sha + "\n", LIMIT).problem().contains("carries 0 bytes"));
        assertTrue(ResultFrame.parse("ai-review-result ok " + (b.length + 1) + " " + sha + "\n" + b64 + "\n", LIMIT).problem().contains("header says"));
        assertTrue(ResultFrame.parse("ai-review-result ok 99999999 " + sha + "\n" + b64 + "\n", LIMIT).problem().contains("outside"));
        assertTrue(ResultFrame.parse("ai-review-result ok " + b.length + " " + "a".repeat(64) + "\n" + b64 + "\n", LIMIT).problem().contains("SHA-256"));
        assertTrue(ResultFrame.parse("ai-review-result ok " + b.length + " " + sha + "\n%%%\n", LIMIT).problem().contains("not base64"));
        assertTrue(ResultFrame.parse("ai-review-result ok x " + sha + "\n" + b64 + "\n", LIMIT).problem().contains("not a number"));
        assertTrue(ResultFrame.parse("ai-review-result pwned\n", LIMIT).problem().contains("unknown state"));
        assertTrue(ResultFrame.parse("ai-review-result not-regular <script>\n", LIMIT).problem().contains("special file"));
        assertNull(ResultFrame.parse(ResultFrame.frame(b), LIMIT).problem());
    }
}
