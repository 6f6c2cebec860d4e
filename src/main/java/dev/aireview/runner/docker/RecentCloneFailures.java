package dev.aireview.runner.docker;

import dev.aireview.runner.model.RepositoryUrl;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Repositories whose clone failed recently (issue 18, "pickup stays immediate"): a cold task of such a repository
 * clones in a container of its own before any review container exists, so a repeated failure (a repository that is
 * gone, a branch deleted, credentials revoked) costs one container and frees its slot as fast as a raw
 * {@code docker run} of the same failure. A successful clone clears the mark.
 *
 * <p>Bounded (least recently used entries go first). Keyed by a SHA-256 of the URL without its user-info (scheme,
 * host in lower case, port, path): no credential and no URL text is kept. Thread-safe.
 */
final class RecentCloneFailures {
    static final int CAPACITY = 256;

    private final Map<String, Boolean> marks;

    RecentCloneFailures(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be positive: " + capacity);
        }
        this.marks = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                return size() > capacity;
            }
        };
    }

    /** True when the last clone of {@code url} failed (and no success since). */
    synchronized boolean failedRecently(String url) {
        String key = keyOf(url);
        return key != null && marks.get(key) != null;
    }

    synchronized void failed(String url) {
        String key = keyOf(url);
        if (key != null) {
            marks.put(key, Boolean.TRUE);
        }
    }

    synchronized void succeeded(String url) {
        String key = keyOf(url);
        if (key != null) {
            marks.remove(key);
        }
    }

    synchronized int size() {
        return marks.size();
    }

    /** The key of a URL: a hash of it without user-info; null when it is not a URL the runner would clone. */
    static String keyOf(String url) {
        RepositoryUrl u = RepositoryUrl.parse(url);
        if (u == null || u.host() == null) {
            return null;
        }
        String host = u.host().toLowerCase(Locale.ROOT);
        String normal = u.scpLike() ? host + ":" + u.path()
                : u.scheme() + "://" + host + (u.port() == null ? "" : ":" + u.port()) + (u.path() == null ? "" : u.path());
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(normal.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
