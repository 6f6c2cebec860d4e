package dev.aireview.runner.e2e;

import dev.aireview.runner.devserver.RunnerSnapshot;
import dev.aireview.runner.devserver.TaskSnapshot;
import dev.aireview.runner.docker.DockerTestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Two runners with two slots each share forty reviews: each is done exactly once and no runner exceeds its slots. */
class ManyRunnersIT {
    @RegisterExtension
    static final E2eFixture fixture = E2eFixture.withTestImage(Duration.ofSeconds(10));

    @Test
    void fortyTasksOnTwoRunnersAreEachCompletedExactlyOnceWithinTheSlots() throws Exception {
        String a = DockerTestSupport.runnerName("many-a");
        String b = DockerTestSupport.runnerName("many-b");
        Map<String, String> envB = E2e.env(fixture.server(), b, DockerTestSupport.IMAGE, 2);
        envB.put("DOCKER_POOL_SIZE", "1"); // one runner starts from pre-warmed containers, the other cold
        List<String> ids = new ArrayList<>();
        try (var runnerA = E2e.inProcess(E2e.env(fixture.server(), a, DockerTestSupport.IMAGE, 2));
             var runnerB = E2e.inProcess(envB)) {
            for (int i = 0; i < 40; i++) {
                ids.add(fixture.server().enqueue(E2e.task(fixture.git(), null).build()));
            }
            Map<String, Integer> perRunner = new HashMap<>();
            for (String id : ids) {
                TaskSnapshot t = fixture.server().awaitTerminal(id, Duration.ofMinutes(4));
                assertEquals("completed", t.resultStatus(), id + ": " + t.errorKind() + " " + t.errorMessage() + "\n" + E2e.logText(t));
                assertEquals(1, t.claimCount(), id + " claims");
                assertEquals(1, t.resultCalls(), id + " result calls");
                assertEquals(0, t.requeues(), id + " re-queues");
                assertEquals(0, t.secretLeaks(), id + " secret leaks");
                assertTrue(t.summary().startsWith("head=" + fixture.git().head()), id + " reviewed the head commit: " + t.summary());
                assertTrue(Set.of(a, b).contains(t.runnerId()), t.runnerId());
                perRunner.merge(t.runnerId(), 1, Integer::sum);
            }
            assertEquals(40, perRunner.values().stream().mapToInt(Integer::intValue).sum());
            assertEquals(Set.of(a, b), perRunner.keySet(), "both runners served tasks: " + perRunner);
            for (String r : List.of(a, b)) {
                RunnerSnapshot s = fixture.server().runner(r).orElseThrow();
                assertTrue(s.maxClaimed() <= 2, r + " held " + s.maxClaimed() + " tasks at once");
                assertTrue(s.maxActiveJobs() <= 2, r + " reported " + s.maxActiveJobs() + " active jobs");
                assertTrue(s.maxClaimed() >= 1 && s.results() == perRunner.get(r), r + ": " + s);
            }
        }
        assertEquals(List.of(), DockerTestSupport.leftovers(), "runners stopped: nothing of theirs is left");
    }
}
