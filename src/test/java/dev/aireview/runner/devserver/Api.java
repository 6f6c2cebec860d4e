package dev.aireview.runner.devserver;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aireview.runner.model.Json;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** A tiny JDK HttpClient wrapper for the tests: real HTTP round trips against a started {@link DevServer}. */
final class Api {
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String baseUrl;
    private final String token;

    Api(String baseUrl, String token) {
        this.baseUrl = baseUrl;
        this.token = token;
    }

    Api withToken(String otherToken) {
        return new Api(baseUrl, otherToken);
    }

    record Reply(int status, String body) {
        JsonNode json() {
            try {
                return Json.mapper().readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON (HTTP " + status + "): " + body, e);
            }
        }

        JsonNode data() {
            JsonNode d = json().get("data");
            if (d == null) {
                throw new AssertionError("no data envelope (HTTP " + status + "): " + body);
            }
            return d;
        }

        @Override
        public String toString() {
            return "HTTP " + status + " " + body;
        }
    }

    Reply get(String path, String... headers) throws IOException, InterruptedException {
        return send(request(path, headers).GET());
    }

    Reply post(String path, String json, String... headers) throws IOException, InterruptedException {
        return send(request(path, headers).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8)));
    }

    /** Registers {@code id} (header) and returns the reply. */
    Reply register(String id, int maxConcurrency) throws IOException, InterruptedException {
        return post("/api/runners/register", "{\"name\":\"" + id + "\",\"version\":\"test\",\"maxConcurrentJobs\":"
                + maxConcurrency + ",\"tags\":[],\"hostname\":\"test-host\"}", "x-runner-id", id,
                "x-runner-max-concurrency", String.valueOf(maxConcurrency));
    }

    Reply heartbeat(String runnerId, String status, String... runningIds) throws IOException, InterruptedException {
        StringBuilder ids = new StringBuilder();
        for (String id : runningIds) {
            ids.append(ids.length() == 0 ? "" : ",").append('"').append(id).append('"');
        }
        return post("/api/runners/" + runnerId + "/heartbeat", "{\"status\":\"" + status + "\",\"activeJobs\":"
                + runningIds.length + ",\"maxConcurrentJobs\":4,\"runningTaskIds\":[" + ids + "]}");
    }

    Reply poll(String runnerId, int maxTasks, long waitMs) throws IOException, InterruptedException {
        return get("/api/runners/tasks/pending?runnerId=" + runnerId + "&maxTasks=" + maxTasks + "&waitMs=" + waitMs);
    }

    Reply status(String taskId, String runnerId, String phase) throws IOException, InterruptedException {
        return post("/api/runners/tasks/" + taskId + "/status", "{\"runnerId\":\"" + runnerId + "\",\"status\":\""
                + phase + "\",\"message\":\"" + phase + "\",\"at\":\"2026-01-01T00:00:00Z\"}");
    }

    Reply result(String taskId, String runnerId, String status) throws IOException, InterruptedException {
        return post("/api/runners/tasks/" + taskId + "/result", "{\"runnerId\":\"" + runnerId + "\",\"status\":\""
                + status + "\",\"summary\":\"looks fine\",\"comments\":[{\"path\":\"a.txt\",\"line\":1,"
                + "\"severity\":\"warning\",\"message\":\"check this\"}],\"stats\":{\"durationMs\":5}}");
    }

    private HttpRequest.Builder request(String path, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(Duration.ofSeconds(60));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        for (int i = 0; i + 1 < headers.length; i += 2) {
            b.setHeader(headers[i], headers[i + 1]);
        }
        return b;
    }

    private Reply send(HttpRequest.Builder b) throws IOException, InterruptedException {
        HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        return new Reply(r.statusCode(), r.body());
    }
}
