package dev.aireview.runner.model;

import com.fasterxml.jackson.annotation.JsonValue;

/** Phases reported by the status call, in order. */
public enum TaskPhase {
    PREPARING, CLONING, REVIEWING, SUBMITTING;

    @JsonValue
    public String wire() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
