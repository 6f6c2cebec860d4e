package dev.aireview.runner.review.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.Severity;
import dev.aireview.runner.review.GitRepo;
import dev.aireview.runner.review.Progress;
import org.yaml.snakeyaml.LoaderOptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reads {@code .ai-review.yml} (or {@code .ai-review.yaml}) from the checkout <b>at the base commit</b>
 * ({@code git show <base>:.ai-review.yml}): the task's {@code baseSha} when it is in the clone, otherwise the parent
 * of head. Never from the head, so a pull request cannot switch its own review off or exclude the file it
 * smuggles in; a change to the file takes effect for the changes after it is merged.
 *
 * <p>Parsing is strict and bounded: at most {@value #MAX_BYTES} bytes, SnakeYAML {@link LoaderOptions} limits
 * (no recursive keys; duplicate keys refused; nesting depth and code points capped; few aliases), and aliases
 * are refused outright (Jackson would read them as their anchor's name; no "billion laughs" either), unknown keys and wrong types are errors. A file with any problem is ignored as a whole: the review goes
 * on with the defaults, and {@link Loaded#problems()} says what is wrong (the summary shows it).
 */
public final class RepoConfigLoader {

    public static final List<String> FILE_NAMES = List.of(".ai-review.yml", ".ai-review.yaml");
    public static final int MAX_BYTES = 64 * 1024;
    static final int MAX_LIST = 200;
    static final int MAX_TEXT = 4000;
    private static final Set<String> KEYS = Set.of("exclude", "include", "instructions", "rules", "severity_threshold",
            "max_comments", "language", "languages", "offline_rules");

    /** What was read: the config (defaults when absent or invalid), where from, and what is wrong with it. */
    public record Loaded(RepoConfig config, String source, List<String> problems) {
        public static Loaded none(String why) {
            return new Loaded(RepoConfig.DEFAULTS, why, List.of());
        }

        public boolean found() {
            return source != null && source.startsWith(".ai-review");
        }
    }

    private static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder().loaderOptions(loaderOptions()).build());

    private static LoaderOptions loaderOptions() {
        LoaderOptions o = new LoaderOptions();
        o.setMaxAliasesForCollections(20);
        o.setAllowRecursiveKeys(false);
        o.setAllowDuplicateKeys(false);
        o.setNestingDepthLimit(20);
        o.setCodePointLimit(MAX_BYTES);
        return o;
    }

    private RepoConfigLoader() {
    }

    /**
     * Loads the config of a task's repository from {@code git} (the review's, on the checkout; null when there is
     * none): the defaults when there is no checkout, no base or no file.
     */
    public static Loaded load(GitRepo git, ReviewTask task, Progress progress) {
        if (!hasCheckout(git)) {
            return Loaded.none("no checkout");
        }
        try {
            BaseCommit at = baseCommit(git, task);
            if (at == null) {
                return Loaded.none("no base commit in the checkout");
            }
            String base = at.sha();
            String what = at.label();
            for (String name : FILE_NAMES) {
                GitRepo.ObjectInfo info = git.info(base + ":" + name);
                if (info == null) {
                    continue;
                }
                String source = name + " at " + what;
                if (!"blob".equals(info.type())) {
                    return invalid(source, List.of("it is not a file (a " + info.type() + ")"), progress);
                }
                long bytes = info.size();
                if (bytes > MAX_BYTES) {
                    return invalid(source, List.of("the file has " + bytes + " bytes, more than the " + MAX_BYTES + " allowed"), progress);
                }
                String text = git.text(base + ":" + name, MAX_BYTES);
                if (text == null) {
                    return invalid(source, List.of("git could not read it"), progress);
                }
                Loaded loaded = parse(text, source);
                if (loaded.problems().isEmpty()) {
                    progress.line("repository config: " + source + ": " + loaded.config().describe());
                } else {
                    progress.line("repository config: " + source + " ignored: " + String.join("; ", loaded.problems()));
                }
                return loaded;
            }
            return Loaded.none("no .ai-review.yml at " + what);
        } catch (IOException | RuntimeException e) {
            return invalid("the repository config", List.of("could not be read: " + e.getMessage()), progress);
        }
    }

    /** The commit the repository's own settings are read at, and how the summary names it ({@code base 3f2a…}). */
    public record BaseCommit(String sha, String label) {
    }

    /**
     * The task's {@code baseSha} when it is in the clone, else the parent of head; null when there is no checkout or
     * neither commit is in it. The repository's settings ({@code .ai-review.yml}, {@code .gitattributes}) are read there.
     */
    public static BaseCommit baseCommit(GitRepo git, ReviewTask task) throws IOException {
        if (!hasCheckout(git)) {
            return null;
        }
        String base = task.baseSha() == null ? null : git.resolveCommit(task.baseSha());
        if (base != null) {
            return new BaseCommit(base, "base " + shortSha(base));
        }
        base = task.headSha() == null ? null : git.resolveCommit(task.headSha() + "~1");
        return base == null ? null : new BaseCommit(base, "parent of head " + shortSha(base));
    }

    private static boolean hasCheckout(GitRepo git) {
        return git != null && (Files.isDirectory(git.dir().resolve(".git")) || Files.isRegularFile(git.dir().resolve(".git")));
    }

    private static Loaded invalid(String source, List<String> problems, Progress progress) {
        progress.line("repository config: " + source + " ignored: " + String.join("; ", problems));
        return new Loaded(RepoConfig.DEFAULTS, source, problems);
    }

    /** Parses and validates the text of a config file; any problem gives the defaults plus the list of problems. */
    public static Loaded parse(String text, String source) {
        List<String> problems = new ArrayList<>();
        if (text.getBytes(StandardCharsets.UTF_8).length > MAX_BYTES) {
            return new Loaded(RepoConfig.DEFAULTS, source, List.of("the file is larger than " + MAX_BYTES + " bytes"));
        }
        JsonNode root;
        try {
            if (hasAlias(text)) {
                return new Loaded(RepoConfig.DEFAULTS, source, List.of("YAML aliases (*name) are not supported in this file"));
            }
            root = YAML.readTree(text);
        } catch (IOException | RuntimeException e) {
            return new Loaded(RepoConfig.DEFAULTS, source, List.of("not valid YAML: " + firstLine(e.getMessage())));
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            return new Loaded(RepoConfig.DEFAULTS, source, List.of());
        }
        if (!root.isObject()) {
            return new Loaded(RepoConfig.DEFAULTS, source, List.of("the top level must be a mapping of settings"));
        }
        Map<String, String> aliases = RepoConfig.aliases();
        Map<String, JsonNode> fields = new java.util.LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = aliases.getOrDefault(e.getKey(), e.getKey());
            if (!KEYS.contains(key)) {
                problems.add("unknown key '" + clip(e.getKey()) + "' (known: " + String.join(", ", new java.util.TreeSet<>(KEYS)) + ")");
                continue;
            }
            fields.put(key, e.getValue());
        }
        List<Glob> exclude = globs(fields.get("exclude"), "exclude", problems);
        List<Glob> include = globs(fields.get("include"), "include", problems);
        List<RepoConfig.PathText> instructions = pathTexts(fields.get("instructions"), "instructions", problems);
        List<String> rules = strings(fields.get("rules"), "rules", problems);
        Severity threshold = null;
        JsonNode t = fields.get("severity_threshold");
        if (t != null && !t.isNull()) {
            String v = t.asText().strip().toLowerCase(Locale.ROOT);
            if (!t.isTextual() || !Set.of("info", "warning", "error").contains(v)) {
                problems.add("severity_threshold must be one of info, warning, error (got '" + clip(t.asText()) + "')");
            } else {
                threshold = Severity.fromWire(v);
            }
        }
        Integer max = null;
        JsonNode m = fields.get("max_comments");
        if (m != null && !m.isNull()) {
            if (!m.canConvertToInt() || !m.isIntegralNumber() || m.intValue() < 0 || m.intValue() > RepoConfig.MAX_MAX_COMMENTS) {
                problems.add("max_comments must be a whole number from 0 to " + RepoConfig.MAX_MAX_COMMENTS + " (got '" + clip(m.asText()) + "')");
            } else {
                max = m.intValue();
            }
        }
        String language = null;
        JsonNode l = fields.get("language");
        if (l != null && !l.isNull()) {
            if (!l.isTextual() || l.asText().isBlank() || l.asText().length() > 40) {
                problems.add("language must be a short text such as 'en' or 'German'");
            } else {
                language = l.asText().strip();
            }
        }
        List<RepoConfig.PathText> languages = pathTexts(fields.get("languages"), "languages", problems);
        boolean offline = true;
        Set<String> disabled = new LinkedHashSet<>();
        Set<String> enabled = new LinkedHashSet<>();
        JsonNode o = fields.get("offline_rules");
        if (o != null && !o.isNull()) {
            if (o.isBoolean()) {
                offline = o.booleanValue();
            } else if (o.isObject()) {
                for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    if (!e.getValue().isBoolean()) {
                        problems.add("offline_rules." + clip(e.getKey()) + " must be true or false");
                    } else if (!e.getValue().booleanValue()) {
                        disabled.add(e.getKey());
                    } else {
                        enabled.add(e.getKey());
                    }
                }
            } else {
                problems.add("offline_rules must be true, false, or a mapping of rule ids to true/false");
            }
        }
        if (!problems.isEmpty()) {
            return new Loaded(RepoConfig.DEFAULTS, source, problems);
        }
        return new Loaded(new RepoConfig(exclude, include, instructions, rules, threshold, max, language, languages, offline, disabled, enabled),
                source, List.of());
    }

    /**
     * Jackson reports an alias as the text of its anchor name instead of the aliased value, which would silently
     * give wrong settings; aliases are refused instead (this also rules out "billion laughs" expansion).
     */
    private static boolean hasAlias(String text) throws IOException {
        try (YAMLParser p = (YAMLParser) YAML.getFactory().createParser(text)) {
            while (p.nextToken() != null) {
                if (p.isCurrentAlias()) {
                    return true;
                }
            }
        }
        return false;
    }

    private static List<String> strings(JsonNode n, String key, List<String> problems) {
        List<String> out = new ArrayList<>();
        if (n == null || n.isNull()) {
            return out;
        }
        if (n.isTextual()) {
            n = YAML.createArrayNode().add(n);
        }
        if (!n.isArray()) {
            problems.add(key + " must be a list of texts");
            return out;
        }
        if (n.size() > MAX_LIST) {
            problems.add(key + " has " + n.size() + " entries, more than " + MAX_LIST);
            return out;
        }
        for (JsonNode e : n) {
            if (!e.isValueNode() || e.isNull() || e.asText().isBlank()) {
                problems.add(key + " entries must be non-empty texts");
                return out;
            }
            if (e.asText().length() > MAX_TEXT) {
                problems.add(key + " has an entry longer than " + MAX_TEXT + " characters");
                return out;
            }
            out.add(e.asText().strip());
        }
        return out;
    }

    private static List<Glob> globs(JsonNode n, String key, List<String> problems) {
        List<Glob> out = new ArrayList<>();
        for (String s : strings(n, key, problems)) {
            try {
                out.add(Glob.of(s));
            } catch (IllegalArgumentException e) {
                problems.add(key + ": " + e.getMessage());
            }
        }
        return out;
    }

    /** {@code [{path: glob, text: ...}]} or {@code {glob: text}} (also {@code instructions}/{@code language} as the text key). */
    private static List<RepoConfig.PathText> pathTexts(JsonNode n, String key, List<String> problems) {
        List<RepoConfig.PathText> out = new ArrayList<>();
        if (n == null || n.isNull()) {
            return out;
        }
        List<String[]> pairs = new ArrayList<>();
        if (n.isObject()) {
            n.fields().forEachRemaining(e -> pairs.add(new String[]{e.getKey(), e.getValue().isValueNode() ? e.getValue().asText() : null}));
        } else if (n.isArray()) {
            for (JsonNode e : n) {
                JsonNode path = e.isObject() ? first(e, "path", "paths", "glob") : null;
                JsonNode text = e.isObject() ? first(e, "text", "instructions", "instruction", "language") : null;
                if (path == null || text == null || !text.isValueNode()) {
                    problems.add(key + " entries need 'path' and 'text'");
                    return out;
                }
                if (path.isArray()) {
                    path.forEach(p -> pairs.add(new String[]{p.asText(), text.asText()}));
                } else {
                    pairs.add(new String[]{path.asText(), text.asText()});
                }
            }
        } else {
            problems.add(key + " must be a list of {path, text} or a mapping of path glob to text");
            return out;
        }
        if (pairs.size() > MAX_LIST) {
            problems.add(key + " has more than " + MAX_LIST + " entries");
            return out;
        }
        for (String[] p : pairs) {
            if (p[1] == null || p[1].isBlank() || p[1].length() > MAX_TEXT) {
                problems.add(key + " for '" + clip(p[0]) + "' must be a non-empty text of at most " + MAX_TEXT + " characters");
                return out;
            }
            try {
                out.add(new RepoConfig.PathText(Glob.of(p[0]), p[1].strip()));
            } catch (IllegalArgumentException e) {
                problems.add(key + ": " + e.getMessage());
                return out;
            }
        }
        return out;
    }

    private static JsonNode first(JsonNode n, String... names) {
        for (String name : names) {
            if (n.has(name)) {
                return n.get(name);
            }
        }
        return null;
    }

    private static String clip(String s) {
        String one = String.valueOf(s).replaceAll("\\s+", " ");
        return one.length() > 60 ? one.substring(0, 60) + "…" : one;
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return clip(nl < 0 ? s : s.substring(0, nl));
    }

    private static String shortSha(String sha) {
        return sha == null ? "?" : sha.substring(0, Math.min(12, sha.length()));
    }
}
