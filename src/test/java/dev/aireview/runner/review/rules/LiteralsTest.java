package dev.aireview.runner.review.rules;

import org.junit.jupiter.api.Test;

import java.util.Locale;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one-pass literal scan answers what {@code contains} on the line (or on the lower-cased line) answers. */
class LiteralsTest {

    private static final String[] EXACT = {"AKIA", "ghp_", "://", "@", "os.Getenv", "SG.", "eyJ"};
    private static final String[] ANY_CASE = {"pass", "key", "token", "secret"};
    private static final String[] FRAGMENTS = {"AKI", "AKIA", "akia", "ghp", "ghp_", "GHP_", ":/", "://", "@", "os.Get", "os.Getenv", "SG", "SG.",
            "eyJ", "EYJ", "pas", "pass", "PASS", "Pass", "ke", "key", "KEY", "kEy", "token", "TOKEN", "tok", "secret", "SeCrEt", " ", "x", "_",
            "\u0130", "\u212A", "\u212Aey", "\u00e9", "\u0000", "s"};

    @Test
    void answersWhatContainsAnswersOnEveryGeneratedLine() {
        Literals.Builder b = Literals.builder();
        for (int i = 0; i < EXACT.length; i++) {
            b.add(1L << i, EXACT[i]);
        }
        for (int i = 0; i < ANY_CASE.length; i++) {
            b.add(1L << (20 + i), "~" + ANY_CASE[i]);
        }
        Literals literals = b.build();
        Literals.Line buffer = new Literals.Line();
        Random r = new Random(24);
        int nonAscii = 0;
        for (int n = 0; n < 100_000; n++) {
            StringBuilder line = new StringBuilder();
            for (int k = 0, len = r.nextInt(9); k < len; k++) {
                line.append(FRAGMENTS[r.nextInt(FRAGMENTS.length)]);
            }
            String text = line.toString();
            long found = literals.find(buffer.load(text)); // the buffer reused, as the rule does
            for (int i = 0; i < EXACT.length; i++) {
                assertEquals(text.contains(EXACT[i]), (found & 1L << i) != 0, EXACT[i] + " in: " + text);
            }
            boolean ascii = text.chars().allMatch(c -> c < 128);
            assertEquals(!ascii, (found & Literals.NON_ASCII) != 0, () -> "non-ASCII flag on: " + text);
            if (ascii) { // on ASCII lines, ignoring case equals looking in the lower-cased line
                for (int i = 0; i < ANY_CASE.length; i++) {
                    assertEquals(text.toLowerCase(Locale.ROOT).contains(ANY_CASE[i]), (found & 1L << (20 + i)) != 0, ANY_CASE[i] + " in: " + text);
                }
            } else {
                nonAscii++;
            }
        }
        assertTrue(nonAscii > 1_000, "the generated lines exercise the non-ASCII flag: " + nonAscii);
    }

    @Test
    void refusesLiteralsItCannotScanFor() {
        assertThrows(IllegalArgumentException.class, () -> Literals.builder().add(1, "caf\u00e9").build());
        assertThrows(IllegalArgumentException.class, () -> Literals.builder().add(1, "~Key").build());
        assertThrows(IllegalArgumentException.class, () -> Literals.builder().add(1, "a\u0000").build());
        assertThrows(IllegalArgumentException.class, () -> Literals.builder().add(Literals.NON_ASCII, "key").build());
    }
}
