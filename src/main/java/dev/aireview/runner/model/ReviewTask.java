package dev.aireview.runner.model;

import dev.aireview.runner.observability.LogFormat;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A review task as claimed from the server (PROTOCOL.md "poll"). Built by {@link #fromJson}, a tolerant reader:
 * {@code id}/{@code taskId}, camelCase or snake_case, unknown fields ignored.
 */
public record ReviewTask(
        @JsonProperty("id") String id,
        @JsonProperty("reviewId") String reviewId,
        @JsonProperty("repository") Repository repository,
        @JsonProperty("branch") String branch,
        @JsonProperty("baseSha") String baseSha,
        @JsonProperty("headSha") String headSha,
        @JsonProperty("files") List<FileChange> files,
        @JsonProperty("ai") AiConfig ai,
        @JsonProperty("rules") List<String> rules,
        @JsonProperty("prompt") String prompt,
        @JsonProperty("timeoutSeconds") Integer timeoutSeconds,
        @JsonProperty("previousHeadSha") String previousHeadSha) {

    private static final Pattern SHA = Pattern.compile("[0-9a-fA-F]{7,64}");
    private static final Pattern FULL_SHA = Pattern.compile("[0-9a-fA-F]{40}");

    public ReviewTask {
        files = files == null ? List.of() : List.copyOf(files);
        rules = rules == null ? List.of() : List.copyOf(rules);
    }

    /** A task without {@code previousHeadSha} (a full review). */
    public ReviewTask(String id, String reviewId, Repository repository, String branch, String baseSha, String headSha,
                      List<FileChange> files, AiConfig ai, List<String> rules, String prompt, Integer timeoutSeconds) {
        this(id, reviewId, repository, branch, baseSha, headSha, files, ai, rules, prompt, timeoutSeconds, null);
    }

    /** The task id of a raw task node, or null when it has none. */
    public static String idOf(JsonNode node) {
        return Json.text(node, "id", "taskId", "task_id");
    }

    /**
     * Reads a task. Throws {@link BadTaskException} naming every missing or malformed field
     * (the runner then reports the task {@code failed/bad_task}).
     */
    public static ReviewTask fromJson(JsonNode node) throws BadTaskException {
        if (node == null || !node.isObject()) {
            throw new BadTaskException("task is not a JSON object");
        }
        List<String> problems = new ArrayList<>();
        String id = idOf(node);
        if (id == null) {
            problems.add("missing field 'id'");
        } else if (id.chars().anyMatch(c -> LogFormat.isControl((char) c))) {
            id = LogFormat.escapeControls(id);
            problems.add("field 'id' holds control characters (shown escaped)");
        }
        JsonNode repo = Json.field(node, "repository", "repo");
        String url = null;
        String fullName = null;
        String cloneToken = null;
        if (repo != null && repo.isTextual()) {
            url = repo.asText();
        } else if (repo != null) {
            url = Json.text(repo, "url", "cloneUrl", "clone_url");
            fullName = Json.text(repo, "fullName", "full_name", "name");
            cloneToken = Json.text(repo, "cloneToken", "clone_token", "token");
        }
        if (url == null) {
            url = Json.text(node, "repositoryUrl", "repository_url", "repoUrl", "repo_url", "cloneUrl", "clone_url");
        }
        if (url == null) {
            problems.add("missing field 'repository.url'");
        } else if (RepositoryUrl.hasAmbiguousUserInfo(url)) {
            problems.add("the credentials in 'repository.url' hold a raw '@' (git and the runner would split them"
                    + " differently, and git would print a part of the password): write it as %40");
        }
        String branch = Json.text(node, "branch", "ref");
        String headSha = Json.text(node, "headSha", "head_sha", "sha", "commitSha", "commit_sha");
        String baseSha = Json.text(node, "baseSha", "base_sha");
        if (headSha == null && branch == null) {
            problems.add("missing field 'headSha' (and no 'branch')");
        }
        if (headSha != null && !SHA.matcher(headSha).matches()) {
            problems.add("field 'headSha' is not a commit SHA: '" + abbreviate(headSha) + "'");
        }
        if (baseSha != null && !SHA.matcher(baseSha).matches()) {
            problems.add("field 'baseSha' is not a commit SHA: '" + abbreviate(baseSha) + "'");
        }
        // Optional: the head reviewed last time, for an incremental review (the review engine checks it is an ancestor).
        String previousHeadSha = Json.text(node, "previousHeadSha", "previous_head_sha");
        if (previousHeadSha != null && !FULL_SHA.matcher(previousHeadSha).matches()) {
            problems.add("field 'previousHeadSha' is not a full (40 hex digit) commit SHA: '" + abbreviate(previousHeadSha) + "'");
        }
        List<FileChange> files = new ArrayList<>();
        JsonNode filesNode = Json.field(node, "files", "changedFiles", "changed_files");
        if (filesNode != null && filesNode.isArray()) {
            for (JsonNode f : filesNode) {
                String path = Json.text(f, "path", "filename", "file");
                if (path == null) {
                    problems.add("a file entry has no 'path'");
                    continue;
                }
                files.add(new FileChange(path,
                        Json.text(f, "previousPath", "previous_path", "previousFilename", "previous_filename", "oldPath", "old_path"),
                        Json.text(f, "status"),
                        intOrNull(Json.field(f, "additions")),
                        intOrNull(Json.field(f, "deletions")),
                        Json.field(f, "patch") == null ? null : Json.field(f, "patch").asText()));
            }
        } else if (filesNode != null) {
            problems.add("field 'files' is not a list");
        }
        AiConfig ai = null;
        JsonNode aiNode = Json.field(node, "ai", "aiConfig", "ai_config");
        if (aiNode != null && aiNode.isObject()) {
            ai = new AiConfig(Json.text(aiNode, "provider"),
                    Json.text(aiNode, "baseUrl", "base_url", "url"),
                    Json.text(aiNode, "model"),
                    Json.text(aiNode, "apiKey", "api_key", "key"),
                    doubleOrNull(Json.field(aiNode, "temperature")),
                    intOrNull(Json.field(aiNode, "maxTokens", "max_tokens")),
                    boolOrNull(Json.field(aiNode, "tools", "useTools", "use_tools")));
            if (ai.model() == null) {
                problems.add("missing field 'ai.model'");
            }
        }
        List<String> rules = new ArrayList<>();
        JsonNode rulesNode = Json.field(node, "rules");
        if (rulesNode != null && rulesNode.isArray()) {
            rulesNode.forEach(r -> {
                if (r.isTextual() && !r.asText().isBlank()) {
                    rules.add(r.asText());
                } else if (r.isObject() && Json.text(r, "description", "text", "rule", "name") != null) {
                    rules.add(Json.text(r, "description", "text", "rule", "name"));
                }
            });
        }
        Integer timeout = timeoutSeconds(Json.field(node, "timeoutSeconds", "timeout_seconds", "timeout"), problems);
        if (!problems.isEmpty()) {
            throw new BadTaskException("bad task" + (id == null ? "" : " " + id) + ": " + String.join("; ", problems));
        }
        return new ReviewTask(id, Json.text(node, "reviewId", "review_id"),
                new Repository(url, fullName, cloneToken), branch, baseSha, headSha, files, ai, rules,
                Json.text(node, "prompt", "promptTemplate", "prompt_template"), timeout, previousHeadSha);
    }

    /**
     * Secrets carried by this task, to be masked in every log line: the clone token, the AI key, and credentials
     * written into the repository URL or the AI base URL ({@code https://user:password@host/...}).
     */
    public List<String> secrets() {
        List<String> secrets = new ArrayList<>();
        if (repository != null && repository.cloneToken() != null) {
            secrets.add(repository.cloneToken());
        }
        if (repository != null) {
            secrets.addAll(urlCredentials(repository.url()));
        }
        if (ai != null && ai.apiKey() != null) {
            secrets.add(ai.apiKey());
        }
        if (ai != null) {
            secrets.addAll(RepositoryUrl.secretsOf(ai.baseUrl())); // a proxy URL may carry user:password@ too
        }
        return secrets;
    }

    /**
     * The task as handed to the executor container: everything but the clone credentials (the token, and the
     * user-info of the repository URL: the review needs neither).
     */
    public ObjectNode toContainerJson() {
        Repository repo = repository == null ? null
                : new Repository(RepositoryUrl.withoutUserInfo(repository.url()), repository.fullName(), null);
        ReviewTask copy = new ReviewTask(id, reviewId, repo, branch,
                baseSha, headSha, files, ai, rules, prompt, timeoutSeconds, previousHeadSha);
        return Json.mapper().valueToTree(copy);
    }

    /** The credentials written into a repository URL, raw and decoded (see {@link RepositoryUrl#secrets()}). */
    static List<String> urlCredentials(String url) {
        return RepositoryUrl.secretsOf(url);
    }

    /**
     * The task's time limit. It can only lower DOCKER_TIMEOUT_SECONDS, so a value above what an int holds
     * (2^31 s and more) is clamped to {@link Integer#MAX_VALUE} (and so to DOCKER_TIMEOUT_SECONDS) rather than
     * wrapping to a negative or tiny number; a fraction is rounded up to whole seconds. Zero, a negative value or
     * something that is no number is a {@code bad_task}: the server asked for something the runner cannot honour,
     * and guessing a default would hide that.
     */
    static Integer timeoutSeconds(JsonNode n, List<String> problems) {
        if (n == null) {
            return null;
        }
        java.math.BigDecimal value = null;
        if (n.isNumber()) {
            value = n.decimalValue();
        } else if (n.isTextual()) {
            try {
                value = new java.math.BigDecimal(n.asText().trim());
            } catch (NumberFormatException e) {
                value = null;
            }
        }
        if (value == null) {
            problems.add("field 'timeoutSeconds' is not a number");
            return null;
        }
        if (value.signum() <= 0) {
            problems.add("field 'timeoutSeconds' must be positive, got " + abbreviate(value.toPlainString()));
            return null;
        }
        if (value.compareTo(java.math.BigDecimal.valueOf(Integer.MAX_VALUE)) >= 0) {
            return Integer.MAX_VALUE;
        }
        if (value.compareTo(java.math.BigDecimal.ONE) <= 0) {
            return 1; // compared, never rescaled: "1e-999999999" must not cost a huge division
        }
        return value.setScale(0, java.math.RoundingMode.CEILING).intValueExact();
    }

    private static Integer intOrNull(JsonNode n) {
        if (n == null) {
            return null;
        }
        if (n.isIntegralNumber() && !n.canConvertToInt()) {
            return n.bigIntegerValue().signum() < 0 ? Integer.MIN_VALUE : Integer.MAX_VALUE;
        }
        if (n.isNumber()) {
            return n.intValue();
        }
        try {
            return Integer.valueOf(n.asText().trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** true/false, also as text (true/false, yes/no, on/off); anything else null (the default). */
    private static Boolean boolOrNull(JsonNode n) {
        if (n == null) {
            return null;
        }
        if (n.isBoolean()) {
            return n.booleanValue();
        }
        return switch (n.asText().trim().toLowerCase(java.util.Locale.ROOT)) {
            case "true", "yes", "on" -> Boolean.TRUE;
            case "false", "no", "off" -> Boolean.FALSE;
            default -> null;
        };
    }

    private static Double doubleOrNull(JsonNode n) {
        if (n == null) {
            return null;
        }
        if (n.isNumber()) {
            return n.doubleValue();
        }
        try {
            return Double.valueOf(n.asText().trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static String abbreviate(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "…" : s;
    }
}
