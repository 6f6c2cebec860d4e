package dev.aireview.runner.review.config;

import java.util.regex.Pattern;

/**
 * A path glob of {@code .ai-review.yml}, matched against repository-relative paths with {@code /}:
 * {@code *} and {@code ?} stay inside one path segment, {@code **} spans directories ({@code src/**} and
 * {@code src/**}{@code /*.java} both match {@code src/A.java}), {@code {a,b}} is an alternative. A glob without
 * a {@code /} matches the file name in any directory ({@code *.snap}), as in {@code .gitignore}; a glob ending
 * in {@code /} matches everything below that directory.
 */
public final class Glob {

    private final String text;
    private final Pattern pattern;

    private Glob(String text, Pattern pattern) {
        this.text = text;
        this.pattern = pattern;
    }

    /** Compiles a glob; throws {@link IllegalArgumentException} with a readable reason for a malformed one. */
    public static Glob of(String glob) {
        String g = glob.strip();
        if (g.isEmpty()) {
            throw new IllegalArgumentException("empty path glob");
        }
        while (g.startsWith("./")) {
            g = g.substring(2);
        }
        if (g.startsWith("/")) {
            g = g.substring(1);
        }
        if (g.endsWith("/")) {
            g = g + "**";
        }
        if (!g.contains("/")) {
            g = "**/" + g;
        }
        StringBuilder re = new StringBuilder();
        int braces = 0;
        for (int i = 0; i < g.length(); i++) {
            char c = g.charAt(i);
            switch (c) {
                case '*' -> {
                    if (i + 1 < g.length() && g.charAt(i + 1) == '*') {
                        boolean slash = i + 2 < g.length() && g.charAt(i + 2) == '/';
                        re.append(slash ? "(?:.*/)?" : ".*");
                        i += slash ? 2 : 1;
                    } else {
                        re.append("[^/]*");
                    }
                }
                case '?' -> re.append("[^/]");
                case '{' -> {
                    braces++;
                    re.append("(?:");
                }
                case '}' -> {
                    if (braces == 0) {
                        throw new IllegalArgumentException("unbalanced '}' in path glob '" + glob + "'");
                    }
                    braces--;
                    re.append(')');
                }
                case ',' -> re.append(braces > 0 ? "|" : ",");
                default -> re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        if (braces != 0) {
            throw new IllegalArgumentException("unbalanced '{' in path glob '" + glob + "'");
        }
        return new Glob(glob, Pattern.compile(re.toString()));
    }

    public boolean matches(String path) {
        return pattern.matcher(path).matches();
    }

    @Override
    public String toString() {
        return text;
    }
}
