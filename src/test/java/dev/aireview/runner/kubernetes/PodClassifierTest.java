package dev.aireview.runner.kubernetes;

import dev.aireview.runner.model.ErrorKind;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static dev.aireview.runner.kubernetes.KubeletScript.podFailed;
import static dev.aireview.runner.kubernetes.KubeletScript.running;
import static dev.aireview.runner.kubernetes.KubeletScript.status;
import static dev.aireview.runner.kubernetes.KubeletScript.terminated;
import static dev.aireview.runner.kubernetes.KubeletScript.unschedulable;
import static dev.aireview.runner.kubernetes.KubeletScript.waiting;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The classifier table: every row of docs/kubernetes.md "Failure classification". */
class PodClassifierTest {
    static final Instant CREATED = Instant.parse("2026-01-01T00:00:00Z");
    static final Instant EARLY = CREATED.plusSeconds(5);
    static final Instant LATE = CREATED.plusSeconds(301);
    final PodClassifier classifier = new PodClassifier(Duration.ofSeconds(300));

    PodVerdict at(PodStatus s, Instant now) {
        return classifier.classify(new PodBuilder().withNewMetadata().withName("p").endMetadata().withStatus(s).build(), CREATED, now);
    }

    static List<ContainerStatus> l(ContainerStatus... c) {
        return List.of(c);
    }

    void fails(ErrorKind kind, PodStatus s, Instant now, String words) {
        PodVerdict v = at(s, now);
        assertEquals(PodVerdict.Step.FAILED, v.step(), String.valueOf(v));
        assertEquals(kind, v.error(), String.valueOf(v));
        if (words != null) {
            assertTrue(v.message().contains(words), v.message());
        }
    }

    @Test
    void steps() {
        assertEquals(PodVerdict.Step.PENDING, at(null, EARLY).step());
        assertEquals(PodVerdict.Step.PENDING, at(status("Pending", l(), l()), EARLY).step());
        assertEquals(PodVerdict.Step.CLONING, at(status("Pending", l(running("clone")), l()), EARLY).step());
        assertEquals(PodVerdict.Step.REVIEWING, at(status("Pending", l(terminated("clone", 0, null), running("review")), l()), EARLY).step());
        assertEquals(PodVerdict.Step.REPORTING, at(status("Running", l(terminated("clone", 0, null), terminated("review", 0, null)),
                l(running("report"))), EARLY).step());
        PodVerdict done = at(status("Succeeded", l(terminated("clone", 0, null), terminated("review", 0, null)),
                l(terminated("report", 0, "Completed"))), EARLY);
        assertEquals(PodVerdict.Step.DONE, done.step());
        assertEquals(0, done.exitCode());
    }

    @Test
    void oomByReasonWhateverTheExitCode() {
        for (int exit : new int[]{0, 137, 1}) {
            fails(ErrorKind.OOM_KILLED, status("Failed", l(terminated("clone", 0, null), terminated("review", exit, "OOMKilled")), l()), EARLY, "memory");
        }
        fails(ErrorKind.CLONE_FAILED, status("Failed", l(terminated("clone", 137, "OOMKilled")), l()), EARLY, "clone ran out of memory");
    }

    @Test
    void podLevelReasonsComeFirst() {
        PodStatus deadline = new PodStatusBuilder(podFailed("DeadlineExceeded", "too long"))
                .withInitContainerStatuses(terminated("clone", 0, null), terminated("review", 137, "Error")).build();
        fails(ErrorKind.TIMEOUT, deadline, EARLY, "activeDeadlineSeconds");
        fails(ErrorKind.DISK_LIMIT, podFailed("Evicted", "Pod ephemeral local storage usage exceeds the total limit of containers 2Gi."), EARLY, "exceeds");
        fails(ErrorKind.DISK_LIMIT, podFailed("Evicted", "Usage of EmptyDir volume \"workspace\" exceeds the limit \"2Gi\"."), EARLY, "EmptyDir");
        fails(ErrorKind.RUNNER_SHUTDOWN, podFailed("Evicted", "The node was low on resource: memory."), EARLY, "low on resource");
        fails(ErrorKind.RUNNER_SHUTDOWN, podFailed("NodeLost", "node gone"), EARLY, "NodeLost");
        fails(ErrorKind.RUNNER_SHUTDOWN, podFailed("Preempting", null), EARLY, "Preempting");
        PodStatus disrupted = status("Running", l(running("review")), l(), new PodConditionBuilder().withType("DisruptionTarget")
                .withStatus("True").withReason("TerminationByKubelet").withMessage("node shutdown").build());
        fails(ErrorKind.RUNNER_SHUTDOWN, disrupted, EARLY, "TerminationByKubelet");
    }

    @Test
    void imageAndConfigErrors() {
        PodStatus pull = status("Pending", l(waiting("clone", "ImagePullBackOff", "Back-off pulling image \"x\"")), l());
        assertEquals(PodVerdict.Step.PENDING, at(pull, EARLY).step(), "pull errors get a grace period");
        fails(ErrorKind.EXECUTOR_FAILED, pull, LATE, "Back-off pulling image");
        fails(ErrorKind.EXECUTOR_FAILED, status("Pending", l(waiting("clone", "InvalidImageName", "bad name")), l()), EARLY, "InvalidImageName");
        fails(ErrorKind.EXECUTOR_FAILED, status("Pending", l(terminated("clone", 0, null), waiting("review",
                "CreateContainerConfigError", "secret \"x\" not found")), l()), EARLY, "secret \"x\" not found");
    }

    @Test
    void pendingForTooLong() {
        PodStatus unschedulable = status("Pending", l(), l(), unschedulable("0/3 nodes are available: 3 Insufficient cpu."));
        assertEquals(PodVerdict.Step.PENDING, at(unschedulable, EARLY).step());
        fails(ErrorKind.RUNNER_SHUTDOWN, unschedulable, LATE, "3 Insufficient cpu");
        fails(ErrorKind.RUNNER_SHUTDOWN, null, LATE, "no status");
    }

    @Test
    void containerFailures() {
        PodVerdict clone = at(status("Failed", l(terminated("clone", 1, "Error")), l()), EARLY);
        assertEquals(ErrorKind.CLONE_FAILED, clone.error());
        assertEquals(PodSpecs.CLONE, clone.logOf(), "the clone's log explains it");
        fails(ErrorKind.EXECUTOR_FAILED, status("Failed", l(terminated("clone", 0, null), terminated("review", 2, "Error")), l()), EARLY, "code 2");
        fails(ErrorKind.EXECUTOR_FAILED, status("Failed", l(terminated("clone", 0, null), terminated("review", 0, null)),
                l(terminated("report", 3, "Error"))), EARLY, "report container");
        fails(ErrorKind.EXECUTOR_FAILED, status("Failed", l(), l()), EARLY, "without a result");
    }

    @Test
    void theClustersWordsAreBoundedAndOnOneLine() {
        String clipped = PodClassifier.clip("a\nb\r\n" + "x".repeat(2000));
        assertTrue(clipped.length() <= 501 && !clipped.contains("\n"), clipped);
    }
}
