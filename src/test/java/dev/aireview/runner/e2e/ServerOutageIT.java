package dev.aireview.runner.e2e;

import dev.aireview.runner.devserver.TaskSnapshot;
import dev.aireview.runner.docker.DockerTestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server goes away while reviews run: the runners finish them anyway and deliver every result, once, when it is
 * back; tasks enqueued during the outage are served afterwards.
 */
class ServerOutageIT {
    @RegisterExtension
    static final E2eFixture fixture = E2eFixture.withTestImage(Duration.ofSeconds(10));

    @Test
    void runnersFinishTheirReviewsDuringAnOutageAndDeliverEachResultOnceWhenTheServerReturns() throws Exception {
        String a = DockerTestSupport.runnerName("outage-a");
        String b = DockerTestSupport.runnerName("outage-b");
        try (var runnerA = E2e.inProcess(E2e.env(fixture.server(), a, DockerTestSupport.IMAGE, 2));
             var runnerB = E2e.inProcess(E2e.env(fixture.server(), b, DockerTestSupport.IMAGE, 2))) {
            List<String> running = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                running.add(fixture.server().enqueue(E2e.task(fixture.git(), "slow").build()));
            }
            for (String id : running) {
                fixture.server().awaitTask(id, t -> "reviewing".equals(t.phase()), Duration.ofSeconds(60));
            }

            fixture.server().suspend();
            List<String> later = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                later.add(fixture.server().enqueue(E2e.task(fixture.git(), null).build()));
            }
            // The reviews end while the server is away: containers and workspaces of both runners go.
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() ->
                    DockerTestSupport.containersOfRunner(a).isEmpty() && DockerTestSupport.containersOfRunner(b).isEmpty()
                            && E2e.workspacesOf(a).isEmpty() && E2e.workspacesOf(b).isEmpty());
            assertFalse(runnerA.daemon().isTerminated() || runnerB.daemon().isTerminated(), "runners keep running");
            for (String id : running) {
                assertFalse(fixture.server().task(id).terminal(), id + " has no result while the server is down");
            }
            Instant resumed = Instant.now();
            fixture.server().resume();

            List<String> all = new ArrayList<>(running);
            all.addAll(later);
            for (String id : all) {
                TaskSnapshot t = fixture.server().awaitTerminal(id, Duration.ofSeconds(120));
                assertEquals("completed", t.resultStatus(), id + ": " + t.errorKind() + " " + t.errorMessage() + "\n" + E2e.logText(t));
                assertEquals(1, t.claimCount(), id + " claims");
                assertEquals(1, t.resultCalls(), id + ": exactly one result call reached the server");
                assertEquals(0, t.requeues(), id + " re-queues");
                assertEquals(0, t.secretLeaks(), id + " secret leaks");
            }
            for (String id : running) {
                assertFalse(fixture.server().task(id).finishedAt().isBefore(resumed), id + " result delivered after the server came back");
                assertTrue(List.of(a, b).contains(fixture.server().task(id).runnerId()));
            }
            for (String r : List.of(a, b)) {
                assertTrue(fixture.server().runner(r).orElseThrow().online(), r + " online again");
                assertEquals(0, fixture.server().runner(r).orElseThrow().timeouts(), r + " never timed out");
            }
        }
    }
}
