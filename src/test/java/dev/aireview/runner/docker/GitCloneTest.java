package dev.aireview.runner.docker;

import dev.aireview.runner.observability.SecretMasker;

import dev.aireview.runner.model.ReviewTask;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GitCloneTest {
    private static final String SHA = "0123456789abcdef0123456789abcdef01234567";

    @Test
    void shouldAcceptOrdinaryUrlsAndBranches() {
        for (String url : List.of("https://git.example/acme/shop.git", "http://127.0.0.1:8080/x.git", "ssh://git@host/x.git",
                "git://127.0.0.1:9418/shop.git", "file:///srv/repo.git", "git@github.com:acme/shop.git")) {
            assertNull(GitClone.urlProblem(url), url);
        }
        for (String branch : List.of("main", "feature/cart", "release-1.2", "user@fix#3", "v1+build")) {
            assertNull(GitClone.branchProblem(branch), branch);
        }
    }

    @Test
    void shouldRejectOptionInjectionAndForeignTransports() {
        for (String url : List.of("--upload-pack=touch /tmp/x", "-oProxyCommand=x", "ext::sh -c touch% /tmp/pwned",
                "fd::17", "ftp://host/x", "https://host/x y", "https://host/x\nq", "/srv/repo.git", "host:-x")) {
            assertNotNull(GitClone.urlProblem(url), url);
        }
        for (String branch : List.of("--upload-pack=x", "-b", "a..b", "a b", "a;rm", "x.lock", "/x", "x/", "a@{1}", "$(id)", "a`b`")) {
            assertNotNull(GitClone.branchProblem(branch), branch);
        }
    }

    @Test
    void shouldListEveryProblemOfATask() throws Exception {
        ReviewTask task = DockerTestSupport.task(null, "ext::sh", "-x", SHA, null, null);
        List<String> problems = GitClone.validate(task, 1);
        assertEquals(2, problems.size(), problems.toString());
        assertTrue(GitClone.validate(DockerTestSupport.task(null, "https://h/x.git", "main", SHA, SHA, null), 1).isEmpty());
        assertEquals(List.of("clone token contains a line break or control character"),
                GitClone.validate(DockerTestSupport.task(null, "https://h/x.git", "main", SHA, null, "tok\nfile:///etc"), 1),
                "a token cannot smuggle a second stdin line (the URL) past validation");
    }

    @Test
    void shouldPassSecretsOnlyOnStdinAndEverythingElseThroughTheEnvironment() {
        String url = "https://u:p%40ss_w0rd@git_host:8443/x.git";
        ReviewTask task = DockerTestSupport.task(null, url, "main", SHA, null, "tok-secret-99");
        List<String> env = GitClone.env(task, 5);
        assertTrue(env.contains("GIT_SAFE_URL=https://git_host:8443/x.git"), env.toString());
        assertTrue(env.contains("GIT_HEAD_SHA=" + SHA));
        assertTrue(env.contains("GIT_DEPTH=5"));
        assertTrue(env.contains("GIT_CRED_PROTOCOL=https"));
        assertTrue(env.contains("GIT_CRED_HOST=git_host:8443"));
        assertTrue(env.contains("GIT_FOLLOW_REDIRECTS=false"), "no redirects while credentials are in use");
        assertFalse(String.join("\n", env).contains("tok-secret-99"));
        assertFalse(String.join("\n", env).contains("p%40ss_w0rd"));
        assertEquals("tok-secret-99\n" + url + "\n", new String(GitClone.stdin(task), java.nio.charset.StandardCharsets.UTF_8));
        assertFalse(GitClone.SCRIPT.contains("tok-secret-99"));
        assertFalse(GitClone.SCRIPT.contains("git_host"));

        ReviewTask anonymous = DockerTestSupport.task(null, "https://h/x.git", "main", SHA, null, null);
        assertTrue(GitClone.env(anonymous, 1).contains("GIT_FOLLOW_REDIRECTS=initial"), "git's default without credentials");
        assertEquals("\nhttps://h/x.git\n", new String(GitClone.stdin(anonymous), java.nio.charset.StandardCharsets.UTF_8));
        assertTrue(GitClone.env(DockerTestSupport.task(null, "http://127.0.0.1/x.git", "main", SHA, null, null), 1)
                .contains("GIT_CRED_HOST=127.0.0.1"));
        assertNull(GitClone.urlProblem("deploy@git_host.corp:acme/x.git"));
    }

    /** Runs the credential helper through the host's real git ({@code git credential fill}) for {@code request}. */
    private static String fill(String request) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("git", "-c", "credential.helper=", "-c", "credential.helper=" + GitClone.CREDENTIAL_HELPER,
                "credential", "fill").redirectErrorStream(true);
        pb.environment().put("GIT_TOKEN", "tok-scoped-123");
        pb.environment().put("GIT_CRED_PROTOCOL", "http");
        pb.environment().put("GIT_CRED_HOST", "127.0.0.1:8080");
        pb.environment().put("GIT_TERMINAL_PROMPT", "0");
        pb.environment().put("GIT_CONFIG_NOSYSTEM", "1");
        pb.environment().put("GIT_ASKPASS", "/bin/false");
        pb.environment().put("HOME", System.getProperty("java.io.tmpdir"));
        Process p = pb.start();
        try (var in = p.getOutputStream()) {
            in.write((request + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }

    @Test
    void shouldGiveTheTokenOnlyForTheRepositorysOwnProtocolHostAndPort() throws Exception {
        assertTrue(fill("protocol=http\nhost=127.0.0.1:8080\npath=x.git\n").contains("password=tok-scoped-123"));
        for (String other : List.of("protocol=http\nhost=127.0.0.1:8081\n", "protocol=http\nhost=127.0.0.1\n",
                "protocol=https\nhost=127.0.0.1:8080\n", "protocol=http\nhost=evil.example:8080\n",
                "protocol=http\nhost=127.0.0.1:8080.evil.example\n")) {
            String out = fill(other);
            assertFalse(out.contains("tok-scoped-123"), other + " -> " + out);
        }
    }

    @Test
    void shouldMaskRawAndUrlEncodedSecrets() {
        String masked = SecretMasker.of(List.of("tok/en+1")).mask("a tok/en+1 b tok%2Fen%2B1 c");
        assertEquals("a **** b **** c", masked);
    }
}
