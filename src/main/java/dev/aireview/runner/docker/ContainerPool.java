package dev.aireview.runner.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.NotFoundException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;

/**
 * Pre-warmed review containers: created and started ahead with all limits, hardening and labels
 * ({@code ai-review.task=pool}), each with its own workspace mounted, running the image's entrypoint, which waits
 * for task.json. A task takes one (no create/start on its hot path); each serves one task and is then destroyed;
 * the pool refills in the background on one named thread and is emptied by {@link #close()}.
 *
 * <p>Warming costs CPU (the container's JVM starts and runs its warm-up reviews, docs/executor-contract.md), so it
 * is kept off the running tasks' way: {@link #take()} does not refill (the executor asks for a refill once a task's
 * review has ended), and a pooled container runs with {@link #WARMING_CPU_SHARES} until a task takes it
 * ({@link #promote}), so a running review wins the CPU over a warming container.
 */
final class ContainerPool implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ContainerPool.class);

    /**
     * A started pooled container, its workspace, and the DOCKER_WORKSPACE_LIMIT watch that runs from the container's
     * start (a hostile image may fill its workspace before its task arrives); {@code watch} is null without a limit;
     * {@code standby}, the checkout process waiting in it for its task ({@link StandbyCheckout}), null when there is none.
     */
    record Pooled(String containerId, Path workspace, Instant readyAt, DiskWatch.Watch watch, StandbyCheckout standby) {
    }

    /** CPU weight of a waiting pooled container: a quarter of Docker's default (1024) a running task has. */
    static final int WARMING_CPU_SHARES = 256;
    /** Docker's default weight, given back to a pooled container when a task takes it. */
    static final int TASK_CPU_SHARES = 1024;

    private final DockerClient docker;
    private final ContainerSpecs specs;
    private final Workspaces workspaces;
    private final ContainerRunner runner;
    private final Predicate<Path> workspaceDeleter;
    private final int size;
    private final DiskWatch diskWatch;
    private final ConcurrentLinkedQueue<Pooled> ready = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicBoolean refillScheduled = new AtomicBoolean();
    private final ExecutorService refiller;

    ContainerPool(DockerClient docker, ContainerSpecs specs, Workspaces workspaces, ContainerRunner runner,
                  Predicate<Path> workspaceDeleter, int size) {
        this(docker, specs, workspaces, runner, workspaceDeleter, size, null);
    }

    /** @param diskWatch watches each pooled workspace (its container is killed when over the limit); null for none */
    ContainerPool(DockerClient docker, ContainerSpecs specs, Workspaces workspaces, ContainerRunner runner,
                  Predicate<Path> workspaceDeleter, int size, DiskWatch diskWatch) {
        this.diskWatch = diskWatch;
        this.docker = docker;
        this.specs = specs;
        this.workspaces = workspaces;
        this.runner = runner;
        this.workspaceDeleter = workspaceDeleter;
        this.size = Math.max(0, size);
        this.refiller = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "docker-pool-refill");
            t.setDaemon(true);
            return t;
        });
    }

    int size() {
        return size;
    }

    /** Containers ready to be taken now. */
    int readyCount() {
        return ready.size();
    }

    /** Asks the background thread to top the pool up (no-op when full, closed or already scheduled). */
    void refill() {
        if (size == 0 || closed.get() || !refillScheduled.compareAndSet(false, true)) {
            return;
        }
        try {
            refiller.execute(this::fill);
        } catch (RuntimeException e) {
            refillScheduled.set(false);
        }
    }

    private void fill() {
        refillScheduled.set(false);
        while (!closed.get() && ready.size() < size) {
            Pooled p;
            try {
                p = createOne();
            } catch (RuntimeException e) {
                LOG.warn("could not pre-warm a container: {}", e.getMessage());
                return;
            }
            if (closed.get()) {
                destroy(p);
                return;
            }
            ready.add(p);
            LOG.debug("pooled container {} ready ({} of {})", ContainerRunner.shortId(p.containerId()), ready.size(), size);
        }
    }

    private Pooled createOne() {
        Path workspace;
        try {
            workspace = workspaces.create("pool-" + UUID.randomUUID().toString().substring(0, 12));
        } catch (java.io.IOException e) {
            throw new DockerExecutorException("cannot create a pool workspace: " + e.getMessage(), e);
        }
        String id = null;
        try {
            var create = specs.review(docker, workspace, Labels.POOL_TASK);
            create.getHostConfig().withCpuShares(WARMING_CPU_SHARES);
            id = verifier == null ? create.exec().getId() : verifier.create(create);
            docker.startContainerCmd(id).exec();
            String started = id;
            DiskWatch.Watch watch = diskWatch == null ? null : diskWatch.watch(workspace, () -> runner.kill(started));
            StandbyCheckout standby = standbyUser == null || !standbyWanted.getAsBoolean() ? null
                    : StandbyCheckout.start(runner, id, standbyUser);
            return new Pooled(id, workspace, Instant.now(), watch, standby);
        } catch (RuntimeException e) {
            if (id != null) {
                runner.remove(id);
            }
            workspaceDeleter.test(workspace);
            throw e;
        }
    }

    /**
     * A started, still running pooled container, or empty (the task then starts cold). Does not refill: the caller
     * calls {@link #refill()} when the task no longer needs the CPU.
     */
    Optional<Pooled> take() {
        Pooled p;
        while ((p = ready.poll()) != null) {
            if ((p.watch() == null || p.watch().check() == null) && isRunning(p.containerId())) {
                return Optional.of(p);
            }
            LOG.warn("pooled container {} is no longer running; discarding it", ContainerRunner.shortId(p.containerId()));
            destroy(p);
        }
        return Optional.empty();
    }

    /**
     * Another way to set a container's CPU weight, for an engine without Docker's {@code /containers/{id}/update}
     * (Podman answers 404 there and has its own endpoint): null when done, else why it could not.
     */
    interface CpuWeight {
        String set(String containerId, int shares);
    }

    private volatile CpuWeight cpuWeightFallback;
    private volatile String standbyUser;
    private volatile java.util.function.BooleanSupplier standbyWanted = () -> true;

    /**
     * Each container started from now on gets its checkout process started at once, as {@code user}, waiting for its
     * task ({@link StandbyCheckout}), while {@code wanted} says so (an endpoint that cannot exec: no).
     */
    void useStandbyCheckout(String user, java.util.function.BooleanSupplier wanted) {
        this.standbyWanted = wanted;
        this.standbyUser = user;
    }
    private volatile ContainerVerifier verifier;

    /** Every pooled container is created through {@code verifier} (read back and compared). */
    void useVerifier(ContainerVerifier verifier) {
        this.verifier = verifier;
    }
    private final AtomicBoolean promoteWarned = new AtomicBoolean();

    /** Used when the engine answers 404 to Docker's update endpoint (Podman: its libpod update endpoint). */
    void useCpuWeightFallback(CpuWeight fallback) {
        this.cpuWeightFallback = fallback;
    }

    /**
     * Gives a taken container the CPU weight of a task container (it was created with {@link #WARMING_CPU_SHARES});
     * true when done. An engine without Docker's update endpoint gets {@link #useCpuWeightFallback its own}; when no
     * way works, the reason is logged as a warning (once per process, then at debug): the task runs at the warming weight.
     */
    boolean promote(String containerId) {
        String why;
        try {
            docker.updateContainerCmd(containerId).withCpuShares(TASK_CPU_SHARES).exec();
            return true;
        } catch (NotFoundException e) {
            CpuWeight fallback = cpuWeightFallback;
            if (fallback == null) {
                why = "the engine has no container update endpoint (HTTP 404: " + e.getMessage() + ")";
            } else {
                try {
                    why = fallback.set(containerId, TASK_CPU_SHARES);
                } catch (RuntimeException f) {
                    why = f.getMessage();
                }
                if (why == null) {
                    return true;
                }
                why = "the engine has no Docker container update endpoint (HTTP 404), and its own failed: " + why;
            }
        } catch (RuntimeException e) {
            why = e.getMessage();
        }
        String message = "could not raise the CPU weight of pre-warmed container {} from " + WARMING_CPU_SHARES + " to "
                + TASK_CPU_SHARES + " shares, so its task competes for the CPU at the warming weight: {}";
        if (promoteWarned.compareAndSet(false, true)) {
            LOG.warn(message, ContainerRunner.shortId(containerId), why);
        } else {
            LOG.debug(message, ContainerRunner.shortId(containerId), why);
        }
        return false;
    }

    private boolean isRunning(String id) {
        try {
            InspectContainerResponse.ContainerState state = docker.inspectContainerCmd(id).exec().getState();
            return state != null && Boolean.TRUE.equals(state.getRunning());
        } catch (NotFoundException e) {
            return false;
        }
    }

    void destroy(Pooled p) {
        if (p.watch() != null) {
            p.watch().close();
        }
        if (p.standby() != null) {
            p.standby().close();
        }
        runner.remove(p.containerId());
        workspaceDeleter.test(p.workspace());
    }

    /** Stops refilling and removes every ready container with its workspace. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        refiller.shutdown();
        try {
            if (!refiller.awaitTermination(60, TimeUnit.SECONDS)) {
                LOG.warn("pool refill did not stop within 60 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        List<Pooled> all = new ArrayList<>();
        Pooled p;
        while ((p = ready.poll()) != null) {
            all.add(p);
        }
        all.forEach(this::destroy);
        if (!all.isEmpty()) {
            LOG.info("emptied the pool: removed {} pre-warmed container(s)", all.size());
        }
    }
}
