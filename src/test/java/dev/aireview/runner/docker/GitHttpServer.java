package dev.aireview.runner.docker;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * git's smart HTTP protocol on 127.0.0.1 ({@code git http-backend} behind a JDK HttpServer), recording the
 * {@code Authorization} header of every request. It challenges (401, Basic) a request without credentials when
 * {@code challenge} is set, accepts only {@code x-access-token:<token>} when a token is set, and answers an
 * authenticated request with a redirect to {@code redirectTo} (same path) when that is set. Containers reach it
 * with network mode {@code host}.
 */
final class GitHttpServer implements AutoCloseable {
    /** One request as received: method, path (with query) and the Authorization header (null when absent). */
    record Seen(String method, String path, String authorization) {
    }

    private final HttpServer http;
    private final Path projectRoot;
    private final String token;
    private final boolean challenge;
    private volatile String redirectTo;
    private volatile Runnable onFirstRequest = () -> { };
    final List<Seen> seen = new CopyOnWriteArrayList<>();

    private GitHttpServer(Path projectRoot, String token, boolean challenge) throws IOException {
        this.projectRoot = projectRoot;
        this.token = token;
        this.challenge = challenge;
        this.http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        http.createContext("/", this::handle);
        http.start();
    }

    /** Serves the repositories under {@code projectRoot}; {@code token} null accepts any credentials. */
    static GitHttpServer start(Path projectRoot, String token, boolean challenge) throws IOException {
        return new GitHttpServer(projectRoot, token, challenge);
    }

    String url(String repository) {
        return "http://127.0.0.1:" + http.getAddress().getPort() + "/" + repository;
    }

    /** Answers every authenticated request with a redirect to the same path on {@code other}. */
    GitHttpServer redirectTo(GitHttpServer other) {
        this.redirectTo = "http://127.0.0.1:" + other.http.getAddress().getPort();
        return this;
    }

    /** Runs {@code action} before answering the first request (while the client waits for the answer). */
    GitHttpServer onFirstRequest(Runnable action) {
        this.onFirstRequest = action;
        return this;
    }

    static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String auth = exchange.getRequestHeaders().getFirst("Authorization");
            String path = exchange.getRequestURI().getRawPath();
            String query = exchange.getRequestURI().getRawQuery();
            seen.add(new Seen(exchange.getRequestMethod(), path + (query == null ? "" : "?" + query), auth));
            if (seen.size() == 1) {
                onFirstRequest.run();
            }
            byte[] body = exchange.getRequestBody().readAllBytes();
            if (auth == null && challenge || auth != null && token != null && !auth.equals(basic("x-access-token", token))) {
                exchange.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"git\"");
                exchange.sendResponseHeaders(401, -1);
                return;
            }
            if (redirectTo != null) {
                exchange.getResponseHeaders().add("Location", redirectTo + path + (query == null ? "" : "?" + query));
                exchange.sendResponseHeaders(302, -1);
                return;
            }
            cgi(exchange, path, query, body);
        } catch (RuntimeException | InterruptedException e) {
            exchange.sendResponseHeaders(500, -1);
        }
    }

    /** Runs {@code git http-backend} as a CGI script and relays its answer. */
    private void cgi(HttpExchange exchange, String path, String query, byte[] body) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder("git", "http-backend");
        Map<String, String> env = pb.environment();
        env.put("GIT_PROJECT_ROOT", projectRoot.toString());
        env.put("GIT_HTTP_EXPORT_ALL", "1");
        env.put("PATH_INFO", path);
        env.put("QUERY_STRING", query == null ? "" : query);
        env.put("REQUEST_METHOD", exchange.getRequestMethod());
        env.put("CONTENT_TYPE", String.valueOf(exchange.getRequestHeaders().getFirst("Content-Type")));
        env.put("CONTENT_LENGTH", Integer.toString(body.length));
        env.put("GIT_CONFIG_NOSYSTEM", "1");
        env.put("HOME", projectRoot.toString());
        Process p = pb.redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try (OutputStream in = p.getOutputStream()) {
            in.write(body);
        }
        byte[] out;
        try (InputStream o = p.getInputStream()) {
            out = o.readAllBytes();
        }
        p.waitFor(30, TimeUnit.SECONDS);
        int split = indexOf(out, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        int status = 200;
        for (String line : new String(out, 0, Math.max(0, split), StandardCharsets.ISO_8859_1).split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String name = line.substring(0, colon).trim();
            String value = line.substring(colon + 1).trim();
            if (name.equalsIgnoreCase("Status")) {
                status = Integer.parseInt(value.split(" ")[0]);
            } else {
                exchange.getResponseHeaders().add(name, value);
            }
        }
        byte[] rest = split < 0 ? new byte[0] : java.util.Arrays.copyOfRange(out, split + 4, out.length);
        exchange.sendResponseHeaders(status, rest.length == 0 ? -1 : rest.length);
        if (rest.length > 0) {
            exchange.getResponseBody().write(rest);
        }
    }

    private static int indexOf(byte[] data, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= data.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (data[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** The Authorization headers received (null for none), in order. */
    List<String> authorizations() {
        List<String> out = new ArrayList<>();
        seen.forEach(s -> out.add(s.authorization()));
        return out;
    }

    @Override
    public void close() {
        http.stop(0);
    }
}
