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
    }

    @Test
    void shouldPassValuesAndTheTokenOnlyThroughTheEnvironment() {
        ReviewTask task = DockerTestSupport.task(null, "https://h/x.git", "main", SHA, null, "tok-secret-99");
        List<String> env = GitClone.env(task, 5);
        assertTrue(env.contains("GIT_TOKEN=tok-secret-99"));
        assertTrue(env.contains("GIT_URL=https://h/x.git"));
        assertTrue(env.contains("GIT_HEAD_SHA=" + SHA));
        assertTrue(env.contains("GIT_DEPTH=5"));
        assertFalse(GitClone.SCRIPT.contains("tok-secret-99"));
        assertFalse(GitClone.SCRIPT.contains("https://h/x.git"));
        assertFalse(GitClone.env(DockerTestSupport.task(null, "https://h/x.git", "main", SHA, null, null), 1)
                .stream().anyMatch(e -> e.startsWith("GIT_TOKEN=")));
    }

    @Test
    void shouldMaskRawAndUrlEncodedSecrets() {
        String masked = SecretMasker.of(List.of("tok/en+1")).mask("a tok/en+1 b tok%2Fen%2B1 c");
        assertEquals("a **** b **** c", masked);
    }
}
