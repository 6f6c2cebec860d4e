package dev.aireview.runner.observability;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The runner's version, from the build. */
public final class RunnerVersion {
    private static final String VERSION = load();

    private RunnerVersion() {
    }

    public static String get() {
        return VERSION;
    }

    /** {@code ai-review-runner/<version>}, the User-Agent of every server call. */
    public static String userAgent() {
        return "ai-review-runner/" + VERSION;
    }

    private static String load() {
        try (InputStream in = RunnerVersion.class.getResourceAsStream("/ai-review-runner-version.properties")) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                String v = p.getProperty("version");
                if (v != null && !v.isBlank() && !v.startsWith("$")) {
                    return v;
                }
            }
        } catch (IOException ignored) {
            // fall through
        }
        return "dev";
    }
}
