package dev.aireview.runner.server;

import com.fasterxml.jackson.annotation.JsonValue;

/**
 * The runner's {@code status} in a heartbeat: exactly the three values the AI Review server documents. A draining
 * runner is {@link #BUSY} with {@link Heartbeat#draining()} set (it takes no new task, like a full one).
 */
public enum RunnerStatus {
    ONLINE, BUSY, OFFLINE;

    @JsonValue
    public String wire() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
