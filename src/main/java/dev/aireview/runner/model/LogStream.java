package dev.aireview.runner.model;

import com.fasterxml.jackson.annotation.JsonValue;

/** Origin of a task log line. */
public enum LogStream {
    STDOUT, STDERR, SYSTEM;

    @JsonValue
    public String wire() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
