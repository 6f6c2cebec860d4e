package dev.aireview.runner.review.rules;

import dev.aireview.runner.model.Severity;
import dev.aireview.runner.review.DiffLine;
import dev.aireview.runner.review.FileDiff;

import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Likely secrets in added lines: private key blocks, cloud/API tokens with a recognisable shape (AWS access
 * key ids and secret keys, GitHub, GitLab, Slack, Google, OpenAI-style keys) and string literals assigned to
 * variables named like a secret ({@code password}, {@code apiKey}, {@code client_secret}, …; in .env,
 * properties, YAML and INI files also unquoted values). Messages name the kind of secret and the variable,
 * never the value.
 */
public final class SecretRule implements Rule {

    private record Token(Pattern pattern, String what) {
    }

    private static final Pattern PRIVATE_KEY = Pattern.compile("-----BEGIN ((RSA|DSA|EC|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY( BLOCK)?-----");
    private static final List<Token> TOKENS = List.of(
            new Token(Pattern.compile("(?<![A-Z0-9])(AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|APKA)[A-Z0-9]{16}(?![A-Z0-9])"), "an AWS access key ID"),
            new Token(Pattern.compile("(?i)aws_?secret_?access_?key[\"']?\\s*[:=]\\s*[\"']?[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])"), "an AWS secret access key"),
            new Token(Pattern.compile("\\bgh[pousr]_[A-Za-z0-9]{36,}\\b|\\bgithub_pat_[A-Za-z0-9_]{22,}"), "a GitHub token"),
            new Token(Pattern.compile("\\bglpat-[A-Za-z0-9_-]{20,}"), "a GitLab token"),
            new Token(Pattern.compile("\\bxox[abprs]-[A-Za-z0-9-]{10,}"), "a Slack token"),
            new Token(Pattern.compile("\\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])"), "a Google API key"),
            new Token(Pattern.compile("\\bsk-(proj-|live_|test_)?[A-Za-z0-9_-]{24,}"), "an API secret key (sk-…)"));

    private static final String SECRET_NAME = "[A-Za-z0-9_.-]*?(?:password|passwd|passphrase|pwd|secret|token|api[_-]?key|"
            + "access[_-]?key|private[_-]?key|auth[_-]?key|credentials?)s?";
    /** {@code name = "value"}, {@code name: 'value'}, {@code "name": "value"}, {@code name := "value"}, {@code name => "value"}. */
    private static final Pattern QUOTED_ASSIGNMENT = Pattern.compile("(?i)(?<![A-Za-z0-9_])(" + SECRET_NAME + ")[\"']?\\s*(?::=|=>|=|:)\\s*"
            + "(?:[A-Za-z]\\w*\\()?[\"'`]([^\"'`\\s]{8,})[\"'`]");
    /** {@code NAME=value} in .env/properties/ini files, {@code name: value} in YAML. */
    private static final Pattern BARE_ASSIGNMENT = Pattern.compile("(?i)^\\s*(?:export\\s+)?(" + SECRET_NAME + ")\\s*[:=]\\s*([^\\s\"'#]{8,})\\s*$");
    private static final Set<String> CONFIG_EXTENSIONS = Set.of("env", "properties", "yaml", "yml", "ini", "cfg", "conf", "toml");
    private static final Pattern PLACEHOLDER = Pattern.compile("(?i)^\\$|\\$\\{|\\{\\{|%\\(|%s|^<.*>$|example|placeholder|changeme|"
            + "your[_-]|dummy|redacted|sample|^x+$|^\\*+$|^\\.+$|^[A-Z][A-Z0-9_]*$|^(true|false|null|none|undefined)$");

    @Override
    public String id() {
        return "secret";
    }

    @Override
    public String title() {
        return "likely secrets (private keys, access keys, tokens and passwords in code)";
    }

    @Override
    public void check(List<FileDiff> files, List<Finding> out) {
        for (FileDiff f : files) {
            if (f.binary() || FileKinds.isLockFile(f)) {
                continue;
            }
            boolean config = CONFIG_EXTENSIONS.contains(f.extension()) || f.fileName().toLowerCase(Locale.ROOT).startsWith(".env");
            for (DiffLine l : f.addedLines()) {
                String what = classify(l.text(), config);
                if (what != null) {
                    out.add(new Finding(id(), f.path(), l.newLine(), null, Severity.ERROR,
                            "Possible secret committed: " + what + ". Anyone with read access to the repository (and its "
                                    + "history) can use it: remove it, rotate it, and load it from the environment or a secret store.",
                            null));
                }
            }
        }
    }

    /** What kind of secret the line holds (never the secret itself), or null. */
    static String classify(String text, boolean configFile) {
        if (PRIVATE_KEY.matcher(text).find()) {
            return "a private key block";
        }
        for (Token t : TOKENS) {
            Matcher m = t.pattern().matcher(text);
            if (m.find() && !m.group().toUpperCase(Locale.ROOT).contains("EXAMPLE")) {
                return t.what();
            }
        }
        Matcher m = QUOTED_ASSIGNMENT.matcher(text);
        while (m.find()) {
            if (!PLACEHOLDER.matcher(m.group(2)).find()) {
                return "a literal value assigned to `" + name(m.group(1)) + "`";
            }
        }
        if (configFile) {
            Matcher b = BARE_ASSIGNMENT.matcher(text);
            if (b.find() && !PLACEHOLDER.matcher(b.group(2)).find()) {
                return "a literal value assigned to `" + name(b.group(1)) + "`";
            }
        }
        return null;
    }

    private static String name(String n) {
        return n.length() > 40 ? n.substring(n.length() - 40) : n;
    }
}
