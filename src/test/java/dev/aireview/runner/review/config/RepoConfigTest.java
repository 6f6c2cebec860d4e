package dev.aireview.runner.review.config;

import dev.aireview.runner.model.Severity;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Parsing and validation of {@code .ai-review.yml}, and its path globs. */
class RepoConfigTest {

    static final String EXAMPLE = """
            # .ai-review.yml, read at the base commit
            exclude:
              - "docs/**"
              - "*.snap"
            include:
              - "src/**"
              - "scripts/"
            instructions:
              - path: "src/main/java/shop/payment/**"
                text: "Amounts are long cents; flag any double used for money."
              "src/**/*.ts": "We target ES2020; no optional catch binding polyfills."
            rules:
              - "Every public endpoint checks the caller's permission"
            severity_threshold: warning
            max_comments: 20
            language: German
            languages:
              "templates/**": "Go text/template"
            offline_rules:
              todo: false
              long-line: false
            """;

    @Test
    void fullExampleIsRead() {
        RepoConfigLoader.Loaded l = RepoConfigLoader.parse(EXAMPLE.replace("  \"src/**/*.ts\": \"We target ES2020; no optional catch binding polyfills.\"\n", ""), "t");
        assertEquals(List.of(), l.problems());
        RepoConfig c = l.config();
        assertTrue(c.reviews("src/main/java/shop/A.java"));
        assertTrue(c.reviews("scripts/deploy.sh"));
        assertFalse(c.reviews("docs/guide.md"), "excluded");
        assertFalse(c.reviews("src/__snapshots__/a.snap"), "excluded by name in any directory");
        assertFalse(c.reviews("README.md"), "not included");
        assertEquals(1, c.instructions().size());
        assertEquals(1, c.instructionsFor(List.of("src/main/java/shop/payment/Charge.java")).size());
        assertEquals(0, c.instructionsFor(List.of("src/main/java/shop/Cart.java")).size());
        assertEquals(List.of("Every public endpoint checks the caller's permission"), c.rules());
        assertEquals(Severity.WARNING, c.severityThreshold());
        assertEquals(20, c.commentCap());
        assertEquals("German", c.language());
        assertEquals("Go text/template", c.languageOf("templates/mail/welcome.tmpl"));
        assertNull(c.languageOf("src/a.go"));
        assertTrue(c.offlineRules());
        assertEquals(Set.of("todo", "long-line"), c.disabledRules());
    }

    @Test
    void mixingListAndMappingFormsOfInstructionsIsAnError() {
        RepoConfigLoader.Loaded l = RepoConfigLoader.parse(EXAMPLE, "t");
        assertFalse(l.problems().isEmpty());
        assertSame(RepoConfig.DEFAULTS, l.config());
    }

    @Test
    void mappingFormAndCamelCaseKeysAreAccepted() {
        RepoConfigLoader.Loaded l = RepoConfigLoader.parse("""
                instructions:
                  "src/**": "Check null handling."
                severityThreshold: error
                maxComments: 5
                offlineRules: false
                """, "t");
        assertEquals(List.of(), l.problems());
        assertEquals("Check null handling.", l.config().instructions().get(0).text());
        assertEquals(Severity.ERROR, l.config().severityThreshold());
        assertEquals(5, l.config().commentCap());
        assertFalse(l.config().offlineRules());
    }

    @Test
    void everyProblemIsNamedAndTheDefaultsAreUsed() {
        RepoConfigLoader.Loaded l = RepoConfigLoader.parse("""
                exlude: ["docs/**"]
                severity_threshold: critical
                max_comments: 5000
                offline_rules: sometimes
                include: {a: b}
                """, "t");
        assertSame(RepoConfig.DEFAULTS, l.config());
        String all = String.join("\n", l.problems());
        assertTrue(all.contains("unknown key 'exlude'"), all);
        assertTrue(all.contains("severity_threshold must be one of info, warning, error (got 'critical')"), all);
        assertTrue(all.contains("max_comments must be a whole number from 0 to 200"), all);
        assertTrue(all.contains("offline_rules must be true, false, or a mapping"), all);
        assertTrue(all.contains("include must be a list of texts"), all);
    }

    @Test
    void invalidYamlAndNonMappingsAreProblems() {
        assertTrue(RepoConfigLoader.parse("exclude: [unclosed\n", "t").problems().get(0).startsWith("not valid YAML"));
        assertEquals(List.of("the top level must be a mapping of settings"), RepoConfigLoader.parse("- a\n- b\n", "t").problems());
        assertTrue(RepoConfigLoader.parse("rules: [a]\nrules: [b]\n", "t").problems().get(0).startsWith("not valid YAML"),
                "duplicate keys are refused");
        assertEquals(List.of(), RepoConfigLoader.parse("# only a comment\n", "t").problems());
        assertTrue(RepoConfigLoader.parse("exclude: [\"src/{a,b\"]\n", "t").problems().get(0).contains("unbalanced '{'"));
    }

    @Test
    void aliasBombAndOversizedFilesAreRefusedQuickly() {
        StringBuilder bomb = new StringBuilder("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (char c = 'b'; c <= 'k'; c++) {
            char p = (char) (c - 1);
            bomb.append(c).append(": &").append(c).append(" [*").append(p).append(",*").append(p).append(",*").append(p).append(",*")
                    .append(p).append(",*").append(p).append(",*").append(p).append(",*").append(p).append(",*").append(p).append(",*").append(p).append("]\n");
        }
        long start = System.nanoTime();
        RepoConfigLoader.Loaded l = RepoConfigLoader.parse(bomb.toString(), "t");
        assertEquals(List.of("YAML aliases (*name) are not supported in this file"), l.problems());
        assertTrue(System.nanoTime() - start < 10_000_000_000L, "the alias bomb was expanded");
        String big = "rules:\n" + "  - \"a rule that is quite long but fine\"\n".repeat(2000);
        assertTrue(RepoConfigLoader.parse(big, "t").problems().get(0).contains("larger than " + RepoConfigLoader.MAX_BYTES), "size cap");
    }

    @Test
    void globsFollowGitignoreLikeRules() {
        assertTrue(Glob.of("src/**").matches("src/A.java"));
        assertTrue(Glob.of("src/**").matches("src/a/b/C.java"));
        assertFalse(Glob.of("src/**").matches("lib/src/A.java"));
        assertTrue(Glob.of("src/**/*.java").matches("src/A.java"));
        assertTrue(Glob.of("src/**/*.java").matches("src/x/y/A.java"));
        assertFalse(Glob.of("src/*.java").matches("src/x/A.java"));
        assertTrue(Glob.of("*.min.js").matches("public/js/app.min.js"));
        assertTrue(Glob.of("docs/").matches("docs/a/b.md"));
        assertTrue(Glob.of("./generated/*.{ts,js}").matches("generated/api.ts"));
        assertFalse(Glob.of("generated/*.{ts,js}").matches("generated/api.go"));
        assertTrue(Glob.of("a?c.txt").matches("dir/abc.txt"));
        assertFalse(Glob.of("a.c").matches("abc"), "dots are literal");
    }
}
