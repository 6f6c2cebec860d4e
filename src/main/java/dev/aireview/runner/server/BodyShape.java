package dev.aireview.runner.server;

import java.nio.charset.StandardCharsets;

/**
 * Describes a body the runner could not read by its size and shape only ("2 KiB, looks like HTML"), never by
 * its content: an answer from a proxy or a broken server may echo anything, tokens included, and a log line is
 * sent out to the log pipeline.
 */
public final class BodyShape {
    private BodyShape() {
    }

    public static String describe(byte[] body, boolean truncated) {
        return size(body.length) + (truncated ? " (cut off)" : "") + ", " + kind(body);
    }

    /** A body read as a stream: its size, and its kind judged from its first bytes. */
    static String describe(long size, byte[] head, boolean truncated) {
        return size(size) + (truncated ? " (cut off)" : "") + ", " + kind(head);
    }

    static String size(long n) {
        if (n < 1024) {
            return n + " bytes";
        }
        if (n < 1024 * 1024) {
            return (n / 1024) + " KiB";
        }
        return (n / (1024 * 1024)) + " MiB";
    }

    private static String kind(byte[] body) {
        int i = 0;
        while (i < body.length && Character.isWhitespace(body[i])) {
            i++;
        }
        if (i == body.length) {
            return "blank";
        }
        String head = new String(body, i, Math.min(16, body.length - i), StandardCharsets.ISO_8859_1).toLowerCase(java.util.Locale.ROOT);
        if (head.startsWith("<!doctype html") || head.startsWith("<html") || head.startsWith("<")) {
            return "looks like HTML/XML";
        }
        return switch (head.charAt(0)) {
            case '{' -> "looks like a JSON object";
            case '[' -> "looks like a JSON list";
            default -> "not JSON";
        };
    }
}
