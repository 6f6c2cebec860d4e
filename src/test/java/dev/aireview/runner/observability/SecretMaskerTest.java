package dev.aireview.runner.observability;

import org.junit.jupiter.api.Test;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SecretMaskerTest {
    private static final String SECRET = "ghp_Zq8/xY+w=Tok3n!ä";
    private final SecretMasker masker = SecretMasker.of(List.of(SECRET));

    @Test
    void shouldMaskTheBase64OfASecretEmbeddedAtEveryByteOffset() {
        for (Base64.Encoder encoder : List.of(Base64.getEncoder(), Base64.getUrlEncoder(), Base64.getEncoder().withoutPadding())) {
            for (int offset = 0; offset < 9; offset++) {
                String before = "Authorization: x".repeat(3).substring(0, offset);
                String plain = before + SECRET + " and some more text after it";
                String encoded = encoder.encodeToString(plain.getBytes(StandardCharsets.UTF_8));
                String masked = masker.mask("header " + encoded + " end");

                assertTrue(masked.contains(SecretMasker.MASK), "offset " + offset + ": " + masked);
                // every base64 character that depends on the secret's bytes alone is gone
                int first = (8 * offset + 5) / 6;
                int end = 8 * (offset + SECRET.getBytes(StandardCharsets.UTF_8).length) / 6;
                String core = encoded.substring(first, end);
                for (int i = 0; i + 4 <= core.length(); i++) {
                    assertFalse(masked.contains(core.substring(i, i + 4)), "offset " + offset + " leaks " + core.substring(i, i + 4) + ": " + masked);
                }
                assertTrue(masked.startsWith("header "), masked);
            }
        }
    }

    @Test
    void shouldMaskEveryUrlEncodingOfASecret() {
        String form = URLEncoder.encode(SECRET, StandardCharsets.UTF_8);
        String text = String.join(" | ", SECRET, form, form.replace("+", "%20"), "ghp_Zq8%2fxY%2bw%3dTok3n%21%c3%a4",
                "ghp_Zq8%2FxY%2Bw%3DTok3n%21%C3%A4");
        String masked = masker.mask(text);
        assertEquals("**** | **** | **** | **** | ****", masked);
    }

    @Test
    void shouldMaskOverlappingSecretsWholeWhateverTheirOrder() {
        SecretMasker m = SecretMasker.of(List.of("abcdef", "defghi"));
        assertEquals("x **** y", m.mask("x abcdefghi y"));
        assertEquals("x **** y", SecretMasker.of(List.of("defghi", "abcdef")).mask("x abcdefghi y"));
    }

    @Test
    void shouldLeaveValuesShorterThanFourCharactersAlone() {
        SecretMasker m = SecretMasker.of(List.of("abc", "ab", ""));
        assertTrue(m.isEmpty());
        assertEquals("abc ab", m.mask("abc ab"));
        assertEquals(List.of("abcd"), SecretMasker.of(List.of("abcd", "abc")).secrets());
    }

    @Test
    void shouldHoldBackTheStartOfASecretAtACut() {
        String text = "x".repeat(100) + SECRET.substring(0, 7);
        SecretMasker.Cut cut = masker.maskForCut(text);
        assertEquals("x".repeat(100), cut.masked());
        assertEquals(SECRET.substring(0, 7), cut.held());
        assertEquals("**** and on", masker.mask(cut.held() + SECRET.substring(7) + " and on"));

        SecretMasker.Cut none = masker.maskForCut("no secret here at all, the end.");
        assertEquals("no secret here at all, the end.", none.masked() + none.held(), "nothing masked, nothing lost");
    }

    @Test
    void shouldHoldAWholeMatchThatOverlapsAPossibleSecretStart() {
        SecretMasker m = SecretMasker.of(List.of("abcdef", "defXYZ"));
        String text = "y".repeat(40) + "abcdefX";
        SecretMasker.Cut cut = m.maskForCut(text);
        assertEquals("y".repeat(40), cut.masked());
        assertEquals("abcdefX", cut.held());
        assertEquals("****XQ", m.mask(cut.held() + "Q"), "the first secret is whole again in the next piece");
        assertEquals("****", m.mask(cut.held() + "YZ"));
    }

    @Test
    void shouldMaskAPossibleSecretStartLongerThanHalfThePiece() {
        SecretMasker.Cut cut = masker.maskForCut("ab" + SECRET.substring(0, 10));
        assertEquals("", cut.held());
        assertEquals("ab****", cut.masked());
    }

    @Test
    void shouldCombineSecretsWithoutMaskingTheirForms() {
        SecretMasker m = SecretMasker.of(List.of("first-secret")).with(List.of("second-secret"));
        assertEquals(List.of("first-secret", "second-secret"), m.secrets());
        assertEquals("**** ****", m.mask("first-secret second-secret"));
    }
}
