package dev.aireview.runner.kubernetes;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;

import java.time.Duration;
import java.time.Instant;

/**
 * The runner's one watch on its task pods: a shared informer on the pods carrying its runner label (list once, then
 * one watch; fabric8 re-lists after a 410 Gone and re-opens a closed watch). Tasks read their pod from its cache and
 * wait on {@link #awaitChange}, so the number of API calls does not grow with the tasks or with their duration.
 */
final class PodWatch implements AutoCloseable {
    private final SharedIndexInformer<Pod> informer;
    private final String namespace;
    private final Object lock = new Object();
    private long version;

    PodWatch(KubernetesClient client, String namespace, String runnerName) {
        this.namespace = namespace;
        this.informer = client.pods().inNamespace(namespace).withLabels(PodSpecs.runnerSelector(runnerName))
                .inform(new ResourceEventHandler<>() {
                    @Override
                    public void onAdd(Pod pod) {
                        changed();
                    }

                    @Override
                    public void onUpdate(Pod oldPod, Pod newPod) {
                        changed();
                    }

                    @Override
                    public void onDelete(Pod pod, boolean deletedFinalStateUnknown) {
                        changed();
                    }
                }, 0);
    }

    /** The cached pod, or null when the cache does not (or no longer) hold it. */
    Pod get(String name) {
        return informer.getStore().getByKey(namespace + "/" + name);
    }

    /** A counter that moves on every change (and on {@link #changed()}). */
    long version() {
        synchronized (lock) {
            return version;
        }
    }

    /** Wakes every waiter (a pod event, or a task's cancel). */
    void changed() {
        synchronized (lock) {
            version++;
            lock.notifyAll();
        }
    }

    /** Waits until the version differs from {@code seen}, at most {@code max}. */
    void awaitChange(long seen, Duration max) throws InterruptedException {
        Instant until = Instant.now().plus(max);
        synchronized (lock) {
            while (version == seen) {
                long ms = Duration.between(Instant.now(), until).toMillis();
                if (ms <= 0) {
                    return;
                }
                lock.wait(ms);
            }
        }
    }

    @Override
    public void close() {
        informer.close();
    }
}
