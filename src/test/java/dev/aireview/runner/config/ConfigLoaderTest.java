package dev.aireview.runner.config;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class ConfigLoaderTest {

    private static Map<String, String> required() {
        Map<String, String> env = new HashMap<>();
        env.put("RUNNER_SERVER_URL", "http://localhost:3000/");
        env.put("RUNNER_TOKEN", "tok-very-secret-123");
        env.put("RUNNER_NAME", "runner-1");
        env.put("DOCKER_EXECUTOR_IMAGE", "local/ai-review-executor:dev");
        return env;
    }

    private static RunnerConfig ok(Map<String, String> env, Map<String, String> flags) {
        ConfigLoader.Result r = ConfigLoader.load(env, flags);
        assertTrue(r.ok(), () -> "problems: " + r.problems());
        return r.config();
    }

    private static List<String> problems(Map<String, String> env) {
        ConfigLoader.Result r = ConfigLoader.load(env, Map.of());
        assertFalse(r.ok());
        assertNull(r.config());
        return r.problems();
    }

    @Test
    void shouldApplyDocumentedDefaultsWhenOnlyRequiredVariablesAreSet() {
        RunnerConfig c = ok(required(), Map.of());
        assertEquals(URI.create("http://localhost:3000"), c.serverUrl());
        assertEquals("tok-very-secret-123", c.token());
        assertEquals("runner-1", c.name());
        assertEquals("runner-1", c.runnerId());
        assertEquals(List.of(), c.tags());
        assertEquals(2, c.maxConcurrentJobs());
        assertEquals(Duration.ofMillis(5000), c.pollInterval());
        assertEquals(Duration.ofMillis(30000), c.pollTimeout());
        assertEquals(Duration.ofMillis(15000), c.heartbeatInterval());
        assertEquals(Duration.ofMillis(10000), c.requestTimeout());
        assertEquals(Duration.ofMillis(600000), c.shutdownGrace());
        assertEquals(4L * 1024 * 1024, c.logLimitBytes());
        DockerConfig d = c.docker();
        assertEquals("unix:///var/run/docker.sock", d.host());
        assertEquals("local/ai-review-executor:dev", d.executorImage());
        assertEquals(PullPolicy.IF_NOT_PRESENT, d.pullPolicy());
        assertEquals(2L * 1024 * 1024 * 1024, d.memoryBytes());
        assertEquals(1.0, d.cpus());
        assertEquals("bridge", d.networkMode());
        assertEquals(Path.of("/var/lib/ai-review/workspaces"), d.workspaceBase());
        assertEquals(Duration.ofSeconds(600), d.timeout());
        assertEquals(0, d.poolSize());
        assertEquals(50, d.cloneDepth());
        assertEquals(512, d.pidsLimit());
        assertEquals("10001:10001", d.user());
        assertEquals(Duration.ofSeconds(10), d.stopGrace());
        assertEquals("runner-1", d.runnerName());
        assertFalse(c.toString().contains("tok-very-secret-123"));
        assertEquals("****", ConfigLoader.describe(c).get("RUNNER_TOKEN"));
        assertFalse(ConfigLoader.describe(c).toString().contains("tok-very-secret-123"));
    }

    @Test
    void shouldParseEveryVariable() {
        Map<String, String> env = required();
        env.put("RUNNER_SERVER_URL", "https://review.example.com/base");
        env.put("RUNNER_ID", "id-77");
        env.put("RUNNER_TAGS", " gpu, linux ,,gpu");
        env.put("RUNNER_MAX_CONCURRENT_JOBS", "7");
        env.put("RUNNER_CLONE_DEPTH", "3");
        env.put("RUNNER_POLL_INTERVAL_MS", "1234");
        env.put("RUNNER_POLL_TIMEOUT_MS", "45000");
        env.put("RUNNER_HEARTBEAT_INTERVAL_MS", "2500");
        env.put("RUNNER_REQUEST_TIMEOUT_MS", "4000");
        env.put("RUNNER_SHUTDOWN_GRACE_MS", "0");
        env.put("RUNNER_LOG_LIMIT_BYTES", "64k");
        env.put("DOCKER_HOST", "tcp://127.0.0.1:2375");
        env.put("DOCKER_PULL_POLICY", "Never");
        env.put("DOCKER_MEMORY_LIMIT", "512m");
        env.put("DOCKER_CPU_LIMIT", "0.5");
        env.put("DOCKER_NETWORK_MODE", "host");
        env.put("DOCKER_WORKSPACE_BASE", "/tmp/ws/../workspaces");
        env.put("DOCKER_TIMEOUT_SECONDS", "90");
        env.put("DOCKER_POOL_SIZE", "2");
        env.put("DOCKER_PIDS_LIMIT", "64");
        env.put("DOCKER_USER", "app:app");
        env.put("DOCKER_STOP_GRACE_SECONDS", "3");
        RunnerConfig c = ok(env, Map.of());
        assertEquals(URI.create("https://review.example.com/base"), c.serverUrl());
        assertEquals("id-77", c.runnerId());
        assertEquals(List.of("gpu", "linux"), c.tags());
        assertEquals(7, c.maxConcurrentJobs());
        assertEquals(3, c.docker().cloneDepth());
        assertEquals(Duration.ofMillis(1234), c.pollInterval());
        assertEquals(Duration.ofMillis(45000), c.pollTimeout());
        assertEquals(Duration.ofMillis(40000), c.pollWait());
        assertEquals(Duration.ofMillis(2500), c.heartbeatInterval());
        assertEquals(Duration.ofMillis(4000), c.requestTimeout());
        assertEquals(Duration.ZERO, c.shutdownGrace());
        assertEquals(64 * 1024, c.logLimitBytes());
        assertEquals("tcp://127.0.0.1:2375", c.docker().host());
        assertEquals(PullPolicy.NEVER, c.docker().pullPolicy());
        assertEquals(512L * 1024 * 1024, c.docker().memoryBytes());
        assertEquals(0.5, c.docker().cpus());
        assertEquals("host", c.docker().networkMode());
        assertEquals(Path.of("/tmp/workspaces"), c.docker().workspaceBase());
        assertEquals(Duration.ofSeconds(90), c.docker().timeout());
        assertEquals(2, c.docker().poolSize());
        assertEquals(64, c.docker().pidsLimit());
        assertEquals("app:app", c.docker().user());
        assertEquals(Duration.ofSeconds(3), c.docker().stopGrace());
    }

    @Test
    void shouldLetFlagsWinOverVariablesAndTreatBlankAsUnset() {
        Map<String, String> env = required();
        env.put("RUNNER_MAX_CONCURRENT_JOBS", "5");
        env.put("DOCKER_NETWORK_MODE", "  ");
        RunnerConfig c = ok(env, Map.of("RUNNER_MAX_CONCURRENT_JOBS", "1", "RUNNER_NAME", "from-flag", "RUNNER_POLL_INTERVAL_MS", ""));
        assertEquals(1, c.maxConcurrentJobs());
        assertEquals("from-flag", c.name());
        assertEquals("from-flag", c.runnerId());
        assertEquals("bridge", c.docker().networkMode());
        assertEquals(Duration.ofMillis(5000), c.pollInterval());
        // everything can come from flags alone
        RunnerConfig f = ok(Map.of(), required());
        assertEquals("runner-1", f.name());
    }

    @Test
    void shouldParseSizesWithAndWithoutUnitsAndB() {
        assertEquals(512L << 20, ConfigLoader.parseSize("512m"));
        assertEquals(512L << 20, ConfigLoader.parseSize("512MB"));
        assertEquals(512L << 20, ConfigLoader.parseSize("512Mi B".replace(" ", "")));
        assertEquals(2L << 30, ConfigLoader.parseSize("2g"));
        assertEquals(2L << 30, ConfigLoader.parseSize("2gb"));
        assertEquals((long) (1.5 * (1L << 30)), ConfigLoader.parseSize("1.5g"));
        assertEquals(1000, ConfigLoader.parseSize("1000"));
        assertEquals(1000, ConfigLoader.parseSize("1000b"));
        assertEquals(4096, ConfigLoader.parseSize("4k"));
        assertEquals(4096, ConfigLoader.parseSize("4KB"));
        assertEquals(1L << 40, ConfigLoader.parseSize("1t"));
        assertEquals(-1, ConfigLoader.parseSize("lots"));
        assertEquals(-1, ConfigLoader.parseSize("-5m"));
        assertEquals(-1, ConfigLoader.parseSize("5x"));
        assertEquals(-1, ConfigLoader.parseSize(""));
        assertEquals(-1, ConfigLoader.parseSize("99999999999t"));
    }

    @Test
    void shouldReportEveryMissingRequiredVariable() {
        List<String> p = problems(Map.of());
        assertEquals(4, p.size(), p.toString());
        for (String var : List.of("RUNNER_SERVER_URL", "RUNNER_TOKEN", "RUNNER_NAME", "DOCKER_EXECUTOR_IMAGE")) {
            assertTrue(p.stream().anyMatch(l -> l.startsWith(var + ":") && l.contains("required")), var + " in " + p);
        }
    }

    @Test
    void shouldReportEveryBadValueOnItsOwnLineNamingVariableAndValue() {
        Map<String, String> env = new HashMap<>();
        env.put("RUNNER_SERVER_URL", "ftp://nowhere");
        env.put("RUNNER_TOKEN", "has space-secret");
        env.put("RUNNER_NAME", "bad name!");
        env.put("RUNNER_ID", "id with space");
        env.put("RUNNER_TAGS", "ok,bad\ttag");
        env.put("RUNNER_MAX_CONCURRENT_JOBS", "0");
        env.put("RUNNER_CLONE_DEPTH", "-1");
        env.put("RUNNER_POLL_INTERVAL_MS", "soon");
        env.put("RUNNER_POLL_TIMEOUT_MS", "500");
        env.put("RUNNER_HEARTBEAT_INTERVAL_MS", "0");
        env.put("RUNNER_REQUEST_TIMEOUT_MS", "1.5");
        env.put("RUNNER_SHUTDOWN_GRACE_MS", "-3");
        env.put("RUNNER_LOG_LIMIT_BYTES", "10");
        env.put("DOCKER_HOST", "ssh://somewhere");
        env.put("DOCKER_EXECUTOR_IMAGE", "my image");
        env.put("DOCKER_PULL_POLICY", "sometimes");
        env.put("DOCKER_MEMORY_LIMIT", "lots");
        env.put("DOCKER_CPU_LIMIT", "-0.5");
        env.put("DOCKER_NETWORK_MODE", "my net");
        env.put("DOCKER_WORKSPACE_BASE", "relative/dir");
        env.put("DOCKER_TIMEOUT_SECONDS", "0");
        env.put("DOCKER_POOL_SIZE", "-1");
        env.put("DOCKER_PIDS_LIMIT", "0");
        env.put("DOCKER_USER", "root");
        env.put("DOCKER_STOP_GRACE_SECONDS", "ten");
        env.put("RUNNER_LOG_FORMAT", "xml");
        List<String> p = problems(env);
        assertEquals(env.size(), p.size(), String.join("\n", p));
        for (Map.Entry<String, String> e : env.entrySet()) {
            String var = e.getKey();
            List<String> lines = p.stream().filter(l -> l.startsWith(var + "=") || l.startsWith(var + ":")).toList();
            assertEquals(1, lines.size(), var + " in\n" + String.join("\n", p));
            if (!var.equals("RUNNER_TOKEN")) {
                assertTrue(lines.get(0).contains(e.getValue()), "value shown for " + var + ": " + lines.get(0));
            }
        }
        assertTrue(p.stream().noneMatch(l -> l.contains("space-secret")), "token value never printed");
        assertTrue(p.stream().anyMatch(l -> l.startsWith("RUNNER_POLL_TIMEOUT_MS='500'") && l.contains("shorter than the long poll needs")));
        assertTrue(p.stream().noneMatch(l -> l.contains("\n")));
    }

    @Test
    void shouldReportMalformedUrlsAndLimits() {
        Map<String, String> env = required();
        env.put("RUNNER_SERVER_URL", "http://");
        env.put("RUNNER_MAX_CONCURRENT_JOBS", "100000");
        env.put("DOCKER_MEMORY_LIMIT", "1m");
        env.put("DOCKER_CPU_LIMIT", "abc");
        env.put("DOCKER_USER", "0:0");
        env.put("DOCKER_HOST", "unix://");
        List<String> p = problems(env);
        assertEquals(6, p.size(), String.join("\n", p));
        assertTrue(p.stream().anyMatch(l -> l.startsWith("RUNNER_SERVER_URL='http://'")));
        assertTrue(p.stream().anyMatch(l -> l.startsWith("RUNNER_MAX_CONCURRENT_JOBS='100000'") && l.contains("at most 256")));
        assertTrue(p.stream().anyMatch(l -> l.startsWith("DOCKER_MEMORY_LIMIT='1m'") && l.contains("at least")));
        assertTrue(p.stream().anyMatch(l -> l.startsWith("DOCKER_CPU_LIMIT='abc'")));
        assertTrue(p.stream().anyMatch(l -> l.startsWith("DOCKER_USER='0:0'") && l.contains("root")));
        assertTrue(p.stream().anyMatch(l -> l.startsWith("DOCKER_HOST='unix://'")));
    }

    @Test
    void shouldRefuseCredentialsInServerUrlWithoutPrintingThem() {
        Map<String, String> env = required();
        env.put("RUNNER_SERVER_URL", "https://user:pw-secret@host.example");
        List<String> p = problems(env);
        assertEquals(1, p.size());
        assertFalse(p.get(0).contains("pw-secret"));
    }

    @Test
    void shouldReadTheWorkspaceGuardsAndIsolationOptions() {
        Map<String, String> env = required();
        RunnerConfig defaults = ConfigLoader.load(env, Map.of()).config();
        assertEquals(1L << 20, defaults.docker().resultLimitBytes());
        assertEquals(2L << 30, defaults.docker().workspaceLimitBytes());
        assertEquals(5L << 30, defaults.docker().minFreeDisk().bytes());
        assertNull(defaults.docker().runtime());
        assertEquals("bridge", defaults.docker().cloneNetworkMode(), "the clone follows DOCKER_NETWORK_MODE by default");

        env.put("DOCKER_RESULT_LIMIT_BYTES", "64k");
        env.put("DOCKER_WORKSPACE_LIMIT", "500m");
        env.put("DOCKER_MIN_FREE_DISK", "10%");
        env.put("DOCKER_RUNTIME", "runsc");
        env.put("DOCKER_NETWORK_MODE", "none");
        env.put("DOCKER_CLONE_NETWORK_MODE", "host");
        DockerConfig d = ConfigLoader.load(env, Map.of()).config().docker();
        assertEquals(64 * 1024, d.resultLimitBytes());
        assertEquals(500L << 20, d.workspaceLimitBytes());
        assertEquals(10.0, d.minFreeDisk().percent());
        assertEquals("runsc", d.runtime());
        assertEquals("none", d.networkMode());
        assertEquals("host", d.cloneNetworkMode());
    }

    @Test
    void shouldRefuseBadWorkspaceGuardsAndIsolationOptions() {
        Map<String, String> env = required();
        env.put("DOCKER_RESULT_LIMIT_BYTES", "10");
        env.put("DOCKER_WORKSPACE_LIMIT", "lots");
        env.put("DOCKER_MIN_FREE_DISK", "150%");
        env.put("DOCKER_RUNTIME", "run sc");
        env.put("DOCKER_CLONE_NETWORK_MODE", "a b");
        List<String> p = problems(env);
        assertEquals(5, p.size(), p.toString());
        assertTrue(p.stream().anyMatch(l -> l.startsWith("DOCKER_RESULT_LIMIT_BYTES='10'") && l.contains("at least")), p.toString());
        assertTrue(p.stream().anyMatch(l -> l.startsWith("DOCKER_WORKSPACE_LIMIT='lots'")), p.toString());
        assertTrue(p.stream().anyMatch(l -> l.startsWith("DOCKER_MIN_FREE_DISK='150%'") && l.contains("percentage")), p.toString());
        assertTrue(p.stream().anyMatch(l -> l.startsWith("DOCKER_RUNTIME='run sc'")), p.toString());
        assertTrue(p.stream().anyMatch(l -> l.startsWith("DOCKER_CLONE_NETWORK_MODE='a b'")), p.toString());
    }

    @Test
    void shouldReadTheLogFormatTextByDefaultJsonOnRequestAndTheFlagWins() {
        assertEquals(dev.aireview.runner.observability.LogFormat.TEXT, ok(required(), Map.of()).logFormat());
        Map<String, String> env = required();
        env.put("RUNNER_LOG_FORMAT", "JSON");
        assertEquals(dev.aireview.runner.observability.LogFormat.JSON, ok(env, Map.of()).logFormat());
        assertEquals(dev.aireview.runner.observability.LogFormat.TEXT, ok(env, Map.of("RUNNER_LOG_FORMAT", "text")).logFormat());
        assertEquals("json", ConfigLoader.describe(ok(env, Map.of())).get("RUNNER_LOG_FORMAT"));
    }

    @Test
    void shouldSelectTheExecutorAndReadTheKubernetesOptions() {
        RunnerConfig docker = ok(required(), Map.of());
        assertEquals(ExecutorKind.DOCKER, docker.executor());
        assertEquals(null, docker.kubernetes().namespace());
        assertEquals(300, docker.kubernetes().pendingTimeout().toSeconds());
        assertEquals(5, docker.kubernetes().apiQps());
        assertEquals(10, docker.kubernetes().apiBurst());
        Map<String, String> env = required();
        env.put("RUNNER_EXECUTOR", " Kubernetes ");
        env.put("KUBERNETES_NAMESPACE", "ai-review-tasks");
        env.put("KUBERNETES_PENDING_TIMEOUT_SECONDS", "60");
        env.put("KUBERNETES_API_QPS", "20");
        RunnerConfig k = ok(env, Map.of("KUBERNETES_API_BURST", "40"));
        assertEquals(ExecutorKind.KUBERNETES, k.executor());
        assertEquals("ai-review-tasks", k.kubernetes().namespace());
        assertEquals(60, k.kubernetes().pendingTimeout().toSeconds());
        assertEquals(20, k.kubernetes().apiQps());
        assertEquals(40, k.kubernetes().apiBurst(), "the flag");
        assertEquals("20", ConfigLoader.describe(k).get("KUBERNETES_API_QPS"));
        assertEquals("kubernetes", ConfigLoader.describe(k).get("RUNNER_EXECUTOR"));
        env.put("RUNNER_EXECUTOR", "podman");
        env.put("KUBERNETES_NAMESPACE", "Bad_NS");
        env.put("KUBERNETES_PENDING_TIMEOUT_SECONDS", "0");
        env.put("KUBERNETES_API_QPS", "0");
        env.put("KUBERNETES_API_BURST", "5000");
        List<String> p = problems(env);
        assertEquals(5, p.size(), p.toString());
        assertTrue(p.stream().anyMatch(l -> l.startsWith("KUBERNETES_API_QPS='0'")), p.toString());
        assertTrue(p.stream().anyMatch(l -> l.startsWith("KUBERNETES_API_BURST='5000'")), p.toString());
        assertTrue(p.stream().anyMatch(l -> l.startsWith("RUNNER_EXECUTOR='podman': use docker or kubernetes")), p.toString());
        assertTrue(p.stream().anyMatch(l -> l.startsWith("KUBERNETES_NAMESPACE='Bad_NS'")), p.toString());
        assertTrue(p.stream().anyMatch(l -> l.startsWith("KUBERNETES_PENDING_TIMEOUT_SECONDS")), p.toString());
    }

    @Test
    void shouldRefuseCredentialsInTheServerUrlWithoutQuotingThemEvenWhenTheUrlDoesNotParse() {
        for (String url : List.of("http://u:pw0rd-1@host:3000", "https://ci:Pa55@w0rd!@git_host.internal:3000", "http://u:pw0rd-1@")) {
            Map<String, String> env = required();
            env.put("RUNNER_SERVER_URL", url);
            List<String> p = problems(env);
            assertEquals(1, p.size(), p.toString());
            assertTrue(p.get(0).startsWith("RUNNER_SERVER_URL: must not carry credentials"), p.toString());
            assertFalse(p.get(0).contains("pw0rd") || p.get(0).contains("w0rd!"), p.toString());
        }
    }

    @Test
    void shouldDocumentEveryOptionInConfigurationMd() throws Exception {
        String doc = java.nio.file.Files.readString(Path.of("docs/configuration.md"));
        for (ConfigOption o : ConfigOption.values()) {
            assertTrue(doc.contains("`" + o.env() + "`"), o.env());
            assertTrue(doc.contains("`" + o.flag() + "`"), o.flag());
        }
        assertEquals(40, ConfigOption.values().length);
    }
}
