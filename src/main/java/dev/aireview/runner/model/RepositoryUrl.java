package dev.aireview.runner.model;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A repository URL split the way git and curl split it, never by {@link java.net.URI} (which refuses what git
 * accepts and then reports no user-info at all: a raw {@code @} in the password, {@code _} in a host name).
 *
 * <p>{@code scheme://[userinfo@]host[:port][/path]}: the authority ends at the first {@code /}, {@code ?} or
 * {@code #} after {@code ://}; inside it the <em>last</em> {@code @} ends the user-info (curl's rule, so
 * {@code https://u:p@ss@host/} has the password {@code p@ss}); the first {@code :} of the user-info ends the
 * user name. Values stay as written ({@code %}-encoded); {@link #decode} decodes as git does (no {@code +} to space).
 * git's own credential parser ends the user-info at the <em>first</em> {@code @}; {@link #secrets()} covers both
 * readings. The scp-like form {@code [user@]host:path} carries no password.
 */
public record RepositoryUrl(String scheme, String userInfo, String user, String password, String host, Integer port,
                            String path, boolean scpLike) {

    /** Parses {@code url}; null when it is neither {@code scheme://…} nor scp-like {@code [user@]host:path}. */
    public static RepositoryUrl parse(String url) {
        if (url == null) {
            return null;
        }
        String s = url.trim();
        int sep = s.indexOf("://");
        if (sep > 0 && isScheme(s.substring(0, sep))) {
            String scheme = s.substring(0, sep).toLowerCase(Locale.ROOT);
            int start = sep + 3;
            int end = start;
            while (end < s.length() && "/?#".indexOf(s.charAt(end)) < 0) {
                end++;
            }
            String authority = s.substring(start, end);
            int at = authority.lastIndexOf('@');
            String userInfo = at < 0 ? null : authority.substring(0, at);
            String hostPort = at < 0 ? authority : authority.substring(at + 1);
            String user = userInfo;
            String password = null;
            if (userInfo != null) {
                int colon = userInfo.indexOf(':');
                if (colon >= 0) {
                    user = userInfo.substring(0, colon);
                    password = userInfo.substring(colon + 1);
                }
            }
            String host = hostPort;
            Integer port = null;
            int colon = hostPort.lastIndexOf(':');
            if (colon >= 0 && colon > hostPort.lastIndexOf(']')) {
                host = hostPort.substring(0, colon);
                port = portOrNull(hostPort.substring(colon + 1));
            }
            return new RepositoryUrl(scheme, userInfo, user, password, host, port, s.substring(end), false);
        }
        int colon = s.indexOf(':');
        int slash = s.indexOf('/');
        if (colon > 0 && (slash < 0 || colon < slash)) {
            String left = s.substring(0, colon);
            int at = left.lastIndexOf('@');
            return new RepositoryUrl("ssh", at < 0 ? null : left.substring(0, at), at < 0 ? null : left.substring(0, at), null,
                    left.substring(at + 1), null, s.substring(colon + 1), true);
        }
        return null;
    }

    /**
     * The secrets this URL carries, raw and {@code %}-decoded: the whole user-info, the password (by the last-{@code @}
     * and by git's first-{@code @} reading), and, over HTTP(S), the user name when there is no password (a token
     * written as {@code https://TOKEN@host/}), and credentials git refuses ({@link #malformedCredentials}). Empty for an
     * scp-like URL or one without user-info; never throws.
     */
    public static List<String> secretsOf(String url) {
        RepositoryUrl u = parse(url);
        if (u != null && !u.scpLike && u.userInfo == null) {
            return malformedCredentials(url);
        }
        return u == null ? List.of() : u.secrets();
    }

    /**
     * True when {@code url}'s user-info holds a raw {@code @}: git's credential parser ends it at the first {@code @},
     * curl and this class at the last, so the two would send, and git would print, different parts of it. Such a
     * task is refused ({@code bad_task}).
     */
    public static boolean hasAmbiguousUserInfo(String url) {
        RepositoryUrl u = parse(url);
        return u != null && !u.scpLike && u.userInfo != null && u.userInfo.indexOf('@') >= 0;
    }

    /** See {@link #secretsOf}. */
    public List<String> secrets() {
        if (scpLike || userInfo == null || userInfo.isEmpty()) {
            return List.of();
        }
        boolean http = scheme.equals("http") || scheme.equals("https");
        if (password == null && !http) {
            return List.of(); // over ssh a lone user name is an account name ("git"), not a secret
        }
        Set<String> out = new LinkedHashSet<>();
        addBoth(out, userInfo);
        if (password != null) {
            addBoth(out, password);
            int firstAt = userInfo.indexOf('@');
            if (firstAt >= 0 && firstAt > userInfo.indexOf(':')) {
                // git's credential parser stops at the first '@': its password is the part before it, and what
                // follows each '@' is what git takes for (the start of) the host and prints back
                addBoth(out, userInfo.substring(userInfo.indexOf(':') + 1, firstAt));
                for (int at = firstAt; at >= 0; at = userInfo.indexOf('@', at + 1)) {
                    addBoth(out, userInfo.substring(at + 1));
                    int next = userInfo.indexOf('@', at + 1);
                    addBoth(out, userInfo.substring(at + 1, next < 0 ? userInfo.length() : next));
                }
            }
        } else {
            addBoth(out, user); // over HTTP a lone user name is a token
        }
        out.remove("");
        return new ArrayList<>(out);
    }

    /**
     * Credentials that git refuses but prints back in its error message: {@code user:pass/word@host}, a raw {@code /}
     * in the password ending the authority early. When an {@code @} follows in the path and the text between
     * {@code ://} and it looks like {@code user:password} (what follows the first {@code :} up to the first
     * {@code /} is not a port number), it is masked too.
     */
    private static List<String> malformedCredentials(String url) {
        String s = url.trim();
        int start = s.indexOf("://") + 3;
        int end = s.length();
        for (char stop : new char[]{'?', '#'}) {
            int i = s.indexOf(stop, start);
            end = i >= 0 ? Math.min(end, i) : end;
        }
        int at = s.lastIndexOf('@', end - 1);
        if (at < start) {
            return List.of();
        }
        String candidate = s.substring(start, at);
        int colon = candidate.indexOf(':');
        int slash = candidate.indexOf('/');
        if (colon < 0 || slash < 0 || slash < colon) {
            return List.of();
        }
        String beforeSlash = candidate.substring(colon + 1, slash);
        if (beforeSlash.chars().allMatch(Character::isDigit)) {
            return List.of();
        }
        Set<String> out = new LinkedHashSet<>();
        addBoth(out, candidate);
        addBoth(out, candidate.substring(colon + 1));
        return new ArrayList<>(out);
    }

    /** The URL with any user-info replaced by {@code ****}, for messages; the text unchanged when it is not a URL. */
    public static String redact(String url) {
        RepositoryUrl u = parse(url);
        if (u == null || u.userInfo == null || u.scpLike) {
            return url;
        }
        String s = url.trim();
        int start = s.indexOf("://") + 3;
        return s.substring(0, start) + "****@" + s.substring(start + u.userInfo.length() + 1);
    }

    /** The URL with any user-info removed (as handed on to places that need no credentials); unchanged otherwise. */
    public static String withoutUserInfo(String url) {
        RepositoryUrl u = parse(url);
        if (u == null || u.scpLike || u.userInfo == null) {
            return url;
        }
        String s = url.trim();
        int start = s.indexOf("://") + 3;
        return s.substring(0, start) + s.substring(start + u.userInfo.length() + 1);
    }

    /**
     * What git's credential protocol calls the {@code host} of this URL: the host name, with {@code :port} when the URL
     * names one (git sends {@code host=example.com:8443}).
     */
    public String credentialHost() {
        return port == null ? host : host + ":" + port;
    }

    /** {@code %XX} decoded as UTF-8; malformed escapes stay as written; {@code +} stays {@code +} (git's rule). */
    public static String decode(String s) {
        if (s == null || s.indexOf('%') < 0) {
            return s;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
        byte[] in = s.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < in.length; i++) {
            if (in[i] == '%' && i + 2 < in.length && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
                out.write(hex(in[i + 1]) * 16 + hex(in[i + 2]));
                i += 2;
            } else {
                out.write(in[i]);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "RepositoryUrl[scheme=" + scheme + ", userInfo=" + (userInfo == null ? "none" : "****") + ", host=" + host
                + ", port=" + port + ", path=" + path + ", scpLike=" + scpLike + "]";
    }

    private static void addBoth(Set<String> out, String value) {
        if (value != null) {
            out.add(value);
            out.add(decode(value));
        }
    }

    private static int hex(byte b) {
        return Character.digit((char) b, 16);
    }

    private static boolean isScheme(String s) {
        if (s.isEmpty() || !Character.isLetter(s.charAt(0))) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(c < 0x80 && (Character.isLetterOrDigit(c) || c == '+' || c == '.' || c == '-'))) {
                return false;
            }
        }
        return true;
    }

    private static Integer portOrNull(String s) {
        if (s.isEmpty() || s.length() > 5) {
            return null;
        }
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return null;
            }
        }
        return Integer.valueOf(s);
    }
}
