package dev.aireview.runner.source;

/** Test access to the cache's package-private parts from other packages. */
public final class RepoCacheAccess {
    private RepoCacheAccess() {
    }

    /** The entry directory name of {@code url} ({@link RepoCache#keyOf}). */
    public static String keyOf(String url) {
        return RepoCache.keyOf(url);
    }
}
