package dev.aireview.runner.observability;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.BitSet;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Replaces secrets in text with {@code ****}. Immutable and thread-safe.
 *
 * <p>Each secret is searched in every form it travels in: as written; URL-encoded (form encoding with {@code +} or
 * {@code %20}, RFC 3986 encoding of all but the unreserved characters, upper- and lower-case hex), as in a clone
 * URL or a query string; and base64 (standard and URL-safe alphabet), as in an HTTP basic-auth header. A secret
 * embedded in a longer base64-encoded text can start at any byte offset, and its encoding then depends on the
 * offset modulo 3: for each of the three alignments the characters that depend on the secret's bytes alone are a
 * needle (at most four bits on either side stay visible, which reveal nothing).
 *
 * <p>Every occurrence of every needle is found in the original text and the union of the matches is masked, so
 * overlapping secrets are masked whole whatever their order. Text that is cut (a line split by the log pump) goes
 * through {@link #maskForCut}, which holds back a trailing part that may be the beginning of a secret, so no
 * piece ever carries part of a secret.
 *
 * <p>Values shorter than {@link #MIN_LENGTH} characters are not searched: they would match ordinary words
 * everywhere and mangle every log line, and a secret that short can be guessed anyway. Where a secret's place is
 * known from structure (the user-info of a repository URL) it is redacted by position instead, whatever its length.
 */
public final class SecretMasker {
    public static final String MASK = "****";
    public static final int MIN_LENGTH = 4;
    private static final SecretMasker NONE = new SecretMasker(List.of(), List.of());

    /** What {@link #maskForCut} returns: the masked text to emit now, and the raw end to put before what follows. */
    public record Cut(String masked, String held) {
    }

    private final List<String> secrets;
    private final List<String> needles;

    private SecretMasker(List<String> secrets, List<String> needles) {
        this.secrets = secrets;
        this.needles = needles;
    }

    public static SecretMasker none() {
        return NONE;
    }

    public static SecretMasker of(Collection<String> secrets) {
        Set<String> values = new LinkedHashSet<>();
        Set<String> forms = new LinkedHashSet<>();
        for (String s : secrets) {
            if (s == null || s.length() < MIN_LENGTH || !values.add(s)) {
                continue;
            }
            forms.addAll(formsOf(s));
        }
        forms.removeIf(f -> f.length() < MIN_LENGTH);
        List<String> sorted = new ArrayList<>(forms);
        sorted.sort(Comparator.comparingInt(String::length).reversed());
        return values.isEmpty() ? NONE : new SecretMasker(List.copyOf(values), List.copyOf(sorted));
    }

    /** Every form of {@code secret} that is searched (see the class comment). */
    static Set<String> formsOf(String secret) {
        Set<String> forms = new LinkedHashSet<>();
        forms.add(secret);
        for (String enc : List.of(URLEncoder.encode(secret, StandardCharsets.UTF_8),
                URLEncoder.encode(secret, StandardCharsets.UTF_8).replace("+", "%20"), rfc3986(secret))) {
            forms.add(enc);
            forms.add(lowerHex(enc));
        }
        byte[] bytes = secret.getBytes(StandardCharsets.UTF_8);
        String padded = Base64.getEncoder().encodeToString(bytes);
        forms.add(padded);
        forms.add(Base64.getUrlEncoder().encodeToString(bytes));
        for (int offset = 0; offset < 3; offset++) {
            String core = base64Core(bytes, offset);
            if (!core.isEmpty()) {
                forms.add(core);
                forms.add(core.replace('+', '-').replace('/', '_'));
            }
        }
        return forms;
    }

    /**
     * The base64 characters of {@code bytes} placed {@code offset} bytes after a 3-byte group boundary that depend on
     * {@code bytes} alone: character i covers bits [6i, 6i+6) and is kept when they lie inside the secret's bits.
     */
    static String base64Core(byte[] bytes, int offset) {
        byte[] framed = new byte[offset + bytes.length + 2];
        System.arraycopy(bytes, 0, framed, offset, bytes.length);
        String enc = Base64.getEncoder().withoutPadding().encodeToString(framed);
        int first = (8 * offset + 5) / 6;
        int end = (8 * (offset + bytes.length)) / 6;
        return first >= end ? "" : enc.substring(first, end);
    }

    /** A masker that masks this one's secrets and {@code more}. */
    public SecretMasker with(Collection<String> more) {
        if (more.isEmpty()) {
            return this;
        }
        List<String> all = new ArrayList<>(secrets);
        all.addAll(more);
        return of(all);
    }

    public boolean isEmpty() {
        return needles.isEmpty();
    }

    /** The secrets (as given, without their other forms). */
    public List<String> secrets() {
        return secrets;
    }

    public String mask(String text) {
        if (text == null || needles.isEmpty() || text.isEmpty()) {
            return text;
        }
        BitSet hits = hits(text);
        return hits.isEmpty() ? text : render(text, hits, text.length());
    }

    /**
     * Masks {@code text} that is cut here and continues in the next piece: the longest end of it that may be the
     * start of a secret (with any match it overlaps) is not emitted but returned as {@link Cut#held()}, raw, to be
     * put in front of the next piece, where the whole secret is then found. At most half of {@code text} is held; a
     * longer possible start (a secret longer than half a piece) is masked instead.
     */
    public Cut maskForCut(String text) {
        if (text == null || needles.isEmpty() || text.isEmpty()) {
            return new Cut(text == null ? "" : text, "");
        }
        BitSet hits = hits(text);
        int len = text.length();
        int k = 0;
        for (String n : needles) {
            for (int j = Math.min(n.length() - 1, len); j > k; j--) {
                if (text.regionMatches(len - j, n, 0, j)) {
                    k = j;
                    break;
                }
            }
        }
        int start = len - k;
        if (k > 0 && start > 0 && hits.get(start - 1) && hits.get(start)) {
            start = hits.previousClearBit(start) + 1;
        }
        if (len - start > len / 2) {
            hits.set(len - k, len);
            return new Cut(render(text, hits, len), "");
        }
        return new Cut(hits.isEmpty() ? text.substring(0, start) : render(text, hits, start), text.substring(start));
    }

    private BitSet hits(String text) {
        BitSet hits = new BitSet();
        for (String n : needles) {
            int i = text.indexOf(n);
            while (i >= 0) {
                hits.set(i, i + n.length());
                i = text.indexOf(n, i + 1);
            }
        }
        return hits;
    }

    /** text[0, end) with every run of hit characters replaced by one {@link #MASK}. */
    private static String render(String text, BitSet hits, int end) {
        StringBuilder out = new StringBuilder(end);
        int i = 0;
        while (i < end) {
            int hit = hits.nextSetBit(i);
            if (hit < 0 || hit >= end) {
                out.append(text, i, end);
                break;
            }
            out.append(text, i, hit).append(MASK);
            int clear = hits.nextClearBit(hit);
            i = Math.min(clear, end);
        }
        return out.toString();
    }

    private static String rfc3986(String s) {
        StringBuilder out = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~') {
                out.append(c);
            } else {
                out.append('%').append(String.format(Locale.ROOT, "%02X", b & 0xff));
            }
        }
        return out.toString();
    }

    private static String lowerHex(String encoded) {
        StringBuilder out = new StringBuilder(encoded.length());
        for (int i = 0; i < encoded.length(); i++) {
            char c = encoded.charAt(i);
            out.append(c);
            if (c == '%' && i + 2 < encoded.length()) {
                out.append(Character.toLowerCase(encoded.charAt(i + 1))).append(Character.toLowerCase(encoded.charAt(i + 2)));
                i += 2;
            }
        }
        return out.toString();
    }
}
