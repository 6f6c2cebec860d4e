package dev.aireview.runner.e2e;

import dev.aireview.runner.devserver.TaskSnapshot;
import dev.aireview.runner.docker.DockerTestSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 13, masking with no gaps, through the whole stack (container → log pump → task log → masking boundary →
 * server): a review image prints the AI key at every byte offset around the 16 KiB line cut, behind multi-byte
 * characters and base64-encoded at each alignment; not a piece of it reaches the server or the runner's log.
 */
class MaskingIT {
    static final String IMAGE = dev.aireview.runner.testsupport.CheckoutTag.image("ai-review-test/masking:test");

    @RegisterExtension
    static final E2eFixture fixture = E2eFixture.withoutTestImage(Duration.ofSeconds(10));

    private static E2e.RunnerProcess runner;

    @BeforeAll
    static void setUp() throws Exception {
        File dir = new File(MaskingIT.class.getResource("/docker/masking-executor/Dockerfile").getFile()).getParentFile();
        DockerTestSupport.docker().buildImageCmd(dir).withTags(Set.of(IMAGE)).withLabels(Map.of("ai-review.managed", "true"))
                .withPull(false).start().awaitImageId();
        String name = DockerTestSupport.runnerName("masking");
        runner = E2e.process(E2e.env(fixture.server(), name, IMAGE, 1));
        fixture.server().awaitRunners(rs -> rs.stream().anyMatch(r -> r.id().equals(name) && r.online()), Duration.ofSeconds(60));
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (runner != null) {
            assertEquals(0, runner.terminate(), runner.output());
            runner.close();
        }
    }

    /** Every piece of {@code key} long enough to mean something, and the secret-only part of each base64 form. */
    private static List<String> fragments(String key) {
        List<String> out = new ArrayList<>();
        for (int n = 6; n <= key.length(); n++) {
            for (int i = 0; i + n <= key.length(); i++) {
                out.add(key.substring(i, i + n));
            }
        }
        for (String prefix : List.of("", "x", "xx", ":", "x:", "xx:")) {
            String b64 = Base64.getEncoder().encodeToString((prefix + key).getBytes(StandardCharsets.UTF_8));
            out.add(b64.substring(4, b64.length() - 4));
        }
        return out;
    }

    @Test
    void theKeyCutAtAnyOffsetOrEncodedAtAnyAlignmentNeverLeavesTheRunner() throws Exception {
        String key = "sk-MASK/9XqZ7+TmW3Rv-" + UUID.randomUUID().toString().substring(0, 8).toUpperCase();
        String id = fixture.server().enqueue(E2e.task(fixture.git(), null)
                .ai("openai", "http://127.0.0.1:9/v1", "review-model", key).build());
        TaskSnapshot t = fixture.server().awaitTerminal(id, Duration.ofSeconds(120));
        String logs = E2e.logText(t);

        assertEquals("completed", t.resultStatus(), t.errorKind() + " " + t.errorMessage());
        assertTrue(t.logs().size() > 60, "every leaking line arrived: " + t.logs().size());
        assertTrue(logs.contains("Authorization: Basic ****"), "the base64 lines arrived masked");
        assertEquals(0, t.secretLeaks());
        String result = String.valueOf(t.result());
        String out = runner.output();
        for (String fragment : fragments(key)) {
            assertFalse(logs.contains(fragment), () -> "log carries '" + fragment + "' in: "
                    + t.logs().stream().filter(l -> l.text().contains(fragment)).map(l -> l.text().substring(Math.max(0, l.text().indexOf(fragment) - 40))).toList());
            assertFalse(result.contains(fragment), "result carries " + fragment + ": " + result);
            assertFalse(out.contains(fragment), "runner log carries " + fragment);
        }
    }
}
