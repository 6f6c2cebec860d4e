package dev.aireview.runner.review.rules;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one-pass scan answers what a {@code contains} per literal answers, for Latin-1 lines and beyond. */
class AnyLiteralTest {

    private static final String[] LITERALS = {"TODO", "FIXME", "XXX", "HACK", "print", "pdb", "console."};
    private static final String[] FRAGMENTS = {"TOD", "TODO", "todo", "FIX", "FIXME", "XX", "XXX", "HAC", "HACK", "prin", "print", "pd",
            "pdb", "console", "console.", ".", " ", "x", "\u00e9", "\u00ff", "\u0130", "\u20ac", "\ud83d\ude00", "\ud83d", "?", "\u0000"};

    private static boolean containsAny(String text) {
        return Arrays.stream(LITERALS).anyMatch(text::contains);
    }

    @Test
    void answersWhatContainsAnswersOnEveryGeneratedLine() {
        AnyLiteral any = new AnyLiteral(LITERALS);
        Random r = new Random(20);
        int beyondLatin1 = 0;
        for (int n = 0; n < 100_000; n++) {
            StringBuilder line = new StringBuilder();
            for (int k = 0, len = r.nextInt(9); k < len; k++) {
                line.append(FRAGMENTS[r.nextInt(FRAGMENTS.length)]);
            }
            String text = line.toString();
            if (text.chars().anyMatch(c -> c > 0xff)) {
                beyondLatin1++;
            }
            assertEquals(containsAny(text), any.in(text), () -> "line " + text.codePoints().mapToObj(Integer::toHexString).toList());
        }
        assertTrue(beyondLatin1 > 10_000, "lines with characters beyond Latin-1 (a surrogate pair among them) were tested: " + beyondLatin1);
    }

    @Test
    void findsALiteralAtEitherEndAndAfterASurrogatePair() {
        AnyLiteral any = new AnyLiteral("TODO", "XXX");
        assertTrue(any.in("TODO"));
        assertTrue(any.in("a XXX"));
        assertTrue(any.in("\ud83d\ude00\ud83d\ude00 TODO"), "a pair is one '?' in the copy: the line is shorter than the text");
        assertFalse(any.in("TOD"));
        assertFalse(any.in("XX"));
        assertFalse(any.in("\ud83d\ude00\ud83d\ude00 TOD"));
        assertFalse(any.in("\u0154ODO"), "a character whose low byte is 'T' does not become one");
    }

    @Test
    void refusesLiteralsItCannotScanFor() {
        assertThrows(IllegalArgumentException.class, AnyLiteral::new);
        assertThrows(IllegalArgumentException.class, () -> new AnyLiteral(""));
        assertThrows(IllegalArgumentException.class, () -> new AnyLiteral("caf\u00e9"));
        assertThrows(IllegalArgumentException.class, () -> new AnyLiteral("a?b"), "the copy's stand-in for other characters");
    }
}
