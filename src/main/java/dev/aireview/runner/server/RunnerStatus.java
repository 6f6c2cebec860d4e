package dev.aireview.runner.server;

import com.fasterxml.jackson.annotation.JsonValue;

/** The runner's state in a heartbeat. */
public enum RunnerStatus {
    ONLINE, BUSY, DRAINING, OFFLINE;

    @JsonValue
    public String wire() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
