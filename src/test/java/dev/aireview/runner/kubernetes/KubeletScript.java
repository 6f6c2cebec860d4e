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
