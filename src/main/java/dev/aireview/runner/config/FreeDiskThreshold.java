package dev.aireview.runner.config;

import java.util.Locale;

/**
 * DOCKER_MIN_FREE_DISK: the least free space under the workspace base with which the runner still claims tasks,
 * either absolute ({@code 5g}) or a share of the file system ({@code 10%}). {@link #OFF} never pauses.
 *
 * @param bytes   absolute threshold in bytes (when {@code percent} is negative)
 * @param percent share of the file system's total size, 0-100, or -1 for an absolute threshold
 */
public record FreeDiskThreshold(long bytes, double percent) {
    public static final FreeDiskThreshold OFF = new FreeDiskThreshold(0, -1);

    public static FreeDiskThreshold ofBytes(long bytes) {
        return new FreeDiskThreshold(bytes, -1);
    }

    public static FreeDiskThreshold ofPercent(double percent) {
        return new FreeDiskThreshold(0, percent);
    }

    /** Parses {@code 5g}, {@code 1073741824}, {@code 10%} or {@code 0}; null when malformed. */
    public static FreeDiskThreshold parse(String text) {
        if (text == null) {
            return null;
        }
        String t = text.trim();
        if (t.endsWith("%")) {
            try {
                double p = Double.parseDouble(t.substring(0, t.length() - 1).trim());
                return Double.isFinite(p) && p >= 0 && p < 100 ? ofPercent(p) : null;
            } catch (NumberFormatException e) {
                return null;
            }
        }
        long b = ConfigLoader.parseSize(t);
        return b < 0 ? null : ofBytes(b);
    }

    public boolean off() {
        return percent < 0 ? bytes <= 0 : percent <= 0;
    }

    /** The threshold in bytes for a file system of {@code totalBytes}. */
    public long requiredBytes(long totalBytes) {
        return percent < 0 ? bytes : (long) (totalBytes * (percent / 100.0));
    }

    @Override
    public String toString() {
        return off() ? "0 (off)" : percent < 0 ? bytes + " bytes" : String.format(Locale.ROOT, "%s%%", trim(percent));
    }

    private static String trim(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }
}
