package dev.aireview.runner.observability;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Replaces secrets in text with {@code ****}: each value, its URL-encoded form (as in a clone URL or a
 * query string) and its base64 form (as in HTTP basic auth). Immutable and thread-safe. Values shorter
 * than {@link #MIN_LENGTH} characters are ignored: masking them would mangle ordinary text.
 */
public final class SecretMasker {
    public static final String MASK = "****";
    public static final int MIN_LENGTH = 4;
    private static final SecretMasker NONE = new SecretMasker(List.of());

    private final List<String> needles;

    private SecretMasker(List<String> needles) {
        this.needles = needles;
    }

    public static SecretMasker none() {
        return NONE;
    }

    public static SecretMasker of(Collection<String> secrets) {
        Set<String> forms = new LinkedHashSet<>();
        for (String s : secrets) {
            if (s == null || s.length() < MIN_LENGTH) {
                continue;
            }
            forms.add(s);
            forms.add(URLEncoder.encode(s, StandardCharsets.UTF_8));
            forms.add(URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20"));
            forms.add(Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8)));
        }
        List<String> sorted = new ArrayList<>(forms);
        // longest first, so a secret that contains another is masked whole
        sorted.sort(Comparator.comparingInt(String::length).reversed());
        return new SecretMasker(List.copyOf(sorted));
    }

    /** A masker that masks this one's secrets and {@code more}. */
    public SecretMasker with(Collection<String> more) {
        List<String> all = new ArrayList<>(needles);
        all.addAll(more);
        return of(all);
    }

    public boolean isEmpty() {
        return needles.isEmpty();
    }

    public String mask(String text) {
        if (text == null || needles.isEmpty() || text.isEmpty()) {
            return text;
        }
        String out = text;
        for (String needle : needles) {
            if (out.contains(needle)) {
                out = out.replace(needle, MASK);
            }
        }
        return out;
    }
}
