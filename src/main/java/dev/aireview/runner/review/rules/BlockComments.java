package dev.aireview.runner.review.rules;

import dev.aireview.runner.review.DiffLine;
import dev.aireview.runner.review.FileDiff;
import dev.aireview.runner.review.Hunk;

import java.util.HashMap;
import java.util.Map;

/**
 * The code of a C-family file's added lines with its comments blanked out: {@code //} to the end of the line and
 * {@code /* … *&#47;} blocks, followed across the lines a hunk shows (added and context), so a doc comment's example
 * ({@code @example} blocks whose lines have no leading {@code *}) is not read as code. A hunk that begins inside a
 * comment is recognised by a {@code *&#47;} that closes a comment never opened in the hunk. String literals are kept
 * as they are (a {@code /*} inside one opens nothing). Line by line, no parser: a guide for the rules, not a lexer.
 */
final class BlockComments {

    private BlockComments() {
    }

    /**
     * New-side line number → the line's text without comments, for the added lines of hunks that show a block comment
     * delimiter (other lines: as they are).
     */
    static Map<Integer, String> codeOfAddedLines(FileDiff f, boolean apostropheQuotes) {
        Map<Integer, String> code = new HashMap<>();
        for (Hunk h : f.hunks()) {
            if (!mentionsBlockComment(h)) {
                continue; // no block comment in what the hunk shows: its lines are read as they are
            }
            boolean startsInComment = closesUnopened(h, apostropheQuotes);
            boolean[] inBlock = {startsInComment};
            for (DiffLine l : h.lines()) {
                if (l.kind() == DiffLine.Kind.REMOVED) {
                    continue;
                }
                String c = strip(l.text(), inBlock, apostropheQuotes, null);
                if (l.isAdded()) {
                    code.put(l.newLine(), c);
                }
            }
        }
        return code;
    }

    private static boolean mentionsBlockComment(Hunk h) {
        for (DiffLine l : h.lines()) {
            if (l.kind() != DiffLine.Kind.REMOVED && (l.text().contains("/*") || l.text().contains("*/"))) {
                return true;
            }
        }
        return false;
    }

    /** The hunk's first comment delimiter (outside strings) is a {@code *&#47;}: it begins inside a block comment. */
    private static boolean closesUnopened(Hunk h, boolean apostropheQuotes) {
        boolean[] inBlock = {false};
        boolean[] closed = {false};
        for (DiffLine l : h.lines()) {
            if (l.kind() == DiffLine.Kind.REMOVED) {
                continue;
            }
            strip(l.text(), inBlock, apostropheQuotes, closed);
            if (closed[0]) {
                return true;
            }
            if (inBlock[0]) {
                return false; // a comment opened first
            }
        }
        return false;
    }

    /**
     * The line without comments; {@code inBlock} carries the state from line to line. When {@code unopenedClose} is
     * given, a {@code *&#47;} met outside any comment sets it and ends the scan.
     */
    private static String strip(String text, boolean[] inBlock, boolean apostropheQuotes, boolean[] unopenedClose) {
        StringBuilder out = new StringBuilder(text.length());
        int n = text.length();
        int i = 0;
        while (i < n) {
            if (inBlock[0]) {
                int end = text.indexOf("*/", i);
                if (end < 0) {
                    break;
                }
                inBlock[0] = false;
                out.append(' ');
                i = end + 2;
                continue;
            }
            char c = text.charAt(i);
            char next = i + 1 < n ? text.charAt(i + 1) : 0;
            if (c == '/' && next == '/') {
                break;
            }
            if (c == '/' && next == '*') {
                inBlock[0] = true;
                i += 2;
                continue;
            }
            if (c == '*' && next == '/' && unopenedClose != null) {
                unopenedClose[0] = true;
                break;
            }
            if (c == '"' || c == '`' || c == '\'' && apostropheQuotes) {
                int close = closingQuote(text, i + 1, c);
                if (close < 0) {
                    out.append(text, i, n);
                    break;
                }
                out.append(text, i, close + 1);
                i = close + 1;
                continue;
            }
            out.append(c);
            i++;
        }
        return out.toString();
    }

    private static int closingQuote(String text, int from, char quote) {
        for (int i = from; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\') {
                i++;
            } else if (c == quote) {
                return i;
            }
        }
        return -1;
    }
}
