package dev.aireview.runner.server;

import java.nio.charset.StandardCharsets;

/**
 * Describes a server answer the runner cannot read by its size and shape only, e.g.
 * {@code "412 bytes, starts with '<' (HTML?)"}. A raw body is never logged or put into a message: a proxy's error
 * page, a misrouted answer or an echo of the request can carry tokens, cookies or internal addresses.
 */
public final class BodyShape {
    private BodyShape() {
    }

    public static String describe(String body) {
        return describe(body == null ? null : body.getBytes(StandardCharsets.UTF_8));
    }

    public static String describe(byte[] body) {
        if (body == null || body.length == 0) {
            return "empty body";
        }
        int i = 0;
        if (body.length >= 3 && (body[0] & 0xff) == 0xEF && (body[1] & 0xff) == 0xBB && (body[2] & 0xff) == 0xBF) {
            i = 3;
        }
        while (i < body.length && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n')) {
            i++;
        }
        String size = body.length + (body.length == 1 ? " byte" : " bytes");
        if (i == body.length) {
            return size + ", whitespace only";
        }
        int c = body[i] & 0xff;
        String kind = switch (c) {
            case '<' -> "HTML?";
            case '{', '[' -> "JSON?";
            case '"' -> "a JSON string?";
            default -> c < 0x20 || c >= 0x7f ? "binary?" : "text?";
        };
        String first = c >= 0x20 && c < 0x7f ? "'" + (char) c + "'" : String.format("byte 0x%02x", c);
        return size + ", starts with " + first + " (" + kind + ")";
    }
}
