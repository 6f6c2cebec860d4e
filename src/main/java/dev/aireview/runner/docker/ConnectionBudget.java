package dev.aireview.runner.docker;

import java.lang.management.ManagementFactory;
import java.time.Duration;

/**
 * The Docker connections the runner needs, sized from the work: {@code slots} running tasks, each holding up to
 * {@link #STREAMS_PER_TASK} streaming connections (its container's output, its wait, its standard input or an exec)
 * and a few short calls, plus the pool's refills and each pooled container's waiting checkout. docker-java's
 * connection pools get exactly these sizes, and a call that finds no connection free waits at most {@link #LEASE_WAIT}
 * and then fails as an infrastructure error (never as a container's exit). {@link #check} refuses at start-up a
 * configuration the process cannot serve (open files).
 */
public record ConnectionBudget(int streaming, int ordinary, Duration leaseWait) {
    /** Streaming connections one task holds at most at once. */
    public static final int STREAMS_PER_TASK = 3;
    /** Short calls one task may have in flight at once (inspect, kill, remove, exec create...). */
    public static final int CALLS_PER_TASK = 2;
    /** Besides the tasks': start-up checks, the clean-up container, the reaper, pool refills. */
    public static final int SPARE = 8;
    /** How long a call waits for a free connection before failing. */
    public static final Duration LEASE_WAIT = Duration.ofSeconds(30);
    /** File descriptors the process needs besides Docker connections (workspace walks, server calls, files, the JVM). */
    public static final long OTHER_DESCRIPTORS = 512;

    /** The budget for {@code slots} concurrent tasks and a pool of {@code poolSize} pre-warmed containers. */
    public static ConnectionBudget of(int slots, int poolSize) {
        int s = Math.max(1, slots);
        int p = Math.max(0, poolSize);
        // a pooled container's waiting checkout holds a streaming connection (StandbyCheckout)
        return new ConnectionBudget(s * STREAMS_PER_TASK + p + SPARE, s * CALLS_PER_TASK + p + SPARE, LEASE_WAIT);
    }

    /** Every connection both pools may open. */
    public int total() {
        return streaming + ordinary;
    }

    /**
     * Throws {@link DockerExecutorException} when the process may open fewer than {@code maxOpenFiles} descriptors than
     * the budget needs ({@code maxOpenFiles} negative: unknown, nothing checked).
     */
    public void check(long maxOpenFiles, int slots, int poolSize) {
        long needed = total() + OTHER_DESCRIPTORS;
        if (maxOpenFiles >= 0 && maxOpenFiles < needed) {
            throw new DockerExecutorException("RUNNER_MAX_CONCURRENT_JOBS=" + slots + " and DOCKER_POOL_SIZE=" + poolSize
                    + " need up to " + total() + " Docker connections and about " + needed + " open files, but this process may"
                    + " open only " + maxOpenFiles + " (ulimit -n): raise the limit (e.g. LimitNOFILE= or --ulimit nofile=)"
                    + " or run fewer slots");
        }
    }

    /** The process's open-file limit, or -1 when the platform does not say. */
    public static long maxOpenFiles() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
            return unix.getMaxFileDescriptorCount();
        }
        return -1;
    }
}
