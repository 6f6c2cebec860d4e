package dev.aireview.runner.observability;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * The client side of {@link HealthServer}: one {@code GET /health}, bounded by a deadline, reduced to healthy or
 * not plus one line for a person. It is what the {@code health} command (and so a container health check in an
 * image without curl) runs; the verdict is the endpoint's status code, never a second opinion.
 */
public final class HealthProbe {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The verdict: {@code line} is one line, e.g. {@code healthy: online, 0/2 slots busy} or the reason. */
    public record Outcome(boolean healthy, String line) {
    }

    private HealthProbe() {
    }

    /**
     * Asks {@code http://host:port/health}. Connecting and the whole answer share {@code timeout}; a refused
     * connection, a timeout, a non-200 status and a malformed answer are all "not healthy".
     */
    public static Outcome check(String host, int port, Duration timeout) {
        String h = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
        URI uri = URI.create("http://" + h + ":" + port + "/health");
        HttpClient client = HttpClient.newBuilder().connectTimeout(timeout).proxy(HttpClient.Builder.NO_PROXY).build();
        HttpResponse<String> answer;
        try {
            answer = client.send(HttpRequest.newBuilder(uri).timeout(timeout).GET().build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            return new Outcome(false, "unhealthy: no answer from " + uri + " (" + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Outcome(false, "unhealthy: interrupted while asking " + uri);
        }
        JsonNode body = null;
        try {
            body = JSON.readTree(answer.body());
        } catch (IOException | RuntimeException e) {
            // the status code decides; the body only adds detail
        }
        String status = body == null ? "" : body.path("status").asText("");
        if (answer.statusCode() == 200) {
            String slots = body == null || !body.has("slots") ? ""
                    : ", " + body.path("busySlots").asInt() + "/" + body.path("slots").asInt() + " slots busy";
            return new Outcome(true, "healthy: " + (status.isEmpty() ? "HTTP 200" : status) + slots);
        }
        String reason = body == null ? "" : body.path("reason").asText("");
        return new Outcome(false, "unhealthy: HTTP " + answer.statusCode() + (status.isEmpty() ? "" : " (" + status + ")")
                + (reason.isEmpty() ? "" : ": " + reason));
    }
}
