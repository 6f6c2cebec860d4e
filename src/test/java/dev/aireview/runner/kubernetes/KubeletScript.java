package dev.aireview.runner.kubernetes;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;

import java.time.Duration;
import java.util.List;

import static org.awaitility.Awaitility.await;

/**
 * A fake kubelet for the mock API server (CRUD mode): the test moves a task pod through the statuses of a scenario,
 * and serves its containers' logs (expectations, which the mixed dispatcher answers before CRUD).
 */
final class KubeletScript {
    static final Duration WAIT = Duration.ofSeconds(30);
    private final KubernetesClient client;
    private final KubernetesMockServer server;
    private final String namespace;

    KubeletScript(KubernetesClient client, KubernetesMockServer server, String namespace) {
        this.client = client;
        this.server = server;
        this.namespace = namespace;
    }

    Pod awaitPod(String name) {
        await().atMost(WAIT).until(() -> client.pods().inNamespace(namespace).withName(name).get() != null);
        return client.pods().inNamespace(namespace).withName(name).get();
    }

    void status(String name, PodStatus status) {
        Pod pod = client.pods().inNamespace(namespace).withName(name).get();
        pod.setStatus(status);
        client.pods().inNamespace(namespace).resource(pod).updateStatus();
    }

    void log(String pod, String container, int limitBytes, String text) {
        server.expect().get().withPath("/api/v1/namespaces/" + namespace + "/pods/" + pod + "/log?pretty=false&container="
                + container + "&limitBytes=" + limitBytes).andReturn(200, text).always();
    }

    /**
     * A container's log as the kubelet keeps it, with a timestamp per line, served to {@code follow=true&timestamps=true}
     * requests: the first (no {@code sinceTime}) and the resumed ones at the given seconds. The mock server cannot keep
     * a response open, so every stream closes after what was written so far: each is a stream that closed early while
     * the container still ran, which is what the follower must resume from.
     */
    void followLog(String pod, String container, FakeLog log, String... sinceTimes) {
        String base = "/api/v1/namespaces/" + namespace + "/pods/" + pod + "/log?container=" + container
                + "&follow=true&timestamps=true";
        server.expect().get().withPath(base).andReply(200, req -> log.since(null)).always();
        for (String since : sinceTimes) {
            server.expect().get().withPath(base + "&sinceTime=" + since).andReply(200, req -> log.since(since)).always();
        }
    }

    /** The kubelet's copy of one container's log; the test appends, a rotation drops what was written so far. */
    static final class FakeLog {
        private final List<String[]> lines = new java.util.concurrent.CopyOnWriteArrayList<>();
        final java.util.concurrent.atomic.AtomicInteger served = new java.util.concurrent.atomic.AtomicInteger();

        FakeLog add(String timestamp, String text) {
            lines.add(new String[]{timestamp, text});
            return this;
        }

        /** The log file was rotated away: the kubelet no longer has these lines. */
        void rotate() {
            lines.clear();
        }

        String since(String sinceTime) {
            served.incrementAndGet();
            java.time.Instant from = sinceTime == null ? java.time.Instant.MIN : java.time.Instant.parse(sinceTime);
            StringBuilder b = new StringBuilder();
            for (String[] l : lines) {
                if (!java.time.Instant.parse(l[0]).isBefore(from)) {
                    b.append(l[0]).append(' ').append(l[1]).append('\n');
                }
            }
            return b.toString();
        }
    }

    static PodStatus status(String phase, List<ContainerStatus> init, List<ContainerStatus> main, PodCondition... conditions) {
        return new PodStatusBuilder().withPhase(phase).withInitContainerStatuses(init).withContainerStatuses(main)
                .withConditions(conditions).build();
    }

    static PodStatus podFailed(String reason, String message) {
        return new PodStatusBuilder().withPhase("Failed").withReason(reason).withMessage(message).build();
    }

    static PodCondition unschedulable(String message) {
        return new PodConditionBuilder().withType("PodScheduled").withStatus("False").withReason("Unschedulable")
                .withMessage(message).build();
    }

    static ContainerStatus running(String name) {
        return new ContainerStatusBuilder().withName(name).withNewState().withNewRunning().endRunning().endState().build();
    }

    static ContainerStatus waiting(String name, String reason, String message) {
        return new ContainerStatusBuilder().withName(name).withNewState().withNewWaiting().withReason(reason)
                .withMessage(message).endWaiting().endState().build();
    }

    static ContainerStatus terminated(String name, int exit, String reason) {
        return new ContainerStatusBuilder().withName(name).withNewState().withNewTerminated().withExitCode(exit)
                .withReason(reason).endTerminated().endState().build();
    }
}
