package dev.aireview.runner.devserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aireview.runner.model.Json;

import java.nio.file.Path;

/**
 * Turns an admin "enqueue" request into a task body in the protocol's shape (PROTOCOL.md "Task", camelCase).
 * Accepts camelCase or snake_case, a repository given as an object, a URL string or a local path.
 */
final class TaskRequests {
    private TaskRequests() {
    }

    static ObjectNode toTask(JsonNode req) {
        if (req == null || !req.isObject()) {
            throw ApiException.badRequest("task request must be a JSON object");
        }
        ObjectNode task = Json.mapper().createObjectNode();
        copyText(req, task, "id", "id", "taskId", "task_id");
        copyText(req, task, "reviewId", "reviewId", "review_id");

        ObjectNode repo = task.putObject("repository");
        JsonNode r = Json.field(req, "repository", "repo");
        String url = null;
        String fullName = null;
        String cloneToken = Json.text(req, "cloneToken", "clone_token");
        if (r != null && r.isTextual()) {
            url = r.asText();
        } else if (r != null && r.isObject()) {
            url = Json.text(r, "url", "cloneUrl", "clone_url");
            fullName = Json.text(r, "fullName", "full_name", "name");
            if (Json.text(r, "cloneToken", "clone_token", "token") != null) {
                cloneToken = Json.text(r, "cloneToken", "clone_token", "token");
            }
            String path = Json.text(r, "path", "localPath", "local_path");
            if (url == null && path != null) {
                url = fileUrl(path);
            }
        }
        if (url == null) {
            url = Json.text(req, "repositoryUrl", "repository_url", "repoUrl", "repo_url", "cloneUrl", "clone_url", "url");
        }
        if (url == null) {
            String path = Json.text(req, "repositoryPath", "repository_path", "localPath", "local_path", "path");
            if (path != null) {
                url = fileUrl(path);
            }
        }
        if (url == null) {
            throw ApiException.badRequest("missing 'repository' (a URL, a local path, or {\"url\": ...})");
        }
        repo.put("url", url);
        repo.put("fullName", fullName != null ? fullName : fullNameOf(url));
        if (cloneToken != null) {
            repo.put("cloneToken", cloneToken);
        }

        copyText(req, task, "branch", "branch", "ref");
        copyText(req, task, "baseSha", "baseSha", "base_sha");
        copyText(req, task, "headSha", "headSha", "head_sha", "sha");
        if (!task.has("headSha") && !task.has("branch")) {
            throw ApiException.badRequest("give 'headSha' or 'branch'");
        }
        JsonNode files = Json.field(req, "files");
        if (files != null) {
            if (!files.isArray()) {
                throw ApiException.badRequest("'files' must be a list");
            }
            task.set("files", files.deepCopy());
        }
        JsonNode ai = Json.field(req, "ai", "aiConfig", "ai_config");
        if (ai != null) {
            if (!ai.isObject()) {
                throw ApiException.badRequest("'ai' must be an object");
            }
            ObjectNode a = task.putObject("ai");
            copyText(ai, a, "provider", "provider");
            copyText(ai, a, "baseUrl", "baseUrl", "base_url", "url");
            copyText(ai, a, "model", "model");
            copyText(ai, a, "apiKey", "apiKey", "api_key", "key");
            JsonNode t = Json.field(ai, "temperature");
            if (t != null) {
                a.set("temperature", t.deepCopy());
            }
            JsonNode m = Json.field(ai, "maxTokens", "max_tokens");
            if (m != null) {
                a.set("maxTokens", m.deepCopy());
            }
            JsonNode tools = Json.field(ai, "tools", "useTools", "use_tools");
            if (tools != null) {
                a.set("tools", tools.deepCopy());
            }
        }
        JsonNode rules = Json.field(req, "rules");
        if (rules != null) {
            ArrayNode out = task.putArray("rules");
            if (rules.isArray()) {
                rules.forEach(x -> out.add(x.deepCopy()));
            } else {
                out.add(rules.asText());
            }
        }
        copyText(req, task, "prompt", "prompt", "promptTemplate", "prompt_template");
        Integer timeout = Http.intField(req, "timeoutSeconds", "timeout_seconds", "timeout");
        if (timeout != null) {
            task.put("timeoutSeconds", timeout);
        }
        return task;
    }

    private static void copyText(JsonNode from, ObjectNode to, String target, String... names) {
        String v = Json.text(from, names);
        if (v != null) {
            to.put(target, v);
        }
    }

    private static String fileUrl(String path) {
        if (path.startsWith("file:")) {
            return path;
        }
        return Path.of(path).toAbsolutePath().normalize().toUri().toString();
    }

    private static String fullNameOf(String url) {
        String u = url.replaceAll("/+$", "");
        if (u.endsWith(".git")) {
            u = u.substring(0, u.length() - 4);
        }
        String[] parts = u.split("[/:]");
        if (parts.length >= 2) {
            return parts[parts.length - 2] + "/" + parts[parts.length - 1];
        }
        return u;
    }
}
