package dev.aireview.runner.review.rules;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Whether a line may hold any of a few case-sensitive ASCII literals, in one pass over the line's bytes instead of one
 * {@link String#contains} scan per literal: a rule's prefilter for two to a dozen literals (todo's four markers,
 * debug-output's hints of one file type's checks). Under the executor's C1-only JIT neither {@code indexOf} nor a
 * {@code char} copy is an intrinsic; {@link String#getBytes(java.nio.charset.Charset) getBytes(ISO_8859_1)} of a Latin-1
 * line is an array copy, and the scan tests each byte against a table of the literals' first bytes.
 * <p>
 * An answer of false is exact: no literal occurs. True may be wrong only for a line holding characters beyond
 * Latin-1, which the copy turns into {@code ?} (no literal holds one), so a prefilter built on it never skips a line
 * a pattern would match. {@link Literals} is the grouped, case-insensitive kind the secret rule needs.
 */
final class AnyLiteral {

    private final byte[][] literals;
    /** Indices of the literals by first byte; null: none starts so. */
    private final int[][] byFirst = new int[128][];
    private final int shortest;

    AnyLiteral(String... literals) {
        if (literals.length == 0) {
            throw new IllegalArgumentException("no literal");
        }
        this.literals = new byte[literals.length][];
        int min = Integer.MAX_VALUE;
        for (int i = 0; i < literals.length; i++) {
            String l = literals[i];
            if (l.isEmpty() || !l.chars().allMatch(c -> c > 0 && c < 128 && c != '?')) {
                throw new IllegalArgumentException("a literal must be ASCII without NUL or '?': " + l);
            }
            this.literals[i] = l.getBytes(StandardCharsets.US_ASCII);
            int c = l.charAt(0);
            int[] at = byFirst[c];
            byFirst[c] = at == null ? new int[]{i} : append(at, i);
            min = Math.min(min, l.length());
        }
        this.shortest = min;
    }

    private static int[] append(int[] a, int v) {
        int[] b = Arrays.copyOf(a, a.length + 1);
        b[a.length] = v;
        return b;
    }

    /** True when some literal occurs in {@code text} (or, rarely, may: see the class comment). */
    boolean in(String text) {
        if (text.length() < shortest) {
            return false;
        }
        byte[] line = text.getBytes(StandardCharsets.ISO_8859_1);
        int n = line.length; // shorter than the text when a surrogate pair became one '?'
        int[][] byFirst = this.byFirst; // fields read once: the loop stays tight under the client compiler too
        byte[][] literals = this.literals;
        int last = n - shortest;
        for (int i = 0; i <= last; i++) {
            int c = line[i];
            if (c < 0) {
                continue; // a byte of 0x80 or more starts no literal
            }
            int[] candidates = byFirst[c];
            if (candidates == null) {
                continue;
            }
            for (int k : candidates) {
                byte[] l = literals[k];
                if (i + l.length <= n && startsAt(line, i, l)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean startsAt(byte[] line, int at, byte[] literal) {
        for (int j = 1; j < literal.length; j++) {
            if (line[at + j] != literal[j]) {
                return false;
            }
        }
        return true;
    }
}
