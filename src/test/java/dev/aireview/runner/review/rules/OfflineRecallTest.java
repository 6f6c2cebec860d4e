package dev.aireview.runner.review.rules;

import dev.aireview.runner.review.FileDiff;
import dev.aireview.runner.review.Fixtures;
import dev.aireview.runner.review.UnifiedDiffParser;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Recall and false-positive rate of the offline reviewer on the planted-issue fixture set
 * {@code review/recall/cases.txt} (small changes in Java, Kotlin, TypeScript, Python, Go and config files, plus
 * clean changes). Recall = expected findings (path, line, rule) found / expected; false-positive rate = findings
 * nobody expected / all findings; clean-case FP rate = clean changes with any finding / clean changes.
 */
class OfflineRecallTest {

    static final double MIN_RECALL = 0.9;
    static final double MAX_FP_RATE = 0.1;

    record Case(String id, String path, Set<String> expected, FileDiff diff) {
        boolean clean() {
            return expected.isEmpty();
        }
    }

    @Test
    void offlineReviewerFindsThePlantedIssuesWithFewFalsePositives() {
        List<Case> cases = cases();
        long planted = cases.stream().filter(c -> !c.clean()).count();
        long clean = cases.size() - planted;
        assertTrue(planted >= 60 && clean >= 20, "fixture set too small: " + planted + " planted, " + clean + " clean");

        OfflineReviewer reviewer = new OfflineReviewer();
        int expectedTotal = 0;
        int found = 0;
        int reported = 0;
        int unexpected = 0;
        int noisyCleanCases = 0;
        Map<String, int[]> byLanguage = new TreeMap<>();
        List<String> misses = new ArrayList<>();
        List<String> falsePositives = new ArrayList<>();
        for (Case c : cases) {
            Set<String> got = new LinkedHashSet<>();
            for (Finding f : reviewer.findings(List.of(c.diff()))) {
                got.add(f.rule() + "@" + f.line());
            }
            int[] lang = byLanguage.computeIfAbsent(language(c.path()), k -> new int[2]);
            for (String e : c.expected()) {
                expectedTotal++;
                lang[1]++;
                if (got.contains(e)) {
                    found++;
                    lang[0]++;
                } else {
                    misses.add(c.id() + " " + e);
                }
            }
            reported += got.size();
            for (String g : got) {
                if (!c.expected().contains(g)) {
                    unexpected++;
                    falsePositives.add(c.id() + " " + g);
                }
            }
            if (c.clean() && !got.isEmpty()) {
                noisyCleanCases++;
            }
        }
        double recall = (double) found / expectedTotal;
        double fpRate = reported == 0 ? 0 : (double) unexpected / reported;
        double cleanFpRate = (double) noisyCleanCases / clean;
        System.out.printf(Locale.ROOT, "offline reviewer on %d planted + %d clean changes: recall %.3f (%d/%d), "
                        + "false-positive rate %.3f (%d/%d findings), clean changes flagged %.3f (%d/%d)%n",
                planted, clean, recall, found, expectedTotal, fpRate, unexpected, reported, cleanFpRate, noisyCleanCases, clean);
        byLanguage.forEach((l, n) -> System.out.printf(Locale.ROOT, "  %-10s recall %d/%d%n", l, n[0], n[1]));
        misses.forEach(m -> System.out.println("  missed: " + m));
        falsePositives.forEach(m -> System.out.println("  false positive: " + m));
        assertTrue(recall >= MIN_RECALL, "recall " + recall + " below " + MIN_RECALL + "; missed " + misses);
        assertTrue(fpRate <= MAX_FP_RATE, "false-positive rate " + fpRate + " above " + MAX_FP_RATE + ": " + falsePositives);
        assertTrue(cleanFpRate <= MAX_FP_RATE, "clean changes flagged " + cleanFpRate + ": " + falsePositives);
    }

    static final double MIN_RULE_PRECISION = 0.8;

    /** One generated added file: its path, git mode, lines, whether it ends without a newline, and the expected rule@line. */
    record Generated(String path, String mode, List<String> lines, boolean noFinalNewline, Set<String> expected) {
        /** The mode of a {@link #modified} file: its lines are a hunk body (prefixed ' ', '-', '+' or '\\'). */
        static final String MODIFIED = "modified";

        FileDiff diff() {
            if (mode.equals(MODIFIED)) {
                int oldCount = 0;
                int newCount = 0;
                for (String l : lines) {
                    oldCount += l.startsWith(" ") || l.startsWith("-") ? 1 : 0;
                    newCount += l.startsWith(" ") || l.startsWith("+") ? 1 : 0;
                }
                return UnifiedDiffParser.parse("diff --git a/" + path + " b/" + path + "\nindex 1111111..2222222 100644\n--- a/" + path
                        + "\n+++ b/" + path + "\n@@ -" + MODIFIED_FROM + "," + oldCount + " +" + MODIFIED_FROM + "," + newCount + " @@\n"
                        + String.join("\n", lines) + "\n").get(0);
            }
            StringBuilder d = new StringBuilder("diff --git a/" + path + " b/" + path + "\nnew file mode " + mode + "\n--- /dev/null\n+++ b/" + path
                    + "\n@@ -0,0 +1," + lines.size() + " @@\n");
            lines.forEach(l -> d.append('+').append(l).append('\n'));
            if (noFinalNewline) {
                d.append("\\ No newline at end of file\n");
            }
            return UnifiedDiffParser.parse(d.toString()).get(0);
        }
    }

    private static Generated planted(String path, String rule, String... lines) {
        Set<String> expected = new LinkedHashSet<>();
        List<String> body = new ArrayList<>();
        for (int i = 0; i < lines.length; i++) {
            String l = lines[i];
            if (l.startsWith("!")) {
                expected.add(rule + "@" + (i + 1));
                l = l.substring(1);
            }
            body.add(l);
        }
        return new Generated(path, "100644", body, false, expected);
    }

    /** The first line of a {@link #modified} file's hunk, on both sides. */
    static final int MODIFIED_FROM = 10;

    /** A modified file: one hunk from line {@link #MODIFIED_FROM}; {@code expected} as rule@line on the new side. */
    private static Generated modified(String path, Set<String> expected, String... hunkBody) {
        return new Generated(path, Generated.MODIFIED, List.of(hunkBody), false, expected);
    }

    private static Generated clean(String path, String... lines) {
        return new Generated(path, "100644", List.of(lines), false, Set.of());
    }

    /**
     * A generated corpus of realistic added files in Java, Kotlin, TypeScript, JavaScript, Python, Go, Rust and C: planted
     * issues (marked {@code !}) and the look-alikes real commits are full of (output in tests, examples, scripts, CLI
     * entry points and {@code __main__}; URLs and placeholders that look like markers; test keys, placeholders and
     * environment lookups that look like secrets; vendored and generated trees; symbolic links and binaries diffed as text).
     */
    static List<Generated> corpus() {
        List<Generated> g = new ArrayList<>();
        for (String pkg : List.of("billing", "orders", "users")) {
            g.add(planted("src/main/java/shop/" + pkg + "/Service.java", "debug-output", "class Service {", "  void run() {",
                    "!    System.out.println(\"state \" + state);", "  }", "}"));
            g.add(planted("web/src/" + pkg + ".ts", "debug-output", "export function load() {", "!  console.log(items);", "  return items;", "}"));
            g.add(planted("lib/" + pkg + "/core.py", "debug-output", "def total(rows):", "!    breakpoint()", "    return sum(rows)"));
            g.add(planted("internal/" + pkg + "/store.go", "debug-output", "package " + pkg, "", "func Save() {", "!\tfmt.Println(\"saving\")", "}"));
            g.add(planted("src/" + pkg + ".rs", "debug-output", "pub fn total(v: &[u32]) -> u32 {", "!    dbg!(v);", "    v.iter().sum()", "}"));
            g.add(planted("src/" + pkg + "/Repo.kt", "todo", "class Repo {", "!    // TODO: retry on timeout", "    fun load() = 1", "}"));
            g.add(planted("lib/" + pkg + "/tasks.py", "todo", "def run():", "!    # FIXME: the lock is never released", "    pass"));
            g.add(planted("src/" + pkg + ".c", "todo", "int run(void) {", "!    /* XXX: overflow when n > 2^31 */", "    return 0;", "}"));
            g.add(planted("config/" + pkg + ".py", "secret", "DEBUG = False", "!DB_PASSWORD = \"q8Zr!t5Lp0-" + pkg + "Vx\""));
            g.add(planted("src/" + pkg + "/aws.ts", "secret", "!const key = \"AKIA" + "QWERTYUIOPASDFGH".substring(0, 16) + "\";"));
            g.add(planted("src/" + pkg + "/merge.js", "conflict-marker", "const a = 1;", "!<<<<<<< HEAD", "const b = 2;", "=======",
                    "const b = 3;", ">>>>>>> feature"));
            // look-alikes
            g.add(clean("src/test/java/shop/" + pkg + "/ServiceTest.java", "class ServiceTest {", "  @Test void prints() {",
                    "    System.out.println(\"expected output\");", "  }", "}"));
            g.add(clean("examples/" + pkg + "/demo.ts", "console.log(await client.list());"));
            g.add(clean("scripts/" + pkg + "_report.py", "import sys", "print(sys.argv)"));
            g.add(clean("lib/" + pkg + "/cli_helpers.py", "def main():", "    return 0", "", "if __name__ == \"__main__\":", "    print(main())"));
            g.add(clean("src/main/java/shop/" + pkg + "/Tool.java", "public final class Tool {", "  public static void main(String[] args) {",
                    "    System.out.println(run(args));", "  }", "}"));
            g.add(clean("cmd/" + pkg + "/main.go", "package main", "", "func main() {", "\tfmt.Println(version)", "}"));
            g.add(planted("cmd/" + pkg + "/debug.go", "debug-output", "package main", "", "func check() {", "!\tprintln(\"here\")", "}"));
            g.add(clean("benchmarks/" + pkg + "_bench.py", "print(timeit.timeit(run, number=100))"));
            g.add(clean("src/" + pkg + "/links.ts", "// see https://example.org/docs//api for the format", "const u = \"https://example.org/a\";"));
            g.add(clean("src/" + pkg + "/format.py", "PHONE_MASK = \"555-XXXX\"", "ACCOUNT = 'XXX-XXX'  # masked in logs", "state = \"TODO\""));
            g.add(clean("src/" + pkg + "/Status.java", "switch (s) {", "  case \"TODO\": return 0;", "  default: return 1;", "}"));
            g.add(clean("tests/" + pkg + "/test_login.py", "PASSWORD = \"test-password\"", "def test_login():", "    assert login(PASSWORD)"));
            g.add(clean("src/" + pkg + "/settings.py", "import os", "DB_PASSWORD = os.environ[\"DB_PASSWORD\"]", "API_KEY = os.getenv(\"API_KEY\", \"\")"));
            g.add(clean("src/" + pkg + "/env.ts", "const password = process.env.DB_PASSWORD;", "const token = \"${TOKEN}\";",
                    "const apiKey = \"YOUR_API_KEY\";", "const secret = \"<secret>\";"));
            g.add(clean("tests/certs/" + pkg + "/server.key", "-----BEGIN PRIVATE KEY-----", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "-----END PRIVATE KEY-----"));
            g.add(clean("docs/_templates/" + pkg + ".html", "<script>docsearch({apiKey: 'c3a1b2d4e5f60718293a4b5c6d7e8f90', indexName: 'x'});</script>"));
            g.add(planted("deploy/" + pkg + "/id_rsa", "secret", "!-----BEGIN RSA PRIVATE KEY-----", "MIIEowIBAAKCAQEA7", "-----END RSA PRIVATE KEY-----"));
            g.add(clean("vendors/" + pkg + "/lib.js", "console.log('vendored');", "// TODO upstream"));
            g.add(clean("requests/packages/urllib3/" + pkg + ".py", "print('vendored')"));
            g.add(clean("gen/" + pkg + "_pb2.py", "# Generated by the protocol buffer compiler.  DO NOT EDIT!", "print('x')  # TODO"));
            g.add(new Generated("bin/" + pkg, "120000", List.of("../tools/" + pkg + ".sh"), true, Set.of()));
            g.add(new Generated("assets/" + pkg + ".dat", "100644", List.of("\u0000\u0001binary\u0002", "\u0003more"), true, Set.of()));
            g.add(new Generated("views/" + pkg + "/row.ejs", "100644", List.of("<td><%= name %></td>"), true, Set.of()));
            g.add(new Generated("test/fixtures/" + pkg + "/page.jade", "100644", List.of("p= title"), true, Set.of()));
            g.add(new Generated("src/" + pkg + "/last.py", "100644", List.of("def f():", "    return 1"), true, Set.of("final-newline@2")));
            // patterns seen on real commits (BENCHMARKS.md, issue 20): a file that already lacked its final newline,
            // moved and repeated notes, doc-comment examples, Python's def main(), HTML templates
            g.add(modified("src/" + pkg + "/tail.js", Set.of(), " const total = 1;", "-module.exports = total", "\\ No newline at end of file",
                    "+module.exports = total;", "+module.exports.currency = 'EUR'", "\\ No newline at end of file"));
            g.add(modified("src/" + pkg + "/tail.go", Set.of("final-newline@" + (MODIFIED_FROM + 1)), " var total = 1",
                    "-var currency = \"EUR\"", "+var currency = \"USD\"", "\\ No newline at end of file"));
            g.add(modified("src/main/java/shop/" + pkg + "/Mover.java", Set.of("todo@" + (MODIFIED_FROM + 3)), " void checkout() {",
                    "-    // TODO: handle the empty cart", "+    if (open) {", "+      // TODO: handle the empty cart", "+      // FIXME: the total ignores discounts",
                    "+    }", " }"));
            g.add(planted("src/" + pkg + "/adapters.ts", "todo", "export const adapters = {",
                    "!  read: (r) => r.next(), // TODO: does null belong here?", "  write: (w, v) => w.put(v), // TODO: does null belong here?",
                    "  close: (c) => c.end(), // TODO: does null belong here?", "};"));
            g.add(planted("src/" + pkg + "/client.ts", "debug-output", "/**", "Fetches one page.", "", "@example", "```",
                    "const page = await client.get('/" + pkg + "');", "console.log(page.body);", "```", "*/",
                    "export function get(url: string) {", "!  console.log(url);", "  return fetch(url);", "}"));
            g.add(modified("src/" + pkg + "/rows.ts", Set.of("debug-output@" + (MODIFIED_FROM + 6)), " Returns every row.", "+",
                    "+@example", "+console.log(await rows());", " */", " export async function rows() {", "+  console.log('rows');", " }"));
            g.add(clean("src/" + pkg + "/report.py", "import json", "", "", "def main():", "    print(json.dumps(info(), indent=2))"));
            g.add(new Generated("site/templates/" + pkg + "/footer.html", "100644", List.of("<footer>{{ year }}</footer>"), true, Set.of()));
        }
        g.addAll(secretCorpus());
        return g;
    }

    private static final String ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private static final String HEX = "0123456789abcdef";

    /** {@code n} characters of {@code alphabet}, seeded: fake keys of the right shape, made at run time (never a literal). */
    private static String random(java.util.Random r, String alphabet, int n) {
        StringBuilder sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
        }
        return sb.toString();
    }

    /**
     * Secrets planted in the shapes real leaks have (known token formats and generated values assigned to secret-like
     * names), and the high-entropy or secret-named look-alikes real commits are full of: checksums, integrity hashes,
     * UUIDs, base64 images, source maps, placeholders shaped like tokens, environment and secret-store lookups,
     * header and type names, test fixtures.
     */
    static List<Generated> secretCorpus() {
        java.util.Random r = new java.util.Random(20);
        List<Generated> g = new ArrayList<>();
        for (String pkg : List.of("billing", "orders", "users")) {
            g.add(planted("internal/" + pkg + "/gh.go", "secret", "package " + pkg, "",
                    "!const ghToken = \"" + "ghp" + "_" + random(r, ALNUM, 36) + "\""));
            g.add(planted("ops/" + pkg + "/notify.py", "secret", "import requests",
                    "!SLACK = \"" + "xo" + "xb-" + random(r, "0123456789", 12) + "-" + random(r, "0123456789", 13) + "-" + random(r, ALNUM, 24) + "\""));
            g.add(planted("web/" + pkg + "/maps.js", "secret", "export const maps = {",
                    "!  key: '" + "AI" + "za" + random(r, ALNUM + "_-", 35) + "',", "};"));
            g.add(planted("src/main/java/shop/" + pkg + "/Pay.java", "secret", "final class Pay {",
                    "!  static final String STRIPE = \"" + "sk" + "_live_" + random(r, ALNUM, 24) + "\";", "}"));
            g.add(planted("deploy/" + pkg + "/deploy_key", "secret", "!-----BEGIN OPENSSH PRIVATE KEY-----",
                    random(r, ALNUM + "+/", 64), "-----END OPENSSH PRIVATE KEY-----"));
            g.add(planted("web/" + pkg + "/session.ts", "secret", "!const session = \"" + "ey" + "J" + random(r, ALNUM, 30) + ".ey" + "J"
                    + random(r, ALNUM, 60) + "." + random(r, ALNUM + "_-", 43) + "\";"));
            g.add(planted("lib/" + pkg + "/client.py", "secret", "import httpx", "!api_key = \"" + random(r, ALNUM, 32) + "\""));
            g.add(planted("config/" + pkg + "/app.yml", "secret", "oauth:", "!  client_secret: \"" + random(r, ALNUM + "_-", 40) + "\""));
            g.add(planted("src/" + pkg + "/Hmac.kt", "secret", "object Hmac {", "!    val signingKey = \"" + random(r, HEX, 64) + "\"", "}"));
            g.add(planted("src/" + pkg + "/.env.production", "secret", "NODE_ENV=production", "!STRIPE_SECRET=" + random(r, ALNUM, 28)));

            // look-alikes: high-entropy values that are not secrets
            g.add(clean("checksums/" + pkg + ".sha256", random(r, HEX, 64) + "  dist/" + pkg + ".tar.gz"));
            g.add(clean("web/" + pkg + "/package.json", "{", "  \"name\": \"" + pkg + "\",",
                    "  \"integrity\": \"sha512-" + random(r, ALNUM + "+/", 86) + "==\"", "}"));
            g.add(clean("build/" + pkg + ".gradle", "sha256 = \"" + random(r, HEX, 64) + "\"", "checksum = '" + random(r, HEX, 40) + "'"));
            g.add(clean("src/" + pkg + "/ids.py", "REQUEST_ID = \"" + uuid(r) + "\"", "TENANT = \"" + uuid(r) + "\"",
                    "idempotency_key = \"" + uuid(r) + "\""));
            g.add(clean("web/" + pkg + "/logo.css", ".logo { background: url(data:image/png;base64," + random(r, ALNUM + "+/", 3000) + "=); }"));
            g.add(clean("web/" + pkg + "/app.js.map", "{\"version\":3,\"sources\":[\"app.ts\"],\"sourcesContent\":[\"const secret = \\\"" + random(r, ALNUM, 24)
                    + "\\\";\"],\"mappings\":\"" + random(r, ALNUM + ",;", 400) + "\"}"));
            g.add(clean("src/" + pkg + "/commit.go", "package " + pkg, "", "const buildCommit = \"" + random(r, HEX, 40) + "\""));
            // look-alikes: secret-named values that are placeholders, words, lookups or fixtures
            g.add(clean("src/" + pkg + "/defaults.py", "API_KEY = \"xxxxxxxxxxxxxxxxxxxxxxxx\"", "AWS_KEY = \"" + "AKIA" + "XXXXXXXXXXXXXXXX\"",
                    "GITHUB = \"" + "ghp" + "_" + "x".repeat(36) + "\"", "token = \"dummy-token-value\"", "secret = \"test-secret-123\"",
                    "password = \"<PASSWORD>\"", "db_password = \"aaaaaaaa\"", "api_key = \"abc123abc123abc123\""));
            g.add(clean("src/" + pkg + "/headers.ts", "export const TOKEN_HEADER = \"Authorization\";", "const tokenType = \"Bearer\";",
                    "const apiKeyHeader = \"X-Api-Key\";", "const token: string = \"refresh_token\";", "const secretName = \"prod/payments\";"));
            g.add(clean("web/" + pkg + "/locales/de.json", "{", "  \"password\": \"Passwort\",", "  \"api_key\": \"API-Schlüssel\",",
                    "  \"secret\": \"Geheimnis\"", "}"));
            g.add(clean("internal/" + pkg + "/session.go", "package " + pkg, "", "func store() {", "\tsecretKey := \"session-store\"", "\tuse(secretKey)", "}"));
            g.add(clean("src/main/java/shop/" + pkg + "/Env.java", "final class Env {",
                    "  static final String API_KEY = System.getenv(\"API_KEY\");",
                    "  static final String SECRET = vault.read(\"secret/" + pkg + "\").get(\"value\");", "}"));
            g.add(clean("src/" + pkg + "/env.js", "const apiToken = process.env.API_TOKEN ?? \"\";", "const secret = `${process.env.SECRET}`;"));
            g.add(clean(".github/workflows/" + pkg + ".yml", "env:", "  GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}", "  NPM_TOKEN: ${{ secrets.NPM_TOKEN }}"));
            g.add(clean("src/" + pkg + "/settings.py", "import os", "SECRET_KEY = os.environ.get(\"SECRET_KEY\", \"\")",
                    "DB_PASSWORD = os.environ[\"DB_PASSWORD\"]"));
            g.add(clean("tests/" + pkg + "/test_client.py", "API_KEY = \"" + random(r, ALNUM, 32) + "\"", "def test_client():", "    assert client(API_KEY)"));
            g.add(clean("src/test/java/shop/" + pkg + "/AuthTest.java", "class AuthTest {", "  String password = \"Sup3r-" + random(r, ALNUM, 8) + "\";", "}"));
            g.add(clean("README-" + pkg + ".md", "```js", "const agent = {pem: fs.readFileSync('./client.pem'), passphrase: 'passphrase1'};", "```",
                    "Proxies with user info (`https://user:pass@proxy:8080`) are sent the credentials."));
            g.add(clean("web/" + pkg + "/url.ts", "export function hasCredential(url: URL, credential: 'username' | 'password'): boolean {",
                    "  return url[credential] !== '';", "}"));
            g.add(clean("docs/" + pkg + "/setup.md", "Set `api_key = \"" + random(r, ALNUM, 32) + "\"` in your config."));
        }
        return g;
    }

    private static String uuid(java.util.Random r) {
        return new java.util.UUID(r.nextLong(), r.nextLong()).toString();
    }

    @Test
    void everyDefaultRuleIsPreciseOnTheGeneratedCorpus() {
        OfflineReviewer reviewer = new OfflineReviewer(OfflineReviewer.defaultRules().stream().filter(Rule::onByDefault).toList());
        Map<String, int[]> perRule = new TreeMap<>(); // found, reported, expected
        List<String> wrong = new ArrayList<>();
        for (Generated c : corpus()) {
            Set<String> got = new LinkedHashSet<>();
            for (Finding f : reviewer.findings(List.of(c.diff()))) {
                got.add(f.rule() + "@" + f.line());
            }
            for (String e : c.expected()) {
                perRule.computeIfAbsent(e.substring(0, e.indexOf('@')), k -> new int[3])[2]++;
            }
            for (String f : got) {
                int[] r = perRule.computeIfAbsent(f.substring(0, f.indexOf('@')), k -> new int[3]);
                r[1]++;
                if (c.expected().contains(f)) {
                    r[0]++;
                } else {
                    wrong.add(c.path() + " " + f);
                }
            }
        }
        perRule.forEach((rule, r) -> System.out.printf(Locale.ROOT, "  %-16s precision %d/%d, recall %d/%d%n", rule, r[0], r[1], r[0], r[2]));
        wrong.forEach(w -> System.out.println("  not planted: " + w));
        perRule.forEach((rule, r) -> {
            assertTrue(r[1] == 0 || (double) r[0] / r[1] >= MIN_RULE_PRECISION, rule + " precision " + r[0] + "/" + r[1] + ": " + wrong);
            assertTrue(r[2] == 0 || (double) r[0] / r[2] >= MIN_RECALL, rule + " recall " + r[0] + "/" + r[2]);
        });
        assertTrue(perRule.keySet().containsAll(Set.of("debug-output", "todo", "secret", "conflict-marker", "final-newline")), perRule.keySet().toString());
        // the goal on real commits is 0 wrong: no look-alike of the corpus may be reported at all
        assertTrue(wrong.isEmpty(), "findings nobody planted: " + wrong);
    }

    @Test
    void secretFindingsNeverQuoteTheValue() {
        OfflineReviewer reviewer = new OfflineReviewer();
        for (Case c : cases()) {
            for (Finding f : reviewer.findings(List.of(c.diff()))) {
                if (f.rule().equals("secret")) {
                    for (var line : c.diff().addedLines()) {
                        for (String literal : literals(line.text())) {
                            if (literal.matches("(?i)[\\w.-]*(password|secret|token|key|credentials?)")) {
                                continue; // the variable name, which the message does name
                            }
                            assertFalse(f.message().contains(literal), c.id() + ": message quotes " + literal);
                        }
                    }
                }
            }
        }
    }

    /** Quoted strings of 6+ characters on a line (candidate secret values). */
    private static List<String> literals(String text) {
        List<String> out = new ArrayList<>();
        var m = java.util.regex.Pattern.compile("[\"'`]([^\"'`]{6,})[\"'`]").matcher(text);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    private static String language(String path) {
        String ext = path.substring(path.lastIndexOf('.') + 1);
        return switch (ext) {
            case "java" -> "java";
            case "kt" -> "kotlin";
            case "ts", "tsx" -> "typescript";
            case "py" -> "python";
            case "go" -> "go";
            default -> "config";
        };
    }

    static List<Case> cases() {
        List<Case> cases = new ArrayList<>();
        String id = null;
        String path = null;
        Set<String> expected = null;
        List<String> body = new ArrayList<>();
        for (String line : (Fixtures.text("recall/cases.txt") + "### end | - | -\n").split("\n", -1)) {
            if (line.startsWith("#") && !line.startsWith("### ")) {
                continue;
            }
            if (line.startsWith("### ")) {
                if (id != null) {
                    cases.add(new Case(id, path, expected, diff(path, body)));
                }
                String[] parts = line.substring(4).split("\\|");
                id = parts[0].strip();
                path = parts[1].strip();
                expected = new LinkedHashSet<>();
                for (String e : parts[2].strip().split(",")) {
                    if (!e.isBlank() && !e.strip().equals("-")) {
                        expected.add(e.strip());
                    }
                }
                body = new ArrayList<>();
            } else if (id != null && !line.isEmpty()) {
                body.add(line);
            }
        }
        return cases;
    }

    /** One hunk from line 1 on both sides; a change without context or removed lines is a new file. */
    private static FileDiff diff(String path, List<String> body) {
        int oldCount = 0;
        int newCount = 0;
        for (String l : body) {
            char k = l.charAt(0);
            oldCount += k == ' ' || k == '-' ? 1 : 0;
            newCount += k == ' ' || k == '+' ? 1 : 0;
        }
        String patch = "@@ -" + (oldCount == 0 ? 0 : 1) + "," + oldCount + " +1," + newCount + " @@\n" + String.join("\n", body) + "\n";
        return UnifiedDiffParser.parsePatch(path, path, oldCount == 0 ? FileDiff.ChangeType.ADDED : FileDiff.ChangeType.MODIFIED, patch);
    }
}
