package dev.aireview.runner.devserver;

import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/**
 * Immutable settings of a {@link DevServer}. Build with {@link #builder(String)}; defaults are documented on
 * each builder method.
 */
public final class DevServerOptions {
    private final String bindAddress;
    private final int port;
    private final String token;
    private final String adminToken;
    private final Duration heartbeatTimeout;
    private final Duration maxPollWait;
    private final int maxLogLinesPerTask;
    private final int maxShutdownRetries;
    private final Clock clock;

    private DevServerOptions(Builder b) {
        this.bindAddress = b.bindAddress;
        this.port = b.port;
        this.token = b.token;
        this.adminToken = b.adminToken;
        this.heartbeatTimeout = b.heartbeatTimeout;
        this.maxPollWait = b.maxPollWait;
        this.maxLogLinesPerTask = b.maxLogLinesPerTask;
        this.maxShutdownRetries = b.maxShutdownRetries;
        this.clock = b.clock;
    }

    /** A builder for a server that accepts {@code token} on every runner and admin call. */
    public static Builder builder(String token) {
        return new Builder(token);
    }

    /** A builder starting from {@code existing}. */
    public static Builder builder(DevServerOptions existing) {
        Builder b = new Builder(existing.token);
        b.bindAddress = existing.bindAddress;
        b.port = existing.port;
        b.adminToken = existing.adminToken;
        b.heartbeatTimeout = existing.heartbeatTimeout;
        b.maxPollWait = existing.maxPollWait;
        b.maxLogLinesPerTask = existing.maxLogLinesPerTask;
        b.maxShutdownRetries = existing.maxShutdownRetries;
        b.clock = existing.clock;
        return b;
    }

    public String bindAddress() {
        return bindAddress;
    }

    public int port() {
        return port;
    }

    public String token() {
        return token;
    }

    /** Extra token accepted on the admin API only; null when none. */
    public String adminToken() {
        return adminToken;
    }

    public Duration heartbeatTimeout() {
        return heartbeatTimeout;
    }

    public Duration maxPollWait() {
        return maxPollWait;
    }

    public int maxLogLinesPerTask() {
        return maxLogLinesPerTask;
    }

    /** How often a task goes back to the queue after a {@code runner_shutdown} result before that result is kept. */
    public int maxShutdownRetries() {
        return maxShutdownRetries;
    }

    public Clock clock() {
        return clock;
    }

    @Override
    public String toString() {
        return "DevServerOptions[bind=" + bindAddress + ", port=" + port + ", token=****, adminToken="
                + (adminToken == null ? "none" : "****") + ", heartbeatTimeout=" + heartbeatTimeout
                + ", maxPollWait=" + maxPollWait + ", maxLogLinesPerTask=" + maxLogLinesPerTask
                + ", maxShutdownRetries=" + maxShutdownRetries + "]";
    }

    public static final class Builder {
        private String bindAddress = "127.0.0.1";
        private int port = 0;
        private final String token;
        private String adminToken;
        private Duration heartbeatTimeout = Duration.ofSeconds(30);
        private Duration maxPollWait = Duration.ofSeconds(30);
        private int maxLogLinesPerTask = 100_000;
        private int maxShutdownRetries = 3;
        private Clock clock = Clock.systemUTC();

        private Builder(String token) {
            this.token = token;
        }

        /** Address to listen on; default {@code 127.0.0.1}. */
        public Builder bindAddress(String bindAddress) {
            this.bindAddress = Objects.requireNonNull(bindAddress, "bindAddress");
            return this;
        }

        /** TCP port; default 0 (a free port, see {@link DevServer#port()}). */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** Second token accepted on {@code /api/admin/**} (the runner token is accepted there too); default none. */
        public Builder adminToken(String adminToken) {
            this.adminToken = adminToken == null || adminToken.isBlank() ? null : adminToken;
            return this;
        }

        /** A runner silent for this long is marked offline and its unfinished tasks are re-queued; default 30 s. */
        public Builder heartbeatTimeout(Duration heartbeatTimeout) {
            this.heartbeatTimeout = Objects.requireNonNull(heartbeatTimeout, "heartbeatTimeout");
            return this;
        }

        /** Cap on the {@code waitMs} of a long poll; default 30 s. */
        public Builder maxPollWait(Duration maxPollWait) {
            this.maxPollWait = Objects.requireNonNull(maxPollWait, "maxPollWait");
            return this;
        }

        /** Log lines kept per task; later lines are counted as dropped; default 100 000. */
        public Builder maxLogLinesPerTask(int maxLogLinesPerTask) {
            this.maxLogLinesPerTask = maxLogLinesPerTask;
            return this;
        }

        /**
         * A {@code runner_shutdown} result re-queues its task as a new attempt (another runner retries it) up to this
         * many times per task; the next one is stored as the result. 0 keeps the first. Default 3.
         */
        public Builder maxShutdownRetries(int maxShutdownRetries) {
            this.maxShutdownRetries = maxShutdownRetries;
            return this;
        }

        /** Clock for every timestamp and the heartbeat timeout; default UTC system clock. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        public DevServerOptions build() {
            if (token == null || token.isBlank()) {
                throw new IllegalArgumentException("a dev server needs a non-blank token");
            }
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port out of range: " + port);
            }
            if (heartbeatTimeout.isNegative() || heartbeatTimeout.isZero()) {
                throw new IllegalArgumentException("heartbeatTimeout must be positive");
            }
            if (maxPollWait.isNegative()) {
                throw new IllegalArgumentException("maxPollWait must not be negative");
            }
            if (maxShutdownRetries < 0) {
                throw new IllegalArgumentException("maxShutdownRetries must not be negative");
            }
            if (maxLogLinesPerTask < 1) {
                throw new IllegalArgumentException("maxLogLinesPerTask must be positive");
            }
            return new DevServerOptions(this);
        }
    }
}
