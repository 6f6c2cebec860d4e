package dev.aireview.runner.devserver;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aireview.runner.model.FileChange;
import dev.aireview.runner.model.Json;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A review task to enqueue through {@link DevServer#enqueue(NewTask)}, built like the admin API's request body.
 * Only the repository is required, plus {@code headSha} or {@code branch}.
 */
public final class NewTask {
    private final ObjectNode request;

    private NewTask(ObjectNode request) {
        this.request = request;
    }

    /** A task for the repository at {@code url} (any git URL, including {@code file://}). */
    public static Builder forRepository(String url) {
        return new Builder(Objects.requireNonNull(url, "url"));
    }

    /** The admin API request body this task stands for. */
    public ObjectNode toRequest() {
        return request.deepCopy();
    }

    @Override
    public String toString() {
        return "NewTask" + Secrets.mask(request, Secrets.of(request));
    }

    public static final class Builder {
        private final ObjectNode req = Json.mapper().createObjectNode();
        private final List<String> rules = new ArrayList<>();

        private Builder(String url) {
            req.putObject("repository").put("url", url);
        }

        public Builder id(String id) {
            req.put("id", id);
            return this;
        }

        public Builder reviewId(String reviewId) {
            req.put("reviewId", reviewId);
            return this;
        }

        public Builder fullName(String fullName) {
            ((ObjectNode) req.get("repository")).put("fullName", fullName);
            return this;
        }

        public Builder cloneToken(String cloneToken) {
            ((ObjectNode) req.get("repository")).put("cloneToken", cloneToken);
            return this;
        }

        public Builder branch(String branch) {
            req.put("branch", branch);
            return this;
        }

        public Builder headSha(String headSha) {
            req.put("headSha", headSha);
            return this;
        }

        public Builder baseSha(String baseSha) {
            req.put("baseSha", baseSha);
            return this;
        }

        public Builder files(List<FileChange> files) {
            ArrayNode a = req.putArray("files");
            files.forEach(f -> a.add(Json.mapper().valueToTree(f)));
            return this;
        }

        public Builder rule(String rule) {
            rules.add(rule);
            return this;
        }

        public Builder prompt(String prompt) {
            req.put("prompt", prompt);
            return this;
        }

        public Builder timeoutSeconds(int timeoutSeconds) {
            req.put("timeoutSeconds", timeoutSeconds);
            return this;
        }

        /** An OpenAI-compatible model; without it the executor's built-in offline reviewer runs. */
        public Builder ai(String provider, String baseUrl, String model, String apiKey) {
            ObjectNode ai = req.putObject("ai");
            ai.put("provider", provider);
            ai.put("baseUrl", baseUrl);
            ai.put("model", model);
            if (apiKey != null) {
                ai.put("apiKey", apiKey);
            }
            return this;
        }

        public NewTask build() {
            ObjectNode copy = req.deepCopy();
            if (!rules.isEmpty()) {
                ArrayNode a = copy.putArray("rules");
                rules.forEach(a::add);
            }
            try {
                TaskRequests.toTask(copy); // fail early on a request the admin API would refuse
            } catch (ApiException e) {
                throw new IllegalArgumentException(e.getMessage());
            }
            return new NewTask(copy);
        }
    }
}
