package dev.aireview.runner.review.rules;

import java.util.regex.Pattern;

/**
 * Whether a literal looks like a secret value, by its shape alone: length, character classes and Shannon entropy
 * (bits per character). One pass over the value, no regex backtracking: linear in its length. Used by
 * {@link SecretRule} for literals assigned to secret-like names (the name already says "secret"; the value must
 * not say "word", "placeholder" or "identifier") and for token-shaped matches (a known prefix followed by
 * {@code xxxx…} or {@code 0000…} is a placeholder).
 */
final class SecretValue {

    /** Longest literal judged: longer ones are data (a base64 image, a certificate body), not a credential. */
    static final int MAX_LENGTH = 200;
    /** Bits per character a random key of 16+ characters reaches easily (hex: up to 4, base62: up to 5.95). */
    private static final double KEY_ENTROPY = 3.0;
    /** Below this a token-shaped match is mostly one repeated character ({@code AKIAXXXXXXXXXXXXXXXX}). */
    private static final double TOKEN_ENTROPY = 2.5;
    /**
     * Words, in any language: {@code Authorization}, {@code bearer-tokens}, {@code X-Auth-Token}, {@code Passwort},
     * {@code API-Schlüssel}, {@code session-store}; a capital (or an acronym) and small letters, joined by separators.
     */
    private static final Pattern WORDS = Pattern.compile("(?:\\p{Lu}{1,6}|\\p{Lu}?\\p{Ll}{1,30})(?:[-_ .:/](?:\\p{Lu}{1,6}|\\p{Lu}?\\p{Ll}{1,30})){0,8}");
    /** {@code 123e4567-e89b-12d3-a456-426614174000}: an identifier (request, tenant, resource), not a credential. */
    private static final Pattern UUID = Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    private SecretValue() {
    }

    /** Shannon entropy of the value's characters, in bits per character (0 for an empty value). */
    static double entropy(CharSequence s) {
        int n = s.length();
        if (n == 0) {
            return 0;
        }
        int[] ascii = new int[128];
        int other = 0;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 128) {
                ascii[c]++;
            } else {
                other++;
            }
        }
        double h = 0;
        for (int count : ascii) {
            if (count > 0) {
                double p = (double) count / n;
                h -= p * Math.log(p);
            }
        }
        if (other > 0) { // rare: count non-ASCII characters as distinct, an upper bound
            double p = 1.0 / n;
            h -= other * p * Math.log(p);
        }
        return h / Math.log(2);
    }

    /** How many of lower-case letters, upper-case letters and digits the value has (0–3), and whether it has a symbol. */
    private static int classes(String s) {
        boolean lower = false;
        boolean upper = false;
        boolean digit = false;
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            lower |= c >= 'a' && c <= 'z';
            upper |= c >= 'A' && c <= 'Z';
            digit |= c >= '0' && c <= '9';
        }
        return (lower ? 1 : 0) + (upper ? 1 : 0) + (digit ? 1 : 0);
    }

    private static boolean hasSymbol(String s) {
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9')) {
                return true;
            }
        }
        return false;
    }

    /**
     * A password a person chose: 6+ characters that are not a word or two ({@code letmein}, {@code Passwort}, a label
     * in a translation file): two classes of letters and digits ({@code hunter2}), a symbol, or 12+ characters (a
     * passphrase: {@code correct-horse-battery}).
     */
    static boolean passwordLike(String value) {
        int n = value.length();
        if (n < 6 || n > MAX_LENGTH || n < 12 && WORDS.matcher(value).matches()) {
            return false;
        }
        return classes(value) >= 2 || hasSymbol(value) || n >= 12;
    }

    /**
     * A generated key, token or secret: 8+ characters mixing letters and digits (or cases), with at least
     * {@link #KEY_ENTROPY} bits per character (less for short values, which cannot reach it: 0.8 × log2 of the length),
     * and neither words ({@code X-Auth-Token}, {@code bearer-tokens}) nor a UUID.
     */
    static boolean keyLike(String value) {
        int n = value.length();
        if (n < 8 || n > MAX_LENGTH || classes(value) < 2) {
            return false;
        }
        double needed = Math.min(KEY_ENTROPY, 0.8 * Math.log(n) / Math.log(2));
        return entropy(value) >= needed && !WORDS.matcher(value).matches() && !UUID.matcher(value).matches();
    }

    /** A token-shaped match that is a placeholder: mostly one repeated character ({@code ghp_xxxx…}, {@code AKIA0000…}). */
    static boolean placeholderToken(String match) {
        return entropy(match) < TOKEN_ENTROPY;
    }
}
