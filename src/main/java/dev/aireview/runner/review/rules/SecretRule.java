package dev.aireview.runner.review.rules;

import dev.aireview.runner.model.Severity;
import dev.aireview.runner.review.DiffLine;
import dev.aireview.runner.review.FileDiff;

import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Likely secrets in added lines, in two families:
 * <ul>
 *   <li><b>Recognisable formats</b>, flagged anywhere (also in tests): private key blocks, AWS access key ids and
 *       secret keys, GitHub ({@code ghp_…}, {@code github_pat_…}), GitLab, Slack ({@code xox…}), Google, Stripe, npm,
 *       SendGrid and {@code sk-…} API keys and JWT-like tokens.</li>
 *   <li><b>Literal values assigned to secret-like names</b> ({@code password}, {@code apiKey}, {@code client_secret},
 *       {@code AUTH_TOKEN}, …) as the main languages write them: Java/Kotlin fields and {@code val}s (with a type),
 *       TypeScript/JS {@code const} and object keys, Python assignments and keyword arguments, Go {@code :=}, {@code var}
 *       and struct fields, setters and {@code put("password", "…")}; in .env, properties, YAML and INI files also
 *       unquoted values; and passwords written into a URL ({@code postgres://user:pw@db}, not on example hosts).</li>
 * </ul>
 * False positives are kept low on purpose, since a noisy secret rule gets switched off: a line that reads the value
 * from the environment ({@code System.getenv}, {@code process.env}, {@code os.environ}, {@code os.Getenv}, …) is
 * not a literal; placeholders ({@code changeme}, {@code <password>}, {@code ${VAR}}, {@code xxx}, an
 * {@code UPPER_CASE} variable name, …) are skipped; and name-based findings are not reported in test code and
 * fixtures, docs, examples and prose ({@code *.md}), or in {@code *.example}/{@code *.sample}/{@code *.template} files,
 * where dummy credentials are normal (there, a token of a known format is still reported unless it calls itself a test
 * value: {@code sk-test-…}); elsewhere a literal counts only when shaped like what its name holds ({@link SecretValue}).
 * Messages name the kind of secret and the variable, never the value.
 */
public final class SecretRule implements Rule {

    /**
     * A token format; {@code hints} are literals one of which any match contains (a {@code ~} hint: ignoring case), so
     * the pattern runs only on lines that hold one ({@link #LINE_LITERALS}): the rule stays linear and cheap.
     */
    private record Token(Pattern pattern, String what, String... hints) {
    }

    /** Literals one of which every name-based finding's line holds (lower case): see {@link #SECRET_WORD}. */
    private static final List<String> SECRET_WORD_HINTS = List.of("pass", "pwd", "secret", "token", "key", "credential", "bearer");
    /** Every match of {@link #PRIVATE_KEY} holds it. */
    private static final String PRIVATE_KEY_HINT = "PRIVATE KEY";

    private static final Pattern PRIVATE_KEY = Pattern.compile("-----BEGIN ((RSA|DSA|EC|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY( BLOCK)?-----");
    private static final List<Token> TOKENS = List.of(
            new Token(Pattern.compile("(?<![A-Z0-9])(AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|APKA)[A-Z0-9]{16}(?![A-Z0-9])"), "an AWS access key ID", "AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "APKA"),
            new Token(Pattern.compile("(?i)aws_?secret_?access_?key[\"']?\\s{0,16}[:=]\\s{0,16}[\"']?[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])"), "an AWS secret access key", "~secret"),
            new Token(Pattern.compile("\\bgh[pousr]_[A-Za-z0-9]{36,251}\\b|\\bgithub_pat_[A-Za-z0-9_]{22,244}"), "a GitHub token", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
            new Token(Pattern.compile("\\bglpat-[A-Za-z0-9_-]{20,250}"), "a GitLab token", "glpat-"),
            new Token(Pattern.compile("\\bxox[abposr]-[A-Za-z0-9-]{10,250}"), "a Slack token", "xox"),
            new Token(Pattern.compile("https://hooks\\.slack\\.com/services/T[A-Za-z0-9]{1,40}/B[A-Za-z0-9]{1,40}/[A-Za-z0-9]{16,64}"), "a Slack webhook URL", "hooks.slack.com"),
            new Token(Pattern.compile("\\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])"), "a Google API key", "AIza"),
            new Token(Pattern.compile("\\b[sr]k_live_[0-9A-Za-z]{16,247}"), "a Stripe live key", "k_live_"),
            new Token(Pattern.compile("\\bnpm_[A-Za-z0-9]{36}\\b"), "an npm access token", "npm_"),
            new Token(Pattern.compile("\\bSG\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}\\b"), "a SendGrid API key", "SG."),
            new Token(Pattern.compile("\\bsk-(proj-|ant-|live_|test_)?[A-Za-z0-9_-]{24,250}"), "an API secret key (sk-…)", "sk-"),
            new Token(Pattern.compile("\\beyJ[A-Za-z0-9_-]{10,2000}\\.eyJ[A-Za-z0-9_-]{10,4000}\\.[A-Za-z0-9_-]{10,1000}"), "a JSON Web Token", "eyJ"));
    /** {@code scheme://user:password@host}: the password part is group 1, the host group 2. */
    private static final Pattern URL_CREDENTIALS = Pattern.compile("\\b[a-z][a-z0-9+.-]{1,20}://[^\\s:/@\"'`]{1,100}:([^\\s/@\"'`]{3,200})@([\\w.-]{1,253})");
    private static final Pattern EXAMPLE_HOST = Pattern.compile("(?i)(^|\\.)(example\\.(com|org|net)|example|localhost|[^.]+\\.(invalid|test|example))$");

    private static final String SECRET_WORD = "(?:password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|"
            + "access[_-]?key|secret[_-]?key|private[_-]?key|auth[_-]?key|signing[_-]?key|encryption[_-]?key|credentials?|bearer)";
    /** A name ending in a secret word: {@code dbPassword}, {@code CLIENT_SECRET}, {@code spring.datasource.password}. */
    private static final String SECRET_NAME = "[A-Za-z0-9_.-]{0,60}?" + SECRET_WORD + "s?";
    /** An optional type between the name and the operator: Kotlin/TS {@code : String}, Go {@code  string}. */
    private static final String TYPE = "(?:\\s{0,16}:\\s{0,16}[A-Za-z_][\\w.<>?\\[\\]]{0,60}|\\s{1,16}string)?";
    /**
     * {@code name = "value"}, {@code name: 'value'}, {@code "name": "value"}, {@code name := "value"},
     * {@code name => "value"}, {@code val name: String = "value"}, optionally through a call such as
     * {@code SecretString("value")}.
     */
    static final Pattern QUOTED_ASSIGNMENT = Pattern.compile("(?i)(?<![A-Za-z0-9_])(" + SECRET_NAME + ")[\"']?" + TYPE
            + "\\s{0,16}(?::=|=>|=|:)\\s{0,16}(?:[A-Za-z]\\w{0,40}\\()?[\"'`]([^\"'`\\s]{6,200})[\"'`]");
    /** {@code setPassword("value")}, {@code withApiKey("value")}, {@code .password("value")} (builders). */
    static final Pattern SETTER = Pattern.compile("(?i)(?:\\bset|\\bwith|\\.)(" + SECRET_NAME + ")\\s{0,16}\\(\\s{0,16}[\"'`]([^\"'`\\s]{6,200})[\"'`]\\s{0,16}\\)");
    /** {@code put("password", "value")}, {@code Map.of("apiKey", "value")}, Kotlin {@code "apiKey" to "value"}. */
    static final Pattern KEY_VALUE_CALL = Pattern.compile("(?i)[\"'](" + SECRET_NAME + ")[\"']\\s{0,16}(?:,|\\sto\\s)\\s{0,16}[\"'`]([^\"'`\\s]{6,200})[\"'`]");
    /** {@code NAME=value} in .env/properties/ini files, {@code name: value} in YAML. */
    private static final Pattern BARE_ASSIGNMENT = Pattern.compile("(?i)^\\s{0,80}(?:export\\s{1,16})?-?\\s{0,16}(" + SECRET_NAME + ")\\s{0,16}[:=]\\s{0,16}([^\\s\"'#]{6,200})\\s{0,80}$");
    private static final List<Pattern> NAME_PATTERNS = List.of(QUOTED_ASSIGNMENT, SETTER, KEY_VALUE_CALL);
    private static final Set<String> CONFIG_EXTENSIONS = Set.of("env", "properties", "yaml", "yml", "ini", "cfg", "conf", "toml");

    /** The line reads the value from the environment or a config lookup, so a literal on it is a name or a default. */
    static final Pattern ENV_LOOKUP = Pattern.compile("System\\.getenv|System\\.getProperty|process\\.env|import\\.meta\\.env|"
            + "os\\.environ|os\\.getenv|os\\.Getenv|os\\.LookupEnv|getenv\\(|ENV\\[|ENV\\.fetch|Environment\\.GetEnvironmentVariable|"
            + "\\benv\\(|config\\.get|getString\\(|viper\\.Get|secretsManager|vault\\.");
    /** Values that are obviously not real secrets. Case-sensitive parts (an UPPER_CASE env-var name) are outside (?i). */
    private static final Pattern PLACEHOLDER_ANY_CASE = Pattern.compile("(?i)^\\$|\\$\\{|\\{\\{|%\\(|%s|^%[A-Z_]+%$|^<.*>$|example|placeholder|"
            + "(^|[^a-z])test|"
            + "change[_-]?me|changeit|your[_-]|dummy|redacted|sample|fake|mock|not[_-]?a[_-]?real|replace[_-]?me|todo|"
            + "x{3,}|^\\*+$|^\\.+$|^(.)\\1+$|^(true|false|null|nil|none|undefined|password|secret|token|required|optional|bearer)$");
    /** A value that is itself a secret-like name ({@code "apikey"}, {@code "db.password"}): a list of names, not a secret. */
    private static final Pattern NAME_LIKE = Pattern.compile("(?i)[a-z_.-]{0,60}(password|passwd|passphrase|secret|token|key|credentials?)[a-z_.-]{0,60}[0-9]{0,3}");
    private static final Pattern PLACEHOLDER_EXACT_CASE = Pattern.compile("^[A-Z][A-Z0-9_]*$|^[a-z]+(?:[._][a-z]+)+$");
    /** In test code a token saying it is a test value ({@code sk-test-…}, {@code …fake…}) is a fixture. */
    private static final Pattern FIXTURE_WORD = Pattern.compile("(?i)test|fake|dummy|mock|sample|fixture");
    /** Test code and fixtures: dummy credentials are normal there. */
    private static final Pattern TEST_PATH = Pattern.compile("(?i)(^|/)(tests?|__tests__|spec|specs|testdata|test-data|fixtures?|mocks?|"
            + "__mocks__|testing|e2e)/|(^|/)test_[^/]*\\.py$|_test\\.(go|py)$|(Test|Tests|Spec|IT)\\.(java|kt|scala|groovy)$|"
            + "\\.(test|spec)\\.[jt]sx?$|(^|/)conftest\\.py$");
    /**
     * Documentation, examples and prose (README, changelog): names with literals there are illustrations (a docs
     * site's public search key, {@code passphrase: 'passphrase1'} in a README's example).
     */
    private static final Pattern DOCS_PATH = Pattern.compile("(?i)(^|/)(docs?|documentation|examples?|samples?)/|\\.(md|markdown|rst|adoc|txt)$");
    private static final Pattern TEMPLATE_FILE = Pattern.compile("(?i)\\.(example|sample|template|tmpl|dist)$|(^|/)\\.env\\.(example|sample|template)$");

    /** Longer lines (minified code, data) are checked for known token formats only: the name patterns stay cheap. */
    static final int MAX_NAMED_LINE = 4096;

    @Override
    public String id() {
        return "secret";
    }

    @Override
    public String title() {
        return "likely secrets (private keys, access keys, tokens and passwords in code)";
    }

    @Override
    public void check(List<FileDiff> files, Consumer<Finding> out) {
        Literals.Line line = new Literals.Line();
        for (FileDiff f : files) {
            if (f.binary() || FileKinds.isLockFile(f) || f.extension().equals("map")) {
                continue; // a source map repeats sources (their secrets are found there) and its mappings look random
            }
            String name = f.fileName().toLowerCase(Locale.ROOT);
            boolean config = CONFIG_EXTENSIONS.contains(f.extension()) || name.startsWith(".env");
            boolean test = TEST_PATH.matcher(f.path()).find();
            boolean namesCount = !test && !TEMPLATE_FILE.matcher(f.path()).find() && !DOCS_PATH.matcher(f.path()).find();
            for (DiffLine l : f.addedLines()) {
                long found = LINE_LITERALS.find(line.load(l.text()));
                if (test && (found & PRIVATE_KEY_GROUP) != 0 && PRIVATE_KEY.matcher(l.text()).find()) {
                    continue; // a test's key pair (TLS and SSH tests carry their own), not a credential
                }
                String what = classify(l.text(), found, config, namesCount);
                if (what != null) {
                    out.accept(new Finding(id(), f.path(), l.newLine(), null, Severity.ERROR,
                            "Possible secret committed: " + what + ". Anyone with read access to the repository (and its "
                                    + "history) can use it: remove it, rotate it, and load it from the environment or a secret store.",
                            null));
                }
            }
        }
    }

    /** What kind of secret the line holds (never the secret itself), or null; name-based checks on any file. */
    static String classify(String text, boolean configFile) {
        return classify(text, configFile, true);
    }

    /**
     * What kind of secret the line holds (never the secret itself), or null.
     *
     * @param namesCount whether literals assigned to secret-like names count (false in tests and template files)
     */
    static String classify(String text, boolean configFile, boolean namesCount) {
        return classify(text, LINE_LITERALS.find(text), configFile, namesCount);
    }

    /** @param found what {@link #LINE_LITERALS} found in {@code text} */
    private static String classify(String text, long found, boolean configFile, boolean namesCount) {
        found = withCaseDecided(text, found);
        if ((found & PRIVATE_KEY_GROUP) != 0 && PRIVATE_KEY.matcher(text).find()) {
            return "a private key block";
        }
        for (int t = 0; t < TOKENS.size(); t++) {
            if ((found & tokenGroup(t)) == 0) {
                continue;
            }
            Token token = TOKENS.get(t);
            Matcher m = token.pattern().matcher(text);
            if (m.find() && !m.group().toUpperCase(Locale.ROOT).contains("EXAMPLE") && !SecretValue.placeholderToken(m.group())
                    && (namesCount || !FIXTURE_WORD.matcher(m.group()).find())) {
                return token.what();
            }
        }
        if (!namesCount || text.length() > MAX_NAMED_LINE) {
            return null;
        }
        boolean url = (found & URL_GROUPS) == URL_GROUPS;
        if (!url && (found & SECRET_WORD_GROUP) == 0) {
            return null; // no secret-like name and no URL with user info: nothing below can match
        }
        if (looksUpEnv(text, found)) {
            return null;
        }
        if (url) { // every match holds "://" and "@"
            Matcher u = URL_CREDENTIALS.matcher(text);
            while (u.find()) {
                if (!placeholder(u.group(1)) && SecretValue.passwordLike(u.group(1)) && !EXAMPLE_HOST.matcher(u.group(2)).find()) {
                    return "a password written into a URL";
                }
            }
        }
        // lower-cased only here, on lines that hold a secret word (the name patterns match only there)
        if ((found & SECRET_WORD_GROUP) != 0 && mayNameALiteral(text, text.toLowerCase(Locale.ROOT))) {
            for (Pattern p : NAME_PATTERNS) {
                Matcher m = p.matcher(text);
                while (m.find()) {
                    if (secretValue(m.group(1), m.group(2)) && !insideStringLiteral(text, m.start(1))) {
                        return "a literal value assigned to `" + name(m.group(1)) + "`";
                    }
                }
            }
        }
        if (configFile) {
            Matcher b = BARE_ASSIGNMENT.matcher(text);
            if (b.find() && secretValue(b.group(1), b.group(2))) {
                return "a literal value assigned to `" + name(b.group(1)) + "`";
            }
        }
        return null;
    }

    /**
     * The alternatives of {@link #ENV_LOOKUP} as literals: the pattern finds one exactly when the line holds one of them,
     * except {@code env(}, which must start a word ({@link #ENV_WORD}).
     */
    private static final List<String> ENV_LOOKUP_LITERALS = List.of("System.getenv", "System.getProperty", "process.env", "import.meta.env",
            "os.environ", "os.getenv", "os.Getenv", "os.LookupEnv", "getenv(", "ENV[", "ENV.fetch", "Environment.GetEnvironmentVariable",
            "config.get", "getString(", "viper.Get", "secretsManager", "vault.");
    /** The one alternative of {@link #ENV_LOOKUP} that is more than a literal: {@code \benv\(}. */
    private static final String ENV_WORD = "env(";

    /** The groups of {@link #LINE_LITERALS}: bit {@code 1 + i} is the hints of {@code TOKENS.get(i)}. */
    private static final long PRIVATE_KEY_GROUP = 1;
    private static final long SECRET_WORD_GROUP = 1L << 40;
    /** A literal alternative of {@link #ENV_LOOKUP}: it matches. */
    private static final long ENV_GROUP = 1L << 41;
    /** {@code env(}: {@link #ENV_LOOKUP} decides (at a word start only). */
    private static final long ENV_WORD_GROUP = 1L << 44;
    /** "://" and "@": a URL with user info is possible. */
    private static final long URL_GROUPS = 1L << 42 | 1L << 43;

    private static long tokenGroup(int token) {
        return 1L << (1 + token);
    }

    /**
     * Every literal the rule's prefilters look for, found in one pass over a line (no lower-cased copy, no scan per
     * literal): the private key block's, each token format's hints, the secret words (ignoring case), the environment
     * lookups', and a URL's {@code ://} and {@code @}.
     */
    private static final Literals LINE_LITERALS = lineLiterals();

    private static Literals lineLiterals() {
        Literals.Builder b = Literals.builder().add(PRIVATE_KEY_GROUP, PRIVATE_KEY_HINT);
        for (int t = 0; t < TOKENS.size(); t++) {
            b.add(tokenGroup(t), TOKENS.get(t).hints());
        }
        for (String w : SECRET_WORD_HINTS) {
            b.add(SECRET_WORD_GROUP, "~" + w);
        }
        return b.add(ENV_GROUP, ENV_LOOKUP_LITERALS.toArray(String[]::new)).add(ENV_WORD_GROUP, ENV_WORD)
                .add(1L << 42, "://").add(1L << 43, "@").build();
    }

    /**
     * What {@link #LINE_LITERALS} found; on a line with characters outside ASCII, the groups of case-insensitive hints
     * are decided on the lower-cased line itself (a few such characters lower-case to ASCII letters), as they are defined.
     */
    private static long withCaseDecided(String text, long found) {
        return (found & Literals.NON_ASCII) == 0 ? found : caseInsensitiveGroups(found, text.toLowerCase(Locale.ROOT));
    }

    /** The line holds a secret word's hint ({@code pass}, {@code key}, … in any case): the name patterns can only match there. */
    static boolean mayHoldSecretWord(String text) {
        return (withCaseDecided(text, LINE_LITERALS.find(text)) & SECRET_WORD_GROUP) != 0;
    }

    private static long caseInsensitiveGroups(long found, String lower) {
        for (int t = 0; t < TOKENS.size(); t++) {
            for (String h : TOKENS.get(t).hints()) {
                if (h.startsWith("~") && lower.contains(h.substring(1))) {
                    found |= tokenGroup(t);
                }
            }
        }
        return containsAny(lower, SECRET_WORD_HINTS) ? found | SECRET_WORD_GROUP : found;
    }

    /** A cheap literal test: {@link #ENV_LOOKUP} can only match a line that holds one of its alternatives' literals. */
    static boolean mayLookUpEnv(String text) {
        return (LINE_LITERALS.find(text) & (ENV_GROUP | ENV_WORD_GROUP)) != 0;
    }

    /** Whether {@link #ENV_LOOKUP} matches the line, from what {@link #LINE_LITERALS} found: the pattern runs only for {@code env(}. */
    static boolean looksUpEnv(String text) {
        return looksUpEnv(text, LINE_LITERALS.find(text));
    }

    private static boolean looksUpEnv(String text, long found) {
        return (found & ENV_GROUP) != 0 || (found & ENV_WORD_GROUP) != 0 && ENV_LOOKUP.matcher(text).find();
    }

    /** How every {@link #SECRET_WORD} ends (lower case); {@code credentials?} and a name's {@code s?} may add two {@code s}. */
    private static final List<String> SECRET_WORD_ENDS = List.of("password", "passwd", "passphrase", "pwd", "secret", "token", "key",
            "credential", "bearer");

    /**
     * A cheap test that {@link #NAME_PATTERNS} need: some secret word ends a name (optionally plus {@code s}) that is
     * followed by what each of them needs next: a quote, white space, {@code :}, {@code =} or {@code (}. One
     * {@code indexOf} scan per word instead of running three case-insensitive patterns at every position of every
     * line that mentions a key or a token ({@code password_hint}, {@code tokenizer}, {@code keys()}).
     */
    static boolean mayNameALiteral(String text, String lower) {
        if (lower.length() != text.length()) {
            return true; // lower-casing moved the indices (rare non-ASCII letters): let the patterns decide
        }
        for (String w : SECRET_WORD_ENDS) {
            for (int i = lower.indexOf(w); i >= 0; i = lower.indexOf(w, i + 1)) {
                if (w.equals("key") && !afterKeyPrefix(lower, i)) {
                    continue; // cache_key, KEY, keys(): only api/access/secret/private/auth/signing/encryption keys are secret words
                }
                for (int j = i + w.length(), end = Math.min(j + 2, lower.length() - 1); j <= end; j++) {
                    if (followsName(lower.charAt(j))) {
                        return true;
                    }
                    if (lower.charAt(j) != 's') {
                        break;
                    }
                }
            }
        }
        return false;
    }

    /** What {@link #SECRET_WORD} allows before {@code key} (lower case), optionally joined by {@code _} or {@code -}. */
    private static final List<String> KEY_PREFIXES = List.of("api", "access", "secret", "private", "auth", "signing", "encryption");

    /** The {@code key} at {@code i} ends {@code api_key}, {@code secretKey}, {@code auth-key}, … */
    private static boolean afterKeyPrefix(String lower, int i) {
        int end = i > 0 && (lower.charAt(i - 1) == '_' || lower.charAt(i - 1) == '-') ? i - 1 : i;
        for (String p : KEY_PREFIXES) {
            if (end >= p.length() && lower.startsWith(p, end - p.length())) {
                return true;
            }
        }
        return false;
    }

    /** A character that may follow a name in {@link #QUOTED_ASSIGNMENT}, {@link #SETTER} or {@link #KEY_VALUE_CALL}. */
    private static boolean followsName(char c) {
        return c == '"' || c == '\'' || c == ':' || c == '=' || c == '(' || c == ' ' || c == '\t' || c == '\n' || c == '\u000B'
                || c == '\f' || c == '\r';
    }

    private static boolean containsAny(String text, List<String> literals) {
        for (String l : literals) {
            if (text.contains(l)) {
                return true;
            }
        }
        return false;
    }

    /** Names for what a person chooses ({@code db_password}, {@code credentials}): any non-trivial value counts. */
    private static final Pattern PASSWORD_NAME = Pattern.compile("(?i)(password|passwd|passphrase|pwd|credentials?)s?$");

    /**
     * The literal assigned to a secret-like name looks like a secret: not a placeholder, and shaped like what the name
     * holds: a password a person chose ({@link SecretValue#passwordLike}) or a generated key, token or secret
     * ({@link SecretValue#keyLike}: long, mixed, high entropy, not words or a UUID).
     */
    static boolean secretValue(String name, String value) {
        if (placeholder(value)) {
            return false;
        }
        return PASSWORD_NAME.matcher(name).find() ? SecretValue.passwordLike(value) : SecretValue.keyLike(value);
    }

    static boolean placeholder(String value) {
        return PLACEHOLDER_ANY_CASE.matcher(value).find() || PLACEHOLDER_EXACT_CASE.matcher(value).matches()
                || NAME_LIKE.matcher(value).matches() || value.startsWith("-")
                || value.startsWith("/") || value.startsWith("./") || value.startsWith("~/");
    }

    /**
     * The name starts inside a string literal that it does not open ({@code "Tokens: " + n + " total"}): prose or
     * code between two literals, not an assignment. A name right after a quote is a key ({@code "password": "…"}).
     */
    private static boolean insideStringLiteral(String text, int nameStart) {
        int quotes = 0;
        for (int i = 0; i < nameStart; i++) {
            char c = text.charAt(i);
            if (c == '"' && (i == 0 || text.charAt(i - 1) != '\\')) {
                quotes++;
            }
        }
        boolean opensAfterQuote = nameStart > 0 && (text.charAt(nameStart - 1) == '"' || text.charAt(nameStart - 1) == '\'');
        return quotes % 2 == 1 && !opensAfterQuote;
    }

    private static String name(String n) {
        return n.length() > 40 ? n.substring(n.length() - 40) : n;
    }
}
