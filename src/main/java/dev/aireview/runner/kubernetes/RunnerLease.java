package dev.aireview.runner.kubernetes;

import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The runner's {@code coordination.k8s.io} Lease: the owner (ownerReferences) of every task pod and Secret it makes,
 * so that deleting the Lease lets Kubernetes' garbage collector remove them all.
 *
 * <ul>
 *   <li>{@link #acquire()}: a Lease of this runner's name renewed by another process is refused (a second live
 *       runner with the same name does not start); one that is absent is created; one that has expired (its holder
 *       died) is taken over, keeping its uid, so the pods it owns stay owned until this runner reaps them.
 *       Expired Leases of other runners are deleted (the garbage collector removes their pods and Secrets).</li>
 *   <li>renewed every {@link #RENEW_EVERY}; {@link #valid()} is false once a renewal has not succeeded within the
 *       lease duration or another holder took the Lease (fencing: the executor then creates no pod).</li>
 * </ul>
 */
final class RunnerLease implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RunnerLease.class);
    static final Duration DURATION = Duration.ofSeconds(30);
    static final Duration RENEW_EVERY = Duration.ofSeconds(10);
    static final String LABEL = "ai-review.dev/runner-lease";

    private final KubernetesClient client;
    private final String namespace;
    private final String runnerName;
    private final String name;
    private final String identity;
    private final Duration duration;
    private final Clock clock;
    private volatile Lease lease;
    private volatile Instant renewed;
    private volatile boolean lost;
    private ScheduledExecutorService renewer;

    RunnerLease(KubernetesClient client, String namespace, String runnerName, Duration duration, Clock clock) {
        this.client = client;
        this.namespace = namespace;
        this.runnerName = runnerName;
        this.name = name(runnerName);
        this.identity = runnerName + "/" + UUID.randomUUID();
        this.duration = duration;
        this.clock = clock;
    }

    /** {@code ai-review-runner-} and 20 hex digits of SHA-256 over the runner name (any name makes a valid object name). */
    static String name(String runnerName) {
        return "ai-review-runner-" + PodSpecs.hash(runnerName).substring(0, 20);
    }

    /** Takes this runner's Lease or throws (another live holder); deletes other runners' expired Leases. */
    void acquire() {
        Instant now = clock.instant();
        Lease existing = client.leases().inNamespace(namespace).withName(name).get();
        Lease mine = new LeaseBuilder(existing == null ? new Lease() : existing)
                .editOrNewMetadata().withName(name).withNamespace(namespace)
                .addToLabels(LABEL, "true").addToAnnotations(PodSpecs.LABEL_RUNNER, runnerName).endMetadata()
                .editOrNewSpec().withHolderIdentity(identity).withLeaseDurationSeconds((int) duration.toSeconds())
                .withAcquireTime(micro(now)).withRenewTime(micro(now)).endSpec().build();
        if (existing == null) {
            lease = client.leases().inNamespace(namespace).resource(mine).create();
        } else {
            if (!expired(existing, now)) {
                // a crashed predecessor's Lease runs out; a live runner's is renewed meanwhile
                Instant seen = existing.getSpec().getRenewTime().toInstant();
                awaitExpiry(existing, now);
                existing = client.leases().inNamespace(namespace).withName(name).get();
                if (existing == null) {
                    throw new IllegalStateException("the Lease " + name + " vanished while this runner waited for it; start again");
                }
                now = clock.instant();
                mine = new LeaseBuilder(existing).editMetadata().addToLabels(LABEL, "true")
                        .addToAnnotations(PodSpecs.LABEL_RUNNER, runnerName).endMetadata()
                        .editOrNewSpec().withHolderIdentity(identity).withLeaseDurationSeconds((int) duration.toSeconds())
                        .withAcquireTime(micro(now)).withRenewTime(micro(now)).endSpec().build();
                if (existing.getSpec() != null && existing.getSpec().getRenewTime() != null
                        && !seen.equals(existing.getSpec().getRenewTime().toInstant()) && !expired(existing, now)) {
                    throw new IllegalStateException("another runner named '" + runnerName + "' is alive: its Lease " + name
                        + " (holder " + existing.getSpec().getHolderIdentity() + ") was renewed at "
                        + existing.getSpec().getRenewTime() + "; two runners must not share a name (RUNNER_NAME)");
                }
            }
            LOG.warn("taking over the expired Lease {} of an earlier run of this runner (holder {})", name,
                    existing.getSpec().getHolderIdentity());
            lease = client.leases().inNamespace(namespace).resource(mine).update();
        }
        renewed = now;
        deleteExpiredOthers(now);
    }

    /** Waits until {@code l} would expire (its holder may be a crashed predecessor of this runner). */
    private void awaitExpiry(Lease l, Instant now) {
        Instant until;
        try {
            int seconds = l.getSpec().getLeaseDurationSeconds() == null ? (int) duration.toSeconds()
                    : l.getSpec().getLeaseDurationSeconds();
            until = l.getSpec().getRenewTime().toInstant().plusSeconds(seconds).plusMillis(100);
        } catch (RuntimeException e) {
            return;
        }
        long ms = Duration.between(now, until).toMillis();
        ms = Math.min(ms, Math.max(duration.toMillis(), 1000) + 1000);
        if (ms <= 0) {
            return;
        }
        LOG.info("the Lease {} is held by {}; waiting {} ms to see whether it is renewed", name,
                l.getSpec().getHolderIdentity(), ms);
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the Lease " + name, e);
        }
    }

    private void deleteExpiredOthers(Instant now) {
        for (Lease l : client.leases().inNamespace(namespace).withLabel(LABEL, "true").list().getItems()) {
            if (name.equals(l.getMetadata().getName()) || !expired(l, now)) {
                continue;
            }
            try {
                client.leases().inNamespace(namespace).withName(l.getMetadata().getName()).delete();
                LOG.warn("deleted the expired Lease {} of runner '{}'; Kubernetes' garbage collector removes its task pods "
                        + "and Secrets", l.getMetadata().getName(), runnerOf(l));
            } catch (KubernetesClientException e) {
                LOG.warn("the expired Lease {} could not be deleted: {}", l.getMetadata().getName(), e.getMessage());
            }
        }
    }

    /** Starts renewing every {@code every}. */
    void startRenewing(Duration every) {
        renewer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "lease-renewer");
            t.setDaemon(true);
            return t;
        });
        renewer.scheduleWithFixedDelay(this::renew, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** One renewal (package-private for tests); false when it failed. */
    boolean renew() {
        if (lost) {
            return false;
        }
        Instant now = clock.instant();
        try {
            Lease current = lease;
            Lease next = new LeaseBuilder(current).editSpec().withRenewTime(micro(now)).endSpec().build();
            lease = client.leases().inNamespace(namespace).resource(next).update();
            renewed = now;
            return true;
        } catch (KubernetesClientException e) {
            if (e.getCode() == 409 || e.getCode() == 404) {
                lost = true;
                LOG.error("the runner's Lease {} was taken or deleted by someone else (HTTP {}); no task pod is created "
                        + "any more", name, e.getCode());
            } else {
                LOG.warn("the runner's Lease {} could not be renewed: {}", name, e.getMessage());
            }
            return false;
        } catch (RuntimeException e) {
            LOG.warn("the runner's Lease {} could not be renewed: {}", name, e.toString());
            return false;
        }
    }

    /** Whether this runner may create pods: its Lease is held and was renewed within the lease duration. */
    boolean valid() {
        Instant r = renewed;
        return !lost && lease != null && r != null && clock.instant().isBefore(r.plus(duration));
    }

    /** Why {@link #valid()} is false, for the task's failure. */
    String problem() {
        return lost ? "the runner's Lease " + name + " was taken or deleted by someone else"
                : "the runner's Lease " + name + " has not been renewed for " + duration.toSeconds() + " s";
    }

    /** The owner reference task pods and Secrets carry (deleting the Lease deletes them). */
    OwnerReference ownerReference() {
        Lease l = lease;
        return new OwnerReferenceBuilder().withApiVersion("coordination.k8s.io/v1").withKind("Lease")
                .withName(l.getMetadata().getName()).withUid(l.getMetadata().getUid()).withBlockOwnerDeletion(false)
                .build();
    }

    String leaseName() {
        return name;
    }

    static boolean expired(Lease l, Instant now) {
        if (l.getSpec() == null || l.getSpec().getRenewTime() == null) {
            return true;
        }
        int seconds = l.getSpec().getLeaseDurationSeconds() == null ? (int) DURATION.toSeconds()
                : l.getSpec().getLeaseDurationSeconds();
        Instant renewTime = l.getSpec().getRenewTime().toInstant();
        return !now.isBefore(renewTime.plusSeconds(seconds));
    }

    /** Microsecond precision, as the API server keeps a MicroTime. */
    static ZonedDateTime micro(Instant t) {
        return t.truncatedTo(java.time.temporal.ChronoUnit.MICROS).atZone(ZoneOffset.UTC);
    }

    private static String runnerOf(Lease l) {
        Map<String, String> a = l.getMetadata().getAnnotations();
        return a == null ? "?" : a.get(PodSpecs.LABEL_RUNNER);
    }

    /** Stops renewing and deletes the Lease if still ours (a clean stop: a restart need not wait for it to expire). */
    @Override
    public void close() {
        if (renewer != null) {
            renewer.shutdownNow();
        }
        if (!lost && lease != null) {
            try {
                client.leases().inNamespace(namespace).resource(lease).delete();
            } catch (KubernetesClientException e) {
                LOG.warn("the runner's Lease {} could not be deleted ({}); it expires in {} s", name, e.getMessage(),
                        duration.toSeconds());
            }
        }
    }
}
