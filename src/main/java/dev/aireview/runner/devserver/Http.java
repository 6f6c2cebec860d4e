package dev.aireview.runner.devserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import dev.aireview.runner.model.Json;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Small helpers shared by the handlers: envelopes, body reading, query parsing, token checks. */
final class Http {
    static final int MAX_BODY_BYTES = 16 * 1024 * 1024;
    /**
     * Exchanges whose headers went out early (an injected stall). Not an exchange attribute: the JDK server keeps
     * those per context, shared by every exchange of it.
     */
    private static final java.util.Set<HttpExchange> HEADERS_SENT = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private Http() {
    }

    static JsonNode readJson(HttpExchange ex) throws IOException {
        byte[] bytes = readBody(ex);
        if (bytes.length == 0) {
            return Json.mapper().createObjectNode();
        }
        try {
            return Json.mapper().readTree(bytes);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw ApiException.badRequest("body is not valid JSON: " + e.getOriginalMessage());
        }
    }

    static ObjectNode readObject(HttpExchange ex) throws IOException {
        JsonNode n = readJson(ex);
        if (n == null || !n.isObject()) {
            throw ApiException.badRequest("body must be a JSON object");
        }
        return (ObjectNode) n;
    }

    private static byte[] readBody(HttpExchange ex) throws IOException {
        try (InputStream in = ex.getRequestBody()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            int n;
            while ((n = in.read(buf)) != -1) {
                out.write(buf, 0, n);
                if (out.size() > MAX_BODY_BYTES) {
                    throw new ApiException(413, "body larger than " + MAX_BODY_BYTES + " bytes");
                }
            }
            return out.toByteArray();
        }
    }

    /** {@code {"data": data}} with the given status. */
    static void sendData(HttpExchange ex, int status, JsonNode data) throws IOException {
        ObjectNode env = Json.mapper().createObjectNode();
        env.set("data", data);
        sendJson(ex, status, env);
    }

    static void sendError(HttpExchange ex, int status, String detail) throws IOException {
        ObjectNode env = Json.mapper().createObjectNode();
        ObjectNode err = env.putObject("error");
        err.put("title", ApiException.title(status));
        err.put("status", status);
        err.put("detail", detail);
        sendJson(ex, status, env);
    }

    static void sendJson(HttpExchange ex, int status, JsonNode body) throws IOException {
        send(ex, status, "application/json; charset=utf-8", Json.mapper().writeValueAsBytes(body));
    }

    /**
     * Sends {@code status} and the headers now, with a chunked body to follow (an injected stall): the next
     * {@link #send} writes only the body.
     */
    static void sendHeadersNow(HttpExchange ex, int status) throws IOException {
        ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        ex.sendResponseHeaders(status, 0);
        ex.getResponseBody().flush();
        HEADERS_SENT.add(ex);
    }

    /**
     * Sends {@code status} and the headers now (unless an injected stall sent them already) and returns the body's
     * stream, chunked: the caller writes the body as it makes it and closes the exchange.
     */
    static java.io.OutputStream stream(HttpExchange ex, int status) throws IOException {
        if (!HEADERS_SENT.remove(ex)) {
            ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
            ex.getResponseHeaders().set("Cache-Control", "no-store");
            ex.sendResponseHeaders(status, 0);
            ex.getResponseBody().flush();
        }
        return ex.getResponseBody();
    }

    /** Forgets an exchange once it is done (see {@link #sendHeadersNow}). */
    static void done(HttpExchange ex) {
        HEADERS_SENT.remove(ex);
    }

    static void send(HttpExchange ex, int status, String contentType, byte[] bytes) throws IOException {
        if (HEADERS_SENT.remove(ex)) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
            ex.close();
            return;
        }
        ex.getResponseHeaders().set("Content-Type", contentType);
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
        }
        ex.close();
    }

    static Map<String, String> query(HttpExchange ex) {
        Map<String, String> out = new LinkedHashMap<>();
        String q = ex.getRequestURI().getRawQuery();
        if (q == null || q.isEmpty()) {
            return out;
        }
        for (String pair : q.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String k = eq < 0 ? pair : pair.substring(0, eq);
            String v = eq < 0 ? "" : pair.substring(eq + 1);
            out.putIfAbsent(URLDecoder.decode(k, StandardCharsets.UTF_8), URLDecoder.decode(v, StandardCharsets.UTF_8));
        }
        return out;
    }

    static String header(HttpExchange ex, String name) {
        String v = ex.getRequestHeaders().getFirst(name);
        return v == null || v.isBlank() ? null : v.trim();
    }

    /** The token of the request: {@code Authorization: Bearer <t>} or {@code x-api-key: <t>}; null when none. */
    static String presentedToken(HttpExchange ex) {
        String auth = header(ex, "Authorization");
        if (auth != null && auth.length() > 7 && auth.substring(0, 7).toLowerCase(Locale.ROOT).equals("bearer ")) {
            return auth.substring(7).trim();
        }
        return header(ex, "x-api-key");
    }

    /** Throws 401 unless the request carries one of {@code accepted} (compared in constant time). */
    static void requireToken(HttpExchange ex, List<String> accepted) {
        String presented = presentedToken(ex);
        if (presented == null) {
            throw new ApiException(401, "missing token: send 'Authorization: Bearer <token>' or 'x-api-key: <token>'");
        }
        byte[] p = presented.getBytes(StandardCharsets.UTF_8);
        for (String a : accepted) {
            if (a != null && MessageDigest.isEqual(p, a.getBytes(StandardCharsets.UTF_8))) {
                return;
            }
        }
        throw new ApiException(401, "invalid token");
    }

    static Integer intParam(String value, String name) {
        if (value == null || value.isBlank()) {
            return null;
        }
        try {
            return Integer.valueOf(value.trim());
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("'" + name + "' must be an integer, got '" + value + "'");
        }
    }

    static Integer intField(JsonNode node, String... names) {
        JsonNode n = Json.field(node, names);
        if (n == null) {
            return null;
        }
        if (n.isNumber()) {
            return n.intValue();
        }
        return intParam(n.asText(), names[0]);
    }

    /** Path segments after {@code prefix}, URL-decoded; empty segments dropped. */
    static List<String> segments(HttpExchange ex, String prefix) {
        String path = ex.getRequestURI().getRawPath();
        String rest = path.length() > prefix.length() ? path.substring(prefix.length()) : "";
        return java.util.Arrays.stream(rest.split("/"))
                .filter(s -> !s.isEmpty())
                .map(s -> URLDecoder.decode(s, StandardCharsets.UTF_8))
                .toList();
    }
}
