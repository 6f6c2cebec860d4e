package dev.aireview.runner.model;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RepositoryUrlTest {

    @Test
    void shouldEndTheUserInfoAtTheLastAtSignBeforeTheHost() {
        RepositoryUrl u = RepositoryUrl.parse("https://deploy:p@ss@word@git.example:8443/acme/shop.git");
        assertEquals("https", u.scheme());
        assertEquals("deploy:p@ss@word", u.userInfo());
        assertEquals("deploy", u.user());
        assertEquals("p@ss@word", u.password());
        assertEquals("git.example", u.host());
        assertEquals(8443, u.port());
        assertEquals("/acme/shop.git", u.path());
        assertEquals("git.example:8443", u.credentialHost());
        assertTrue(u.secrets().containsAll(List.of("deploy:p@ss@word", "p@ss@word")), u.secrets().toString());
        assertTrue(RepositoryUrl.parse("https://deploy:pass1234@x@h/r.git").secrets().contains("pass1234"),
                "git's own parser stops at the first '@'");
    }

    @Test
    void shouldParseWhatJavaNetUriRefuses() {
        String underscoreHost = "https://ci:s3cr3t-Pass@git_server.corp.internal/acme/shop.git";
        assertNull(URI.create(underscoreHost).getRawUserInfo(), "java.net.URI sees no user-info here");
        RepositoryUrl u = RepositoryUrl.parse(underscoreHost);
        assertEquals("git_server.corp.internal", u.host());
        assertEquals(List.of("ci:s3cr3t-Pass", "s3cr3t-Pass"), u.secrets());
    }

    @Test
    void shouldRegisterRawAndPercentDecodedForms() {
        RepositoryUrl u = RepositoryUrl.parse("http://x-access-token:t0k%40en%2Bplus+sign@127.0.0.1:8080/r.git");
        assertEquals("t0k%40en%2Bplus+sign", u.password());
        assertTrue(u.secrets().containsAll(List.of("x-access-token:t0k%40en%2Bplus+sign", "x-access-token:t0k@en+plus+sign",
                "t0k%40en%2Bplus+sign", "t0k@en+plus+sign")), u.secrets().toString());
        assertEquals("bad%zzescape%", RepositoryUrl.decode("bad%zzescape%"));
    }

    @Test
    void shouldTreatAUserNameWithoutPasswordAsTheSecret() {
        assertEquals(List.of("ghp_tokenAsUser123"), RepositoryUrl.secretsOf("https://ghp_tokenAsUser123@github.example/a/b.git"));
        assertEquals(List.of(), RepositoryUrl.secretsOf("ssh://git@github.example/a/b.git"), "an ssh account name is no secret");
    }

    @Test
    void shouldFindNoCredentialsInScpLikeUrlsOrInPaths() {
        RepositoryUrl scp = RepositoryUrl.parse("git@github.com:acme/shop.git");
        assertTrue(scp.scpLike());
        assertEquals("github.com", scp.host());
        assertEquals(List.of(), scp.secrets());
        assertEquals(List.of(), RepositoryUrl.secretsOf("https://host/scope/@pkg/x.git"));
        assertEquals(List.of(), RepositoryUrl.secretsOf("https://host/x.git?u=a@b"));
        assertEquals(List.of(), RepositoryUrl.secretsOf("/srv/repo.git"));
        assertEquals(List.of(), RepositoryUrl.secretsOf(null));
        assertEquals("::1", RepositoryUrl.parse("ssh://[::1]:2222/r.git").host().replace("[", "").replace("]", ""));
        assertEquals(2222, RepositoryUrl.parse("ssh://[::1]:2222/r.git").port());
    }

    @Test
    void shouldMaskCredentialsGitRefusesButPrintsBack() {
        assertEquals(List.of("x-access-token:tok+en/77xyz", "tok+en/77xyz"),
                RepositoryUrl.secretsOf("http://x-access-token:tok+en/77xyz@127.0.0.1:38205/shop.git"));
        assertEquals(List.of(), RepositoryUrl.secretsOf("https://host:8443/@scope/pkg.git"));
        assertEquals(List.of(), RepositoryUrl.secretsOf("https://host/a:b/@c.git"));
    }

    @Test
    void shouldRemoveTheUserInfoForPlacesThatNeedNoCredentials() {
        assertEquals("http://127.0.0.1:8080/r.git", RepositoryUrl.withoutUserInfo("http://u:p@ss@127.0.0.1:8080/r.git"));
        assertEquals("git@h:r.git", RepositoryUrl.withoutUserInfo("git@h:r.git"));
    }

    @Test
    void shouldRedactTheWholeUserInfoForMessages() {
        assertEquals("https://****@git_host:8443/a.git", RepositoryUrl.redact("https://u:p@ss@git_host:8443/a.git"));
        assertEquals("https://****@h/a.git", RepositoryUrl.redact("https://ab@h/a.git"));
        assertEquals("https://h/a@b.git", RepositoryUrl.redact("https://h/a@b.git"));
        assertEquals("git@h:a.git", RepositoryUrl.redact("git@h:a.git"));
    }

    @Test
    void shouldGiveTheTaskItsUrlCredentialsAsSecrets() throws Exception {
        assertTrue(ReviewTask.urlCredentials("https://u:p%40ss_w0rd@my_host/x.git").contains("p@ss_w0rd"));
        ReviewTask task = ReviewTask.fromJson(Json.mapper().valueToTree(java.util.Map.of("id", "t1",
                "repository", java.util.Map.of("url", "https://ci:r3po_Pass@git_host/x.git", "cloneToken", "tok-12345"),
                "headSha", "0123456789abcdef0123456789abcdef01234567",
                "ai", java.util.Map.of("model", "m", "apiKey", "sk-key-123", "baseUrl", "https://proxy:pr0xy_Pass@ai_gw/v1"))));
        assertTrue(task.secrets().containsAll(List.of("tok-12345", "sk-key-123", "r3po_Pass", "pr0xy_Pass")), task.secrets().toString());
    }

    @Test
    void shouldMaskEveryPartGitMayPrintOfAPasswordWithARawAtSign() {
        String url = "https://us_er:Secr3t@Pass99@host.example/repo.git";
        List<String> secrets = RepositoryUrl.secretsOf(url);
        assertTrue(secrets.containsAll(List.of("Secr3t", "Pass99", "Secr3t@Pass99")), secrets.toString());
        // what git prints after anonymising at the first '@'
        String gitLine = "fatal: unable to access 'https://Pass99@host.example/repo.git/': Could not resolve host";
        String masked = dev.aireview.runner.observability.SecretMasker.of(secrets).mask(gitLine);
        assertFalse(masked.contains("Pass99"), masked);
        assertTrue(RepositoryUrl.hasAmbiguousUserInfo(url));
        assertFalse(RepositoryUrl.hasAmbiguousUserInfo("https://us_er:Secr3t%40Pass99@host.example/repo.git"));
        assertFalse(RepositoryUrl.hasAmbiguousUserInfo("git@host.example:repo.git"));
    }
}
