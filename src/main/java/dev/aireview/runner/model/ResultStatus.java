package dev.aireview.runner.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** Final status of a task (PROTOCOL.md "result"). */
public enum ResultStatus {
    COMPLETED("completed"), FAILED("failed"), CANCELLED("cancelled"), TIMED_OUT("timed_out");

    private final String wire;

    ResultStatus(String wire) {
        this.wire = wire;
    }

    @JsonValue
    public String wire() {
        return wire;
    }

    @JsonCreator
    public static ResultStatus fromWire(String value) {
        if (value == null) {
            return null;
        }
        String v = value.trim().toLowerCase(java.util.Locale.ROOT).replace('-', '_');
        for (ResultStatus s : values()) {
            if (s.wire.equals(v)) {
                return s;
            }
        }
        if (v.equals("success") || v.equals("succeeded") || v.equals("done")) {
            return COMPLETED;
        }
        if (v.equals("timeout")) {
            return TIMED_OUT;
        }
        return FAILED;
    }
}
