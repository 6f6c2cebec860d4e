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
 * them) and names their tasks, so the scheduler reports each once. While the runner runs, the janitor
 * ({@link #sweepExpired}) deletes those of its objects whose deadline annotation ({@link PodSpecs#ANNOTATION_DEADLINE})
 * has passed (a delete that failed, a task whose execute gave up): a backstop beside activeDeadlineSeconds, which
 * ends a pod but leaves its object and its Secret. Found by this runner's labels only (never another runner's,
 * which its own Lease and reaper cover); deleted one by one by name (the Role grants {@code delete}, not
 * {@code deletecollection}); every call through the {@link ApiGate}.
 */
final class PodReaper {
    private static final Logger LOG = LoggerFactory.getLogger(PodReaper.class);

    private final KubernetesClient client;
    private final String namespace;
    private final Map<String, String> selector;
    private final ApiGate gate;

    PodReaper(KubernetesClient client, String namespace, String runnerName, ApiGate gate) {
        this.client = client;
        this.namespace = namespace;
        this.selector = PodSpecs.runnerSelector(runnerName);
        this.gate = gate;
    }

    /** Deletes every pod and Secret of this runner; the task ids found on them (annotation), in order, once each. */
    List<String> reap() {
        Set<String> taskIds = new LinkedHashSet<>();
        List<Pod> pods = listPods();
        for (Pod p : pods) {
            note(p, taskIds);
            deletePod(p);
        }
        List<Secret> secrets = listSecrets();
        for (Secret s : secrets) {
            note(s, taskIds);
            deleteSecret(s);
        }
        if (!pods.isEmpty() || !secrets.isEmpty()) {
            LOG.warn("removed {} task pod(s) and {} Secret(s) left by an earlier run of this runner (tasks {})",
                    pods.size(), secrets.size(), taskIds);
        }
        return new ArrayList<>(taskIds);
    }

    /**
     * The janitor's round: deletes this runner's pods and Secrets whose deadline annotation is before {@code now};
     * how many it deleted. Objects without a readable annotation are left (execute owns them until its end).
     */
    int sweepExpired(java.time.Instant now) {
        int n = 0;
        Set<String> taskIds = new LinkedHashSet<>();
        for (Pod p : listPods()) {
            if (expired(p, now)) {
                note(p, taskIds);
                deletePod(p);
                n++;
            }
        }
        for (Secret s : listSecrets()) {
            if (expired(s, now)) {
                note(s, taskIds);
                deleteSecret(s);
                n++;
            }
        }
        if (n > 0) {
            LOG.warn("janitor: removed {} task pod(s)/Secret(s) of this runner past their deadline (tasks {})", n, taskIds);
        }
        return n;
    }

    private static boolean expired(HasMetadata o, java.time.Instant now) {
        java.time.Instant expiry = PodSpecs.expiry(o);
        return expiry != null && expiry.isBefore(now);
    }

    private List<Pod> listPods() {
        return gate.call("list this runner's pods", () -> client.pods().inNamespace(namespace).withLabels(selector).list().getItems());
    }

    private List<Secret> listSecrets() {
        return gate.call("list this runner's Secrets", () -> client.secrets().inNamespace(namespace).withLabels(selector).list().getItems());
    }

    private void deletePod(Pod p) {
        delete("pod", p, () -> gate.call("delete pod " + p.getMetadata().getName(),
                () -> client.pods().inNamespace(namespace).withName(p.getMetadata().getName()).withGracePeriod(0).delete()));
    }

    private void deleteSecret(Secret s) {
        delete("Secret", s, () -> gate.call("delete Secret " + s.getMetadata().getName(),
                () -> client.secrets().inNamespace(namespace).withName(s.getMetadata().getName()).delete()));
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
