package dev.aireview.runner.config;

/** When the executor image is pulled: {@code always}, {@code if-not-present} (default) or {@code never}. */
public enum PullPolicy {
    ALWAYS, IF_NOT_PRESENT, NEVER;

    public static PullPolicy parse(String value) {
        return valueOf(value.trim().toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
    }

    public String wire() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
