package dev.aireview.runner.e2e;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aireview.runner.devserver.NewTask;
import dev.aireview.runner.devserver.TaskSnapshot;
import dev.aireview.runner.docker.DockerTestSupport;
import dev.aireview.runner.model.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One runner serves through a series of bad inputs — a task with missing fields, an unreachable repository, its
 * executor image gone — each ends as a failed result naming the problem, and a normal review afterwards completes.
 */
class BadInputsIT {
    @RegisterExtension
    static final E2eFixture fixture = E2eFixture.withTestImage(Duration.ofSeconds(10));

    /** The runner's image: a second tag of the test image that the test removes and restores. */
    private static final String IMAGE = "ai-review-test/executor:e2e-" + UUID.randomUUID().toString().substring(0, 8);

    @BeforeAll
    static void setUp() throws Exception {
        tagImage();
    }

    @AfterAll
    static void tearDown() throws Exception {
        try {
            DockerTestSupport.docker().removeImageCmd(IMAGE).exec();
        } catch (RuntimeException ignored) {
            // not tagged (a failed test in between)
        }
    }

    private static void tagImage() {
        int colon = IMAGE.lastIndexOf(':');
        DockerTestSupport.docker().tagImageCmd(DockerTestSupport.IMAGE, IMAGE.substring(0, colon), IMAGE.substring(colon + 1)).exec();
    }

    @Test
    void eachBadInputFailsItsTaskNamingTheProblemAndTheRunnerKeepsServing() throws Exception {
        String name = DockerTestSupport.runnerName("bad");
        try (var runner = E2e.inProcess(E2e.env(fixture.server(), name, IMAGE, 1))) {
            // 1. Missing fields: no repository, no headSha and no branch, exactly as the runner receives it.
            ObjectNode raw = Json.mapper().createObjectNode();
            raw.put("reviewId", "rev_raw");
            raw.put("prompt", "review this");
            String bad = fixture.server().enqueueRaw(raw);
            TaskSnapshot badTask = fixture.server().awaitTerminal(bad, Duration.ofSeconds(60));
            assertEquals("failed", badTask.resultStatus());
            assertEquals("bad_task", badTask.errorKind());
            assertTrue(badTask.errorMessage().contains("repository.url") && badTask.errorMessage().contains("headSha"),
                    "names the missing fields: " + badTask.errorMessage());
            assertEquals(1, badTask.resultCalls());

            // 2. A repository nobody serves (a closed port on loopback).
            int closedPort;
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                closedPort = s.getLocalPort();
            }
            String unreachable = fixture.server().enqueue(NewTask.forRepository("git://127.0.0.1:" + closedPort + "/shop.git")
                    .branch("feature/x").headSha(fixture.git().head()).build());
            TaskSnapshot cloneFailed = fixture.server().awaitTerminal(unreachable, Duration.ofSeconds(60));
            assertEquals("failed", cloneFailed.resultStatus(), E2e.logText(cloneFailed));
            assertEquals("clone_failed", cloneFailed.errorKind());
            assertTrue(cloneFailed.errorMessage() != null && !cloneFailed.errorMessage().isBlank(), "says why");
            // the result is sent before the clean-up (docs/docker-executor.md): wait for it to end
            org.awaitility.Awaitility.await("clone container removed").atMost(Duration.ofSeconds(60))
                    .until(() -> E2e.containersOfTask(name, unreachable).isEmpty());

            // 3. The executor image disappears after start.
            DockerTestSupport.docker().removeImageCmd(IMAGE).exec();
            String noImage = fixture.server().enqueue(E2e.task(fixture.git(), null).build());
            TaskSnapshot imageMissing = fixture.server().awaitTerminal(noImage, Duration.ofSeconds(60));
            assertEquals("failed", imageMissing.resultStatus(), E2e.logText(imageMissing));
            assertEquals("image_missing", imageMissing.errorKind(), imageMissing.errorMessage());
            assertTrue(imageMissing.errorMessage().contains(IMAGE), "names the image: " + imageMissing.errorMessage());
            tagImage();

            // 4. The same runner still serves a normal review.
            String ok = fixture.server().enqueue(E2e.task(fixture.git(), null).build());
            TaskSnapshot done = fixture.server().awaitTerminal(ok, Duration.ofSeconds(60));
            assertEquals("completed", done.resultStatus(), done.errorKind() + " " + done.errorMessage() + "\n" + E2e.logText(done));
            assertEquals(name, done.runnerId());
            for (String id : java.util.List.of(bad, unreachable, noImage, ok)) {
                TaskSnapshot t = fixture.server().task(id);
                assertEquals(1, t.claimCount(), id);
                assertEquals(0, t.secretLeaks(), id);
                assertEquals(name, t.runnerId(), id);
            }
            assertTrue(fixture.server().runner(name).orElseThrow().online());
        }
    }
}
