package dev.aireview.runner.review.rules;

import java.util.ArrayList;
import java.util.List;

/**
 * Which of a fixed set of literals occur in a line, in one pass and without allocating: the literals are indexed by
 * their first two characters, so each position of the line costs one bit test, and only positions that start some
 * literal are compared further. The secret rule uses it as its prefilter (some 40 literals: a pattern runs only on a
 * line that holds a literal every one of its matches contains); for one to four literals {@link String#contains} on
 * the line itself is as cheap (measured: the copy into the buffer costs as much as a scan). Each literal belongs to
 * groups (bits of a {@code long}); {@link #find} answers the groups some literal of which occurs.
 * <p>
 * A literal written {@code ~word} (lower case) is looked for ignoring ASCII case. That equals looking for it in
 * {@code text.toLowerCase(Locale.ROOT)} only when the line is ASCII (a few other characters lower-case to ASCII
 * letters: {@code İ}, the Kelvin sign): {@link #NON_ASCII} tells the caller so, who then decides on the lower-cased
 * line itself.
 */
final class Literals {

    /** Set in {@link #find}'s answer when the line holds a character outside ASCII. */
    static final long NON_ASCII = 1L << 63;

    private final char[][] literals;
    private final boolean[] ignoreCase;
    private final long[] groups;
    /** Indices of the literals by first character (both cases for a case-insensitive one); null: none starts so. */
    private final int[][] byFirst = new int[128][];
    /**
     * Bit {@code c1 << 7 | c2}: some literal of two or more characters starts with {@code c1 c2} (every case of a
     * case-insensitive one): most positions are passed over with one bit test.
     */
    private final long[] pairs = new long[128 * 128 / 64];
    /** The groups of the one-character literals, by character. */
    private final long[] single = new long[128];
    private boolean hasSingle;

    private Literals(List<String> literals, List<Long> groups) {
        int n = literals.size();
        this.literals = new char[n][];
        this.ignoreCase = new boolean[n];
        this.groups = new long[n];
        List<List<Integer>> first = new ArrayList<>();
        for (int c = 0; c < 128; c++) {
            first.add(new ArrayList<>());
        }
        for (int i = 0; i < n; i++) {
            String l = literals.get(i);
            ignoreCase[i] = l.startsWith("~");
            String text = ignoreCase[i] ? l.substring(1) : l;
            if (text.isEmpty() || !text.chars().allMatch(c -> c > 0 && c < 128) || ignoreCase[i] && !text.equals(text.toLowerCase(java.util.Locale.ROOT))) {
                throw new IllegalArgumentException("a literal must be ASCII without NUL, and lower case when its case is ignored: " + l);
            }
            this.literals[i] = text.toCharArray();
            long g = groups.get(i);
            if (g == 0 || (g & NON_ASCII) != 0) {
                throw new IllegalArgumentException("groups 0-62 only: " + l);
            }
            this.groups[i] = g;
            char c = text.charAt(0);
            if (text.length() == 1) {
                for (char v : variants(c, ignoreCase[i])) {
                    single[v] |= g;
                }
                hasSingle = true;
                continue;
            }
            for (char v : variants(c, ignoreCase[i])) {
                first.get(v).add(i);
                for (char w : variants(text.charAt(1), ignoreCase[i])) {
                    int pair = v << 7 | w;
                    pairs[pair >>> 6] |= 1L << pair;
                }
            }
        }
        for (int c = 0; c < 128; c++) {
            if (!first.get(c).isEmpty()) {
                byFirst[c] = first.get(c).stream().mapToInt(Integer::intValue).toArray();
            }
        }
    }

    /** The character, and its upper case when case is ignored. */
    private static char[] variants(char c, boolean ignoreCase) {
        return ignoreCase && c >= 'a' && c <= 'z' ? new char[]{c, (char) (c - 'a' + 'A')} : new char[]{c};
    }

    /** Builds a set: {@link #add} literals to groups, then {@link #build}. */
    static Builder builder() {
        return new Builder();
    }

    static final class Builder {
        private final List<String> literals = new ArrayList<>();
        private final List<Long> groups = new ArrayList<>();

        /** Each literal (a leading {@code ~}: ignoring ASCII case) in the groups {@code groupBits}. */
        Builder add(long groupBits, String... literal) {
            for (String l : literal) {
                literals.add(l);
                groups.add(groupBits);
            }
            return this;
        }

        Literals build() {
            return new Literals(literals, groups);
        }
    }

    /** One line's characters in a buffer a rule reuses from line to line: read from an array, not through {@code charAt}. */
    static final class Line {
        private char[] chars = new char[256];
        private int length;

        /**
         * Holds {@code text} from now on (the buffer grows as needed, never per line), followed by a NUL that no
         * literal holds: the scans read one character ahead without a bounds test.
         */
        Line load(String text) {
            int n = text.length();
            if (n + 1 > chars.length) {
                chars = new char[Math.max(n + 1, 2 * chars.length)];
            }
            text.getChars(0, n, chars, 0);
            chars[n] = 0;
            length = n;
            return this;
        }
    }

    /**
     * The groups some literal of which occurs in the line, or'ed; plus {@link #NON_ASCII} when it holds a character
     * outside ASCII.
     */
    long find(Line line) {
        char[] text = line.chars;
        int n = line.length;
        long[] pairs = this.pairs; // fields read once: the loop stays tight under the client compiler too
        long[] single = hasSingle ? this.single : null;
        long found = 0;
        char d = text[0];
        for (int i = 0; i < n; i++) {
            char c = d;
            d = text[i + 1]; // the NUL after the line at the end
            if (c >= 128) {
                found |= NON_ASCII;
                continue;
            }
            if (single != null) {
                found |= single[c];
            }
            int pair = c << 7 | d;
            if (d >= 128 || (pairs[pair >>> 6] & 1L << pair) == 0) {
                continue;
            }
            for (int k : byFirst[c]) {
                if ((found & groups[k]) != groups[k] && at(text, n, i, k)) {
                    found |= groups[k];
                }
            }
        }
        return found;
    }

    long find(String text) {
        return find(new Line().load(text));
    }

    /** Literal {@code k} occurs in {@code text[0, n)} at {@code from} (its first character is known to match). */
    private boolean at(char[] text, int n, int from, int k) {
        char[] l = literals[k];
        if (from + l.length > n) {
            return false;
        }
        if (ignoreCase[k]) {
            for (int j = 1; j < l.length; j++) {
                char c = text[from + j];
                if ((c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c) != l[j]) {
                    return false;
                }
            }
        } else {
            for (int j = 1; j < l.length; j++) {
                if (text[from + j] != l[j]) {
                    return false;
                }
            }
        }
        return true;
    }
}
