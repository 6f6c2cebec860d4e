package dev.aireview.runner.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** Severity of a review comment. Unknown values read as {@link #INFO}; "critical"/"high" as {@link #ERROR}. */
public enum Severity {
    INFO, WARNING, ERROR;

    @JsonValue
    public String wire() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    @JsonCreator
    public static Severity fromWire(String value) {
        if (value == null) {
            return INFO;
        }
        switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "error": case "critical": case "high": case "blocker": case "major":
                return ERROR;
            case "warning": case "warn": case "medium": case "minor": case "moderate": case "should-fix":
                return WARNING;
            default:
                return INFO;
        }
    }
}
