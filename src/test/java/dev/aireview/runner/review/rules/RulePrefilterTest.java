package dev.aireview.runner.review.rules;

import org.junit.jupiter.api.Test;

import java.util.Locale;
import java.util.Random;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The literal tests that let the rules skip their patterns on most lines must never skip a line a pattern matches:
 * seeded random lines built from the fragments the patterns look for (names, operators, quotes, env lookups,
 * markers, cases) and checked against the patterns themselves.
 */
class RulePrefilterTest {

    private static final String[] FRAGMENTS = {
            "password", "PASSWORD", "Passwd", "passphrase", "pwd", "secret", "SECRET", "token", "Token", "apiKey", "api_key",
            "API-KEY", "accessKey", "private_key", "credential", "Credentials", "bearer", "key", "keys", "s", "ss", "_hint",
            "tokenizer", " ", "  ", "\t", "=", ":", ":=", "=>", "\"", "'", "`", "(", ")", ",", " to ", ".", "-", "_",
            "set", "with", "String", " string", "SecretString(", "abcdef123", "s3cr3tV4lue", "xyz", "K",
            "System.getenv(", "process.env.", "os.environ[", "os.Getenv(", "os.LookupEnv(", "ENV[", "ENV.fetch(",
            "Environment.GetEnvironmentVariable(", "env(", "config.get(", "getString(", "viper.GetString(",
            "secretsManager", "vault.", "System.getProperty(", "import.meta.env.", "getenv(",
            "TODO", "FIXME", "XXX", "HACK", "todo", "//", "#", "/*", "*/", "-->", "<!--", "--", ";", "(bob)", "XX", "TOD",
            "\u0130", "\u212A"};

    private static String randomLine(Random r) {
        StringBuilder b = new StringBuilder();
        for (int i = 0, n = 1 + r.nextInt(12); i < n; i++) {
            b.append(FRAGMENTS[r.nextInt(FRAGMENTS.length)]);
        }
        return b.toString();
    }

    private static String pick(Random r, String... options) {
        return options[r.nextInt(options.length)];
    }

    /**
     * 100 000 generated lines: none that a name pattern matches may be skipped by the prefilter; answers
     * {matched, skipped}.
     */
    private static int[] checkSecretNamePrefilter(Random r, java.util.function.Function<Random, String> lines) {
        int matched = 0;
        int skipped = 0;
        for (int i = 0; i < 100_000; i++) {
            String line = lines.apply(r);
            boolean may = SecretRule.mayHoldSecretWord(line) && SecretRule.mayNameALiteral(line, line.toLowerCase(Locale.ROOT));
            for (Pattern p : new Pattern[]{SecretRule.QUOTED_ASSIGNMENT, SecretRule.SETTER, SecretRule.KEY_VALUE_CALL}) {
                if (p.matcher(line).find()) {
                    matched++;
                    assertTrue(may, () -> "prefilter skipped a line " + p + " matches: " + line);
                }
            }
            if (!may) {
                skipped++;
            }
        }
        return new int[]{matched, skipped};
    }

    /** Lines shaped like the name patterns' matches and near misses, piece by piece. */
    private static String assignmentLike(Random r) {
        return pick(r, "", "  ", "val ", "const ", "\"", "'", "x.", "set", "with", ".", "put(\"", "Map.of('", "a + \"")
                + pick(r, "", "db", "DB_", "client_", "spring.datasource.", "my-", "api", "Api_", "x9")
                + pick(r, "password", "PASSWORD", "passwd", "passphrase", "pwd", "secret", "Secret", "token", "TOKEN", "apiKey",
                "api_key", "api-key", "apikey", "accessKey", "secret_key", "privateKey", "auth-key", "signingKey",
                "encryption_key", "credential", "credentials", "bearer", "key", "keys")
                + pick(r, "", "", "s", "ss", "_hint", "izer", "Id", "\u212A", "\u0130")
                + pick(r, "", "\"", "'", " ", "\t", ": String", " string", ":str")
                + pick(r, "", " ", "\t")
                + pick(r, "=", ":", ":=", "=>", "(", ",", " to ", "", "==", ";")
                + pick(r, "", " ", "  ")
                + pick(r, "", "", "SecretString(", "f(")
                + pick(r, "\"", "'", "`", "")
                + pick(r, "s3cr3tV4lue", "abc", "hunter22", "${X}", "a b c d e f", "longervalue123")
                + pick(r, "\"", "'", "`", "")
                + pick(r, "", ")", ");", ",", " // x");
    }

    @Test
    void secretNamePrefilterNeverSkipsALineShapedLikeAnAssignment() {
        int[] counts = checkSecretNamePrefilter(new Random(19), RulePrefilterTest::assignmentLike);
        assertTrue(counts[0] > 2_000, "the generated lines exercise the patterns: " + counts[0]);
        assertTrue(counts[1] > 1_000, "the prefilter skips lines at all: " + counts[1]);
    }

    @Test
    void secretNamePrefilterNeverSkipsALineTheNamePatternsMatch() {
        int[] counts = checkSecretNamePrefilter(new Random(20), RulePrefilterTest::randomLine);
        assertTrue(counts[0] > 0, "the generated lines exercise the patterns: " + counts[0]);
        assertTrue(counts[1] > 10_000, "the prefilter skips lines at all: " + counts[1]);
        assertFalse(SecretRule.mayNameALiteral("    password_hint = compute_hint(user, \"a3f9c0d1e2b4a5968778\")",
                "    password_hint = compute_hint(user, \"a3f9c0d1e2b4a5968778\")"));
        assertTrue(SecretRule.mayNameALiteral("credentialss = 'abcdefgh'", "credentialss = 'abcdefgh'"));
    }

    @Test
    void envLookupPrefilterNeverSkipsALineThePatternMatches() {
        Random r = new Random(21);
        int matched = 0;
        for (int i = 0; i < 100_000; i++) {
            String line = randomLine(r);
            if (SecretRule.ENV_LOOKUP.matcher(line).find()) {
                matched++;
                assertTrue(SecretRule.mayLookUpEnv(line), () -> "prefilter skipped an env lookup: " + line);
            }
        }
        assertTrue(matched > 1_000, "the generated lines exercise the pattern: " + matched);
        assertFalse(SecretRule.mayLookUpEnv("    token = compute(user)"));
    }

    /** The pattern's literal alternatives decide without it: on every generated line both answers agree. */
    @Test
    void envLookupByLiteralsAgreesWithThePattern() {
        Random r = new Random(23);
        int matched = 0;
        for (int i = 0; i < 100_000; i++) {
            String line = randomLine(r) + pick(r, "", "xenv(", " env(", "env(x)", "Env(", "os.Getenvx", "System.getenv");
            boolean found = SecretRule.ENV_LOOKUP.matcher(line).find();
            matched += found ? 1 : 0;
            assertEquals(found, SecretRule.looksUpEnv(line), () -> "the literals and the pattern disagree on: " + line);
        }
        assertTrue(matched > 10_000, "the generated lines exercise the pattern: " + matched);
        assertFalse(SecretRule.looksUpEnv("    token = getenvx(user)"));
        assertTrue(SecretRule.looksUpEnv("    token = env(\"TOKEN\")"));
        assertFalse(SecretRule.looksUpEnv("    token = myenv(\"TOKEN\")"));
    }

    @Test
    void todoPrefilterNeverSkipsALineTheMarkerPatternMatches() {
        Random r = new Random(22);
        int matched = 0;
        for (int i = 0; i < 100_000; i++) {
            String line = randomLine(r);
            boolean found = TodoRule.MARKER.matcher(line).find();
            if (found) {
                matched++;
            }
            if (found) {
                assertTrue(TodoRule.mayHoldMarker(line), () -> "prefilter skipped a marker: " + line);
            }
        }
        assertTrue(matched > 1_000, "the generated lines exercise the pattern: " + matched);
        assertFalse(TodoRule.mayHoldMarker("    url = \"https://example.org/a/b?c=d\""));
    }

    /** Pieces of the generated-file marks, their near misses and case variants, ASCII and not. */
    private static String generatedMarkLike(Random r) {
        return pick(r, "", "// ", "# ", "/* ", " * ", "<!-- ", "-- ", "x")
                + pick(r, "", "@", "Code ", "This file was ", "This file is automatically ", "auto-", "auto", "Auto", "AUTO")
                + pick(r, "generated", "Generated", "GENERATED", "gEnErAtEd", "generat", "genera", "g\u0435nerated",
                "gener\u0430ted", "do not edit", "DO NOT EDIT", "Do Not Edit", "do not  edit", "DO NOT\tEDIT", "do not edi",
                "\u0130generated", "\u212Aeep")
                + pick(r, "", " ", " by ", " .* ")
                + pick(r, "", "GNU Autoconf", "automake", "Django", "pandoc", "help2man", "Sphinx", "protoc", "DO NOT EDIT",
                "do not edit.", "dO nOt EdIt")
                + pick(r, "", " */", " -->", "\r");
    }

    @Test
    void generatedMarkPrefilterNeverSkipsALineThePatternMatches() {
        Random r = new Random(24);
        int matched = 0;
        int skipped = 0;
        for (int i = 0; i < 100_000; i++) {
            String line = i % 2 == 0 ? generatedMarkLike(r) : randomLine(r);
            boolean found = FileKinds.GENERATED_MARK.matcher(line).find();
            boolean may = FileKinds.mayHoldGeneratedMark(line);
            if (found) {
                matched++;
                assertTrue(may, () -> "prefilter skipped a generated mark: " + line);
            } else if (!may) {
                skipped++;
            }
        }
        assertTrue(matched > 20_000, "the generated lines exercise the pattern: " + matched);
        assertTrue(skipped > 20_000, "the prefilter passes over lines without a mark: " + skipped);
        assertTrue(FileKinds.mayHoldGeneratedMark("// Code GeNeRaTeD by protoc-gen-go. DO NOT EDIT."));
        assertFalse(FileKinds.mayHoldGeneratedMark("// g\u0435nerated (a Cyrillic e), do not edi"));
    }
}
