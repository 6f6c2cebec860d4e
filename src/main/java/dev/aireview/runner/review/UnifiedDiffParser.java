package dev.aireview.runner.review;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses unified diffs: the output of {@code git diff} (several files, with {@code diff --git} headers, renames,
 * copies, new/deleted files, binary markers, quoted paths) and bare hunks as sent in a task's
 * {@code files[].patch}. Tolerant: hunks whose line counts do not match are read as far as they go.
 */
public final class UnifiedDiffParser {

    private static final Pattern HUNK = Pattern.compile("^@@+ -(\\d+)(?:,(\\d+))? \\+(\\d+)(?:,(\\d+))? @@+ ?(.*)$");

    private UnifiedDiffParser() {
    }

    /** Parses a whole multi-file diff (git or plain unified format). */
    public static List<FileDiff> parse(String diff) {
        Lines lines = new Lines(diff);
        List<FileDiff> files = new ArrayList<>();
        int i = 0;
        while (i < lines.size()) {
            String line = lines.get(i);
            if (line.startsWith("diff --git ") || line.startsWith("diff --cc ") || line.startsWith("diff --combined ")) {
                i = parseGitFile(lines, i, files);
            } else if (line.startsWith("--- ") && i + 1 < lines.size() && lines.get(i + 1).startsWith("+++ ")) {
                i = parsePlainFile(lines, i, files);
            } else {
                i++;
            }
        }
        return files;
    }

    /**
     * Parses the patch of one file as the server sends it ({@code files[].patch}): usually bare hunks starting
     * with {@code @@}, sometimes a full diff with headers. {@code path}, {@code previousPath} and {@code change}
     * come from the task.
     */
    public static FileDiff parsePatch(String path, String previousPath, FileDiff.ChangeType change, String patch) {
        String text = patch == null ? "" : patch;
        String trimmed = text.stripLeading();
        if (trimmed.startsWith("diff ") || trimmed.startsWith("--- ")) {
            List<FileDiff> parsed = parse(text);
            if (parsed.size() == 1) {
                FileDiff f = parsed.get(0);
                return f.withPaths(path, previousPath == null ? path : previousPath, change == null ? f.change() : change);
            }
        }
        Lines lines = new Lines(text);
        List<Hunk> hunks = new ArrayList<>();
        boolean binary = false;
        int i = 0;
        while (i < lines.size()) {
            String line = lines.get(i);
            if (HUNK.matcher(line).matches()) {
                i = parseHunk(lines, i, hunks, true);
            } else {
                if (line.startsWith("Binary files ") || line.equals("GIT binary patch")) {
                    binary = true;
                }
                i++;
            }
        }
        FileDiff.ChangeType type = change != null ? change : FileDiff.ChangeType.MODIFIED;
        return new FileDiff(path, previousPath == null ? path : previousPath, type, binary, hunks, -1);
    }

    private static int parseGitFile(Lines lines, int start, List<FileDiff> out) {
        String[] headerPaths = headerPaths(lines.get(start));
        String oldPath = headerPaths[0];
        String newPath = headerPaths[1];
        FileDiff.ChangeType type = FileDiff.ChangeType.MODIFIED;
        boolean binary = false;
        String mode = null;
        List<Hunk> hunks = new ArrayList<>();
        int i = start + 1;
        while (i < lines.size()) {
            String line = lines.get(i);
            if (line.startsWith("diff --git ") || line.startsWith("diff --cc ") || line.startsWith("diff --combined ")) {
                break;
            }
            if (line.startsWith("@@")) {
                if (HUNK.matcher(line).matches()) {
                    i = parseHunk(lines, i, hunks, false);
                    continue;
                }
            } else if (line.startsWith("new file mode")) {
                type = FileDiff.ChangeType.ADDED;
                mode = modeOf(line);
            } else if (line.startsWith("deleted file mode")) {
                type = FileDiff.ChangeType.DELETED;
                mode = modeOf(line);
            } else if (line.startsWith("new mode ")) {
                mode = modeOf(line);
            } else if (line.startsWith("index ") && mode == null) {
                mode = modeOf(line); // "index a..b 100644": the mode, when it did not change
            } else if (line.startsWith("rename from ")) {
                oldPath = unquote(line.substring("rename from ".length()));
                type = FileDiff.ChangeType.RENAMED;
            } else if (line.startsWith("rename to ")) {
                newPath = unquote(line.substring("rename to ".length()));
                type = FileDiff.ChangeType.RENAMED;
            } else if (line.startsWith("copy from ")) {
                oldPath = unquote(line.substring("copy from ".length()));
                type = FileDiff.ChangeType.COPIED;
            } else if (line.startsWith("copy to ")) {
                newPath = unquote(line.substring("copy to ".length()));
                type = FileDiff.ChangeType.COPIED;
            } else if (line.startsWith("--- ")) {
                String p = sidePath(line.substring(4));
                if (p != null) {
                    oldPath = p;
                } else if (type == FileDiff.ChangeType.MODIFIED) {
                    type = FileDiff.ChangeType.ADDED;
                }
            } else if (line.startsWith("+++ ")) {
                String p = sidePath(line.substring(4));
                if (p != null) {
                    newPath = p;
                } else if (type == FileDiff.ChangeType.MODIFIED) {
                    type = FileDiff.ChangeType.DELETED;
                }
            } else if (line.startsWith("Binary files ") || line.equals("GIT binary patch")) {
                binary = true;
            }
            i++;
        }
        String path = type == FileDiff.ChangeType.DELETED ? oldPath : newPath;
        out.add(new FileDiff(path, type == FileDiff.ChangeType.ADDED ? path : oldPath, type, binary, hunks, -1, mode));
        return i;
    }

    private static int parsePlainFile(Lines lines, int start, List<FileDiff> out) {
        String oldPath = sidePath(lines.get(start).substring(4));
        String newPath = sidePath(lines.get(start + 1).substring(4));
        FileDiff.ChangeType type = oldPath == null ? FileDiff.ChangeType.ADDED
                : newPath == null ? FileDiff.ChangeType.DELETED : FileDiff.ChangeType.MODIFIED;
        List<Hunk> hunks = new ArrayList<>();
        int i = start + 2;
        while (i < lines.size() && HUNK.matcher(lines.get(i)).matches()) {
            i = parseHunk(lines, i, hunks, false);
        }
        String path = newPath != null ? newPath : oldPath;
        out.add(new FileDiff(path, oldPath != null ? oldPath : path, type, false, hunks, -1));
        return i;
    }

    /**
     * Reads the hunk whose header is at {@code start}; returns the index after it. In lenient mode (a single
     * file's patch, where nothing else can follow) lines past the announced counts are still read.
     */
    private static int parseHunk(Lines lines, int start, List<Hunk> out, boolean lenient) {
        Matcher m = HUNK.matcher(lines.get(start));
        if (!m.matches()) {
            return start + 1;
        }
        int oldStart = Integer.parseInt(m.group(1));
        int oldCount = m.group(2) == null ? 1 : Integer.parseInt(m.group(2));
        int newStart = Integer.parseInt(m.group(3));
        int newCount = m.group(4) == null ? 1 : Integer.parseInt(m.group(4));
        String section = m.group(5) == null ? "" : m.group(5).trim();
        int oldLeft = oldCount;
        int newLeft = newCount;
        int oldNo = oldStart;
        int newNo = newStart;
        List<DiffLine> body = new ArrayList<>();
        int i = start + 1;
        while (i < lines.size()) {
            boolean countsLeft = oldLeft > 0 || newLeft > 0;
            if (lines.startsWith(i, "\\")) {
                // "\ No newline at end of file" belongs to the line before it.
                if (!body.isEmpty()) {
                    body.set(body.size() - 1, body.get(body.size() - 1).withNoNewlineAtEnd());
                }
                i++;
                continue;
            }
            if (!countsLeft && !lenient) {
                break;
            }
            if (lines.startsWith(i, "@@") && HUNK.matcher(lines.get(i)).matches()) {
                break;
            }
            if (lines.startsWith(i, "diff --git ")) {
                break;
            }
            // the text after the line's first character, taken from the diff at once: no copy of the whole line first
            char c = lines.isEmpty(i) ? ' ' : lines.first(i);
            if (c == '+') {
                body.add(new DiffLine(DiffLine.Kind.ADDED, 0, newNo++, lines.afterFirst(i), false));
                newLeft--;
            } else if (c == '-') {
                body.add(new DiffLine(DiffLine.Kind.REMOVED, oldNo++, 0, lines.afterFirst(i), false));
                oldLeft--;
            } else if (c == ' ') {
                body.add(new DiffLine(DiffLine.Kind.CONTEXT, oldNo++, newNo++, lines.afterFirst(i), false));
                oldLeft--;
                newLeft--;
            } else {
                break;
            }
            i++;
        }
        out.add(new Hunk(oldStart, oldCount, newStart, newCount, section, body));
        return i;
    }

    /** The six-digit octal mode at the end of a mode or index line, or null. */
    private static String modeOf(String line) {
        String last = line.substring(line.lastIndexOf(' ') + 1);
        return last.length() == 6 && last.chars().allMatch(c -> c >= '0' && c <= '7') ? last : null;
    }

    /** Paths of a {@code diff --git a/X b/Y} header; {@code [old, new]}. */
    static String[] headerPaths(String header) {
        String rest = header.replaceFirst("^diff --(git|cc|combined) ", "");
        if (rest.startsWith("\"")) {
            int end = closingQuote(rest, 0);
            String a = unquote(rest.substring(0, end + 1));
            String b = unquote(rest.substring(Math.min(rest.length(), end + 2)));
            return new String[]{stripPrefix(a), stripPrefix(b)};
        }
        int quoted = rest.indexOf(" \"");
        if (quoted > 0) {
            return new String[]{stripPrefix(rest.substring(0, quoted)), stripPrefix(unquote(rest.substring(quoted + 1)))};
        }
        // "a/X b/X": when both sides are the same path the split is in the middle.
        int len = rest.length();
        if (len % 2 == 1) {
            int mid = len / 2;
            String a = rest.substring(0, mid);
            String b = rest.substring(mid + 1);
            if (rest.charAt(mid) == ' ' && stripPrefix(a).equals(stripPrefix(b))) {
                return new String[]{stripPrefix(a), stripPrefix(b)};
            }
        }
        int split = rest.indexOf(" b/");
        if (split < 0) {
            split = rest.indexOf(' ');
        }
        if (split < 0) {
            return new String[]{stripPrefix(rest), stripPrefix(rest)};
        }
        return new String[]{stripPrefix(rest.substring(0, split)), stripPrefix(rest.substring(split + 1))};
    }

    /** Path of a {@code ---}/{@code +++} line; null for {@code /dev/null}. */
    private static String sidePath(String raw) {
        String p = raw;
        if (p.startsWith("\"")) {
            p = unquote(p.substring(0, closingQuote(p, 0) + 1));
        } else {
            int tab = p.indexOf('\t');
            if (tab >= 0) {
                p = p.substring(0, tab);
            }
            p = p.stripTrailing();
        }
        if (p.equals("/dev/null")) {
            return null;
        }
        return stripPrefix(p);
    }

    private static String stripPrefix(String p) {
        if (p.length() > 2 && (p.startsWith("a/") || p.startsWith("b/") || p.startsWith("i/") || p.startsWith("w/")
                || p.startsWith("c/") || p.startsWith("o/"))) {
            return p.substring(2);
        }
        return p;
    }

    private static int closingQuote(String s, int open) {
        for (int i = open + 1; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                return i;
            }
        }
        return s.length() - 1;
    }

    /** Undoes git's C-style path quoting ({@code "dir/na\303\257ve \"x\".txt"}); unquoted text is returned as is. */
    static String unquote(String s) {
        String t = s.strip();
        if (t.length() < 2 || !t.startsWith("\"") || !t.endsWith("\"")) {
            return t;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int i = 1; i < t.length() - 1; i++) {
            char c = t.charAt(i);
            if (c != '\\' || i + 1 >= t.length() - 1) {
                byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                bytes.write(b, 0, b.length);
                continue;
            }
            char n = t.charAt(++i);
            switch (n) {
                case 'n' -> bytes.write('\n');
                case 't' -> bytes.write('\t');
                case 'r' -> bytes.write('\r');
                case 'a' -> bytes.write(7);
                case 'b' -> bytes.write('\b');
                case 'f' -> bytes.write('\f');
                case 'v' -> bytes.write(11);
                case '0', '1', '2', '3' -> {
                    int end = Math.min(i + 3, t.length() - 1);
                    bytes.write(Integer.parseInt(t.substring(i, end), 8));
                    i = end - 1;
                }
                default -> bytes.write(n);
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /**
     * A text's lines as offsets, split at {@code \n} with a {@code \r} before it dropped: a line's {@code String} is
     * made only when asked for, so a hunk's lines become their {@link DiffLine} texts without a copy of each whole
     * line first (a 32 MiB diff: one copy of it and half a million strings fewer).
     */
    private static final class Lines {
        private final String text;
        private int[] from = new int[64];
        private int[] to = new int[64];
        private int size;

        Lines(String text) {
            this.text = text == null ? "" : text;
            int at = 0;
            int len = this.text.length();
            while (at < len) {
                int nl = this.text.indexOf('\n', at);
                int end = nl < 0 ? len : nl;
                int cut = end > at && this.text.charAt(end - 1) == '\r' ? end - 1 : end;
                if (size == from.length) {
                    from = java.util.Arrays.copyOf(from, size * 2);
                    to = java.util.Arrays.copyOf(to, size * 2);
                }
                from[size] = at;
                to[size] = cut;
                size++;
                at = nl < 0 ? len : nl + 1;
            }
        }

        int size() {
            return size;
        }

        String get(int i) {
            return text.substring(from[i], to[i]);
        }

        boolean startsWith(int i, String prefix) {
            return to[i] - from[i] >= prefix.length() && text.startsWith(prefix, from[i]);
        }

        boolean isEmpty(int i) {
            return from[i] == to[i];
        }

        char first(int i) {
            return text.charAt(from[i]);
        }

        /** The line without its first character ("" for an empty line, which a hunk reads as an empty context line). */
        String afterFirst(int i) {
            return from[i] == to[i] ? "" : text.substring(from[i] + 1, to[i]);
        }
    }
}
