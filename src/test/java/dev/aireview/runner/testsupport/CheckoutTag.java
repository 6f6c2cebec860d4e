package dev.aireview.runner.testsupport;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A short tag of this checkout (a hash of the project root's absolute path), part of every fixed test image tag, so
 * test runs from two checkouts on one Docker engine (parallel worktrees, CI beside a developer) neither overwrite nor
 * remove each other's images.
 */
public final class CheckoutTag {
    private static final String TAG = compute();

    private CheckoutTag() {
    }

    /** E.g. {@code 3f9a1c2e}. */
    public static String value() {
        return TAG;
    }

    /** {@code name} with this checkout's tag appended: {@code ai-review-test/chaos:test} → {@code ai-review-test/chaos:test-3f9a1c2e}. */
    public static String image(String name) {
        return name + "-" + TAG;
    }

    private static String compute() {
        String root = Path.of(System.getProperty("project.root", ".")).toAbsolutePath().normalize().toString();
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(root.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d).substring(0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
