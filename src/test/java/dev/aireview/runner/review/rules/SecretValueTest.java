package dev.aireview.runner.review.rules;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The shape of a secret value: entropy, character classes, words, UUIDs; and the rule's use of it per kind of name. */
class SecretValueTest {

    @Test
    void entropyIsShannonsInBitsPerCharacter() {
        assertEquals(0.0, SecretValue.entropy(""), 1e-9);
        assertEquals(0.0, SecretValue.entropy("aaaaaaaa"), 1e-9);
        assertEquals(1.0, SecretValue.entropy("aabb"), 1e-9);
        assertEquals(2.0, SecretValue.entropy("abcd"), 1e-9);
        assertEquals(4.0, SecretValue.entropy("0123456789abcdef"), 1e-9);
        assertEquals(3.0, SecretValue.entropy("äöüßabcd"), 1e-9, "non-ASCII characters count as distinct");
    }

    @Test
    void generatedKeysAreKeyLikeAndWordsUuidsRepeatsAndShortValuesAreNot() {
        for (String key : List.of("pk9Fj2kLq8ZxR4tY", "f3a9c1e5b2d4f6a8", "a9B8c7D6e5F4", "tok-8f7e6d5c4b3a", "k8s-Sup3r-Secret",
                "django-insecure-8f#k2l!x9z", "wJalrXUtnFEMI/K7MDENG/bPxRfiCY1234567890", "QWErtyUIOpasDFghJKlz")) {
            assertTrue(SecretValue.keyLike(key), key);
        }
        for (String not : List.of("Authorization", "X-Auth-Token", "bearer-tokens", "API-Schlüssel", "session-store", "Geheimnis",
                "123e4567-e89b-12d3-a456-426614174000", "abc123abc123abc123", "aB1aB1aB1aB1", "a1b2c3", "lowercaseonlyvalue",
                "X".repeat(SecretValue.MAX_LENGTH - 10) + "a1b2c3d4e5f6g7h8i9j0")) {
            assertFalse(SecretValue.keyLike(not), not);
        }
    }

    @Test
    void passwordsArePasswordLikeAndOneOrTwoWordsAreNot() {
        for (String pw : List.of("hunter2", "hunter2hunter2", "Winter2024!x", "correct-horse-battery", "s3cure-Pa55", "Sommer-Regen")) {
            assertTrue(SecretValue.passwordLike(pw), pw);
        }
        for (String not : List.of("letmein", "Passwort", "connecting", "Mot-Passe", "abc12")) {
            assertFalse(SecretValue.passwordLike(not), not);
        }
    }

    @Test
    void aTokenOfAKnownFormatMadeOfOneRepeatedCharacterIsAPlaceholder() {
        assertTrue(SecretValue.placeholderToken("AKIA" + "X".repeat(16)));
        assertTrue(SecretValue.placeholderToken("ghp" + "_" + "x".repeat(36)));
        assertFalse(SecretValue.placeholderToken("AKIA" + "Q3EGRT7J6HWPLMXN"));
    }

    @Test
    void theRuleJudgesAValueByTheKindOfName() {
        assertTrue(SecretRule.secretValue("DB_PASSWORD", "hunter2"), "a password may be short and human");
        assertFalse(SecretRule.secretValue("API_KEY", "hunter2"), "a key is generated: long and random");
        assertTrue(SecretRule.secretValue("api_key", "zq8Lm3Nx7Rt2"));
        assertFalse(SecretRule.secretValue("password", "Passwort"), "a label in a translation file");
        assertFalse(SecretRule.secretValue("secret", "test-secret-123"), "a test value");
        assertEquals("a literal value assigned to `clientSecret`",
                SecretRule.classify("const clientSecret = \"" + "Xk29fLm0" + "Qp7Rz3Vb\";", false));
        assertEquals(null, SecretRule.classify("const clientSecret = \"Authorization\";", false));
    }
}
