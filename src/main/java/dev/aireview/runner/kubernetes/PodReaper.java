package dev.aireview.runner.kubernetes;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * At start-up, deletes the task pods and Secrets an earlier process of this runner left (it died while running
 * them) and names their tasks, so the scheduler reports each once. Found by the runner's labels; deleted one by
 * one by name (the Role grants {@code delete}, not {@code deletecollection}).
 */
final class PodReaper {
    private static final Logger LOG = LoggerFactory.getLogger(PodReaper.class);

    private final KubernetesClient client;
    private final String namespace;
    private final Map<String, String> selector;

    PodReaper(KubernetesClient client, String namespace, String runnerName) {
        this.client = client;
        this.namespace = namespace;
        this.selector = PodSpecs.runnerSelector(runnerName);
    }

    /** Deletes every pod and Secret of this runner; the task ids found on them (annotation), in order, once each. */
    List<String> reap() {
        Set<String> taskIds = new LinkedHashSet<>();
        List<Pod> pods = client.pods().inNamespace(namespace).withLabels(selector).list().getItems();
        for (Pod p : pods) {
            note(p, taskIds);
            delete("pod", p, () -> client.pods().inNamespace(namespace).withName(p.getMetadata().getName())
                    .withGracePeriod(0).delete());
        }
        List<Secret> secrets = client.secrets().inNamespace(namespace).withLabels(selector).list().getItems();
        for (Secret s : secrets) {
            note(s, taskIds);
            delete("Secret", s, () -> client.secrets().inNamespace(namespace).withName(s.getMetadata().getName()).delete());
        }
        if (!pods.isEmpty() || !secrets.isEmpty()) {
            LOG.warn("removed {} task pod(s) and {} Secret(s) left by an earlier run of this runner (tasks {})",
                    pods.size(), secrets.size(), taskIds);
        }
        return new ArrayList<>(taskIds);
    }

    private static void note(HasMetadata o, Set<String> taskIds) {
        Map<String, String> a = o.getMetadata().getAnnotations();
        String id = a == null ? null : a.get(PodSpecs.ANNOTATION_TASK);
        if (id != null && !id.isBlank()) {
            taskIds.add(id);
        }
    }

    private static void delete(String kind, HasMetadata o, Runnable call) {
        try {
            call.run();
        } catch (KubernetesClientException e) {
            LOG.warn("leftover {} {} could not be deleted: {}", kind, o.getMetadata().getName(), e.getMessage());
        }
    }
}
