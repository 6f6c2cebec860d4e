package dev.aireview.runner.config;

import dev.aireview.runner.observability.LogFormat;

import java.math.BigDecimal;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Builds a {@link RunnerConfig} from environment variables and flag values. A pure function: no I/O, no
 * process environment, so it is tested with plain maps. Flag values win over variables; blank values
 * count as unset. Every problem is collected, one line each naming the variable and the bad value
 * (the token's value is never repeated).
 */
public final class ConfigLoader {

    /** Smallest poll timeout: below it the server could not hold a long poll at all. */
    public static final long MIN_POLL_TIMEOUT_MS = 1_000;
    /** Docker refuses containers with less memory than this. */
    public static final long MIN_MEMORY_BYTES = 6L * 1024 * 1024;
    public static final long MIN_LOG_LIMIT_BYTES = 1024;
    public static final int MAX_CONCURRENT_JOBS_LIMIT = 256;
    public static final long MIN_RESULT_LIMIT_BYTES = 1024;
    public static final long MIN_WORKSPACE_LIMIT_BYTES = 1024 * 1024;

    private static final Pattern SIZE = Pattern.compile("(?i)^\\s*(\\d+(?:\\.\\d+)?)\\s*([kmgt]?)(i?b)?\\s*$");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");
    private static final Pattern USER = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?");
    private static final Pattern RUNTIME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    private static final Pattern IMAGE = Pattern.compile("[^\\s]+");
    private static final Pattern NAMESPACE = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

    /** Either a config or the list of problems. */
    public record Result(RunnerConfig config, List<String> problems) {
        public Result {
            problems = List.copyOf(problems);
        }

        public boolean ok() {
            return problems.isEmpty() && config != null;
        }
    }

    private final Map<String, String> env;
    private final Map<String, String> flags;
    private final List<String> problems = new ArrayList<>();

    private ConfigLoader(Map<String, String> env, Map<String, String> flags) {
        this.env = env == null ? Map.of() : env;
        this.flags = flags == null ? Map.of() : flags;
    }

    /**
     * @param env   environment variables (e.g. {@code System.getenv()})
     * @param flags flag values keyed by the option's environment variable name ({@link ConfigOption#env()})
     */
    public static Result load(Map<String, String> env, Map<String, String> flags) {
        return new ConfigLoader(env, flags).build();
    }

    private Result build() {
        URI serverUrl = serverUrl();
        String token = raw(ConfigOption.TOKEN);
        if (token == null) {
            missing(ConfigOption.TOKEN);
        } else if (token.chars().anyMatch(Character::isWhitespace)) {
            problems.add(ConfigOption.TOKEN.env() + ": must not contain whitespace (value not shown)");
        }
        String name = raw(ConfigOption.NAME);
        if (name == null) {
            missing(ConfigOption.NAME);
        } else if (!NAME.matcher(name).matches()) {
            bad(ConfigOption.NAME, name, "use letters, digits, '.', '_' or '-' (max 63, starting with a letter or digit)");
        }
        String runnerId = raw(ConfigOption.RUNNER_ID);
        if (runnerId != null && (runnerId.length() > 200 || runnerId.chars().anyMatch(c -> c < 0x21 || c > 0x7e))) {
            bad(ConfigOption.RUNNER_ID, runnerId, "must be printable ASCII without spaces (max 200)");
        }
        if (runnerId == null) {
            runnerId = name;
        }
        List<String> tags = tags();
        int maxJobs = (int) integer(ConfigOption.MAX_CONCURRENT_JOBS, 1, MAX_CONCURRENT_JOBS_LIMIT);
        int cloneDepth = (int) integer(ConfigOption.CLONE_DEPTH, 1, Integer.MAX_VALUE);
        long pollInterval = integer(ConfigOption.POLL_INTERVAL_MS, 1, Long.MAX_VALUE);
        long pollTimeout = integer(ConfigOption.POLL_TIMEOUT_MS, 1, Long.MAX_VALUE);
        if (pollTimeout > 0 && pollTimeout < MIN_POLL_TIMEOUT_MS) {
            problems.add(ConfigOption.POLL_TIMEOUT_MS.env() + "='" + value(ConfigOption.POLL_TIMEOUT_MS)
                    + "': shorter than the long poll needs (at least " + MIN_POLL_TIMEOUT_MS + " ms)");
        }
        long heartbeat = integer(ConfigOption.HEARTBEAT_INTERVAL_MS, 1, Long.MAX_VALUE);
        long requestTimeout = integer(ConfigOption.REQUEST_TIMEOUT_MS, 1, Long.MAX_VALUE);
        long shutdownGrace = integer(ConfigOption.SHUTDOWN_GRACE_MS, 0, Long.MAX_VALUE);
        long logLimit = size(ConfigOption.LOG_LIMIT_BYTES, MIN_LOG_LIMIT_BYTES);
        String dockerHost = dockerHost();
        String image = raw(ConfigOption.EXECUTOR_IMAGE);
        if (image == null) {
            missing(ConfigOption.EXECUTOR_IMAGE);
        } else if (!IMAGE.matcher(image).matches()) {
            bad(ConfigOption.EXECUTOR_IMAGE, image, "an image reference has no whitespace");
        }
        PullPolicy pullPolicy = pullPolicy();
        long memory = size(ConfigOption.MEMORY_LIMIT, MIN_MEMORY_BYTES);
        double cpus = cpus();
        String network = value(ConfigOption.NETWORK_MODE);
        if (network.chars().anyMatch(Character::isWhitespace)) {
            bad(ConfigOption.NETWORK_MODE, network, "a network mode has no whitespace");
        }
        Path workspace = workspace();
        long timeout = integer(ConfigOption.TIMEOUT_SECONDS, 1, Long.MAX_VALUE / 1000);
        int poolSize = (int) integer(ConfigOption.POOL_SIZE, 0, 1024);
        long pids = integer(ConfigOption.PIDS_LIMIT, 1, Long.MAX_VALUE);
        String user = user();
        long stopGrace = integer(ConfigOption.STOP_GRACE_SECONDS, 0, 3600);
        String[] health = health();
        long resultLimit = size(ConfigOption.RESULT_LIMIT_BYTES, MIN_RESULT_LIMIT_BYTES);
        long workspaceLimit = size(ConfigOption.WORKSPACE_LIMIT, MIN_WORKSPACE_LIMIT_BYTES);
        FreeDiskThreshold minFree = FreeDiskThreshold.parse(value(ConfigOption.MIN_FREE_DISK));
        if (minFree == null) {
            bad(ConfigOption.MIN_FREE_DISK, value(ConfigOption.MIN_FREE_DISK), "use a size (e.g. 5g) or a percentage below 100 (e.g. 10%); 0 = off");
        }
        String runtime = raw(ConfigOption.RUNTIME);
        if (runtime != null && !RUNTIME.matcher(runtime).matches()) {
            bad(ConfigOption.RUNTIME, runtime, "a runtime name as docker info lists it (letters, digits, '.', '_', '-')");
        }
        String cloneNetwork = raw(ConfigOption.CLONE_NETWORK_MODE);
        if (cloneNetwork != null && cloneNetwork.chars().anyMatch(Character::isWhitespace)) {
            bad(ConfigOption.CLONE_NETWORK_MODE, cloneNetwork, "a network mode has no whitespace");
        }
        long repoCacheLimit = size(ConfigOption.REPO_CACHE_LIMIT, 0);
        String repoCacheGit = value(ConfigOption.REPO_CACHE_GIT).toLowerCase(java.util.Locale.ROOT);
        if (!java.util.Set.of("auto", "host", "container").contains(repoCacheGit)) {
            bad(ConfigOption.REPO_CACHE_GIT, repoCacheGit, "auto, host or container");
        }
        String gitImage = value(ConfigOption.GIT_IMAGE);
        if (gitImage.chars().anyMatch(ch -> Character.isWhitespace(ch) || Character.isISOControl(ch))) {
            bad(ConfigOption.GIT_IMAGE, gitImage, "an image reference has no whitespace");
        }
        LogFormat logFormat = logFormat();
        ExecutorKind executor = executorKind();
        String namespace = raw(ConfigOption.KUBERNETES_NAMESPACE);
        if (namespace != null && !NAMESPACE.matcher(namespace).matches()) {
            bad(ConfigOption.KUBERNETES_NAMESPACE, namespace, "a namespace name: lower-case letters, digits and '-' (max 63, starting and ending with a letter or digit)");
        }
        long pendingTimeout = integer(ConfigOption.KUBERNETES_PENDING_TIMEOUT_SECONDS, 1, 86_400);
        long apiQps = integer(ConfigOption.KUBERNETES_API_QPS, 1, 1000);
        long apiBurst = integer(ConfigOption.KUBERNETES_API_BURST, 1, 1000);

        if (!problems.isEmpty()) {
            return new Result(null, problems);
        }
        DockerConfig docker = new DockerConfig(dockerHost, image, pullPolicy, memory, cpus, network, workspace,
                Duration.ofSeconds(timeout), poolSize, cloneDepth, pids, user, Duration.ofSeconds(stopGrace), name,
                resultLimit, workspaceLimit, minFree, runtime, cloneNetwork, repoCacheLimit, repoCacheGit, gitImage);
        RunnerConfig config = new RunnerConfig(serverUrl, token, name, runnerId, tags, maxJobs,
                Duration.ofMillis(pollInterval), Duration.ofMillis(pollTimeout), Duration.ofMillis(heartbeat),
                Duration.ofMillis(requestTimeout), Duration.ofMillis(shutdownGrace), logLimit, docker,
                health[0], Integer.parseInt(health[1]), logFormat, executor,
                new KubernetesConfig(namespace, Duration.ofSeconds(pendingTimeout), (int) apiQps, (int) apiBurst));
        return new Result(config, List.of());
    }

    /** RUNNER_HEALTH_PORT ({@link HealthAddress}); returns {address, port}. */
    private String[] health() {
        String v = value(ConfigOption.HEALTH_PORT);
        try {
            HealthAddress a = HealthAddress.parse(v);
            return new String[]{a.address(), Integer.toString(a.port())};
        } catch (HealthAddress.InvalidException e) {
            bad(ConfigOption.HEALTH_PORT, v, e.getMessage());
            return new String[]{HealthAddress.DEFAULT_BIND, "0"};
        }
    }

    private ExecutorKind executorKind() {
        String v = value(ConfigOption.EXECUTOR);
        try {
            return ExecutorKind.parse(v);
        } catch (IllegalArgumentException e) {
            bad(ConfigOption.EXECUTOR, v, e.getMessage());
            return null;
        }
    }

    private LogFormat logFormat() {
        String v = value(ConfigOption.LOG_FORMAT);
        try {
            return LogFormat.parse(v);
        } catch (IllegalArgumentException e) {
            bad(ConfigOption.LOG_FORMAT, v, e.getMessage());
            return null;
        }
    }

    /** The effective text of an option: flag, else variable, else default; blank counts as unset. */
    private String value(ConfigOption option) {
        String v = raw(option);
        return v != null ? v : option.defaultValue();
    }

    private String raw(ConfigOption option) {
        String v = flags.get(option.env());
        if (v == null || v.isBlank()) {
            v = env.get(option.env());
        }
        return v == null || v.isBlank() ? null : v.trim();
    }

    private void missing(ConfigOption option) {
        problems.add(option.env() + ": required but not set (variable " + option.env() + " or flag " + option.flag() + ")");
    }

    private void bad(ConfigOption option, String value, String why) {
        problems.add(option.env() + "='" + abbreviate(value) + "': " + why);
    }

    private URI serverUrl() {
        String v = raw(ConfigOption.SERVER_URL);
        if (v == null) {
            missing(ConfigOption.SERVER_URL);
            return null;
        }
        // quoted in messages without any user-info: a URL the parser rejects may still carry credentials
        String shown = dev.aireview.runner.model.RepositoryUrl.redact(v);
        if (!shown.equals(v)) {
            problems.add(ConfigOption.SERVER_URL.env() + ": must not carry credentials in the URL (value not shown)");
            return null;
        }
        try {
            URI uri = new URI(v);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https")) {
                bad(ConfigOption.SERVER_URL, v, "not an http(s) URL");
                return null;
            }
            if (uri.getHost() == null || uri.getHost().isBlank()) {
                bad(ConfigOption.SERVER_URL, v, "URL has no host");
                return null;
            }
            if (uri.getRawUserInfo() != null) {
                problems.add(ConfigOption.SERVER_URL.env() + ": must not carry credentials in the URL (value not shown)");
                return null;
            }
            if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
                bad(ConfigOption.SERVER_URL, v, "URL must not have a query or fragment");
                return null;
            }
            String s = uri.toString();
            while (s.endsWith("/")) {
                s = s.substring(0, s.length() - 1);
            }
            return URI.create(s);
        } catch (URISyntaxException e) {
            bad(ConfigOption.SERVER_URL, v, "malformed URL (" + e.getReason() + ")");
            return null;
        }
    }

    private List<String> tags() {
        String v = raw(ConfigOption.TAGS);
        if (v == null) {
            return List.of();
        }
        List<String> tags = new ArrayList<>();
        for (String t : v.split(",")) {
            String tag = t.trim();
            if (tag.isEmpty()) {
                continue;
            }
            if (tag.chars().anyMatch(c -> c < 0x21 || c > 0x7e)) {
                bad(ConfigOption.TAGS, v, "tag '" + abbreviate(tag) + "' must be printable ASCII without spaces");
            } else if (!tags.contains(tag)) {
                tags.add(tag);
            }
        }
        return tags;
    }

    private long integer(ConfigOption option, long min, long max) {
        String v = value(option);
        long n;
        try {
            n = Long.parseLong(v.replace("_", ""));
        } catch (NumberFormatException e) {
            bad(option, v, "not a whole number");
            return -1;
        }
        if (n < min) {
            bad(option, v, min == 1 ? "must be positive (> 0)" : "must be at least " + min);
            return -1;
        }
        if (n > max) {
            bad(option, v, "must be at most " + max);
            return -1;
        }
        return n;
    }

    private long size(ConfigOption option, long min) {
        String v = value(option);
        long bytes = parseSize(v);
        if (bytes < 0) {
            bad(option, v, "not a size (bytes, or a number with k, m, g or t, e.g. 512m, 1.5g)");
            return -1;
        }
        if (bytes < min) {
            bad(option, v, "must be at least " + min + " bytes");
            return -1;
        }
        return bytes;
    }

    /**
     * Parses a size: plain bytes or a (decimal) number with {@code k}, {@code m}, {@code g}, {@code t}
     * (binary multiples), optionally followed by {@code b} or {@code ib}, any case. Returns -1 when malformed.
     */
    public static long parseSize(String text) {
        if (text == null) {
            return -1;
        }
        Matcher m = SIZE.matcher(text);
        if (!m.matches()) {
            return -1;
        }
        String unit = m.group(2).toLowerCase(Locale.ROOT);
        if (unit.isEmpty() && m.group(3) != null && m.group(3).equalsIgnoreCase("ib")) {
            return -1;
        }
        int shift = switch (unit) {
            case "k" -> 10;
            case "m" -> 20;
            case "g" -> 30;
            case "t" -> 40;
            default -> 0;
        };
        try {
            BigDecimal bytes = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(2).pow(shift));
            if (bytes.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
                return -1;
            }
            return bytes.longValue();
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private double cpus() {
        String v = value(ConfigOption.CPU_LIMIT);
        double d;
        try {
            d = Double.parseDouble(v);
        } catch (NumberFormatException e) {
            bad(ConfigOption.CPU_LIMIT, v, "not a decimal number");
            return -1;
        }
        if (Double.isNaN(d) || Double.isInfinite(d) || d <= 0) {
            bad(ConfigOption.CPU_LIMIT, v, "must be positive (> 0)");
            return -1;
        }
        if (d > 1024) {
            bad(ConfigOption.CPU_LIMIT, v, "must be at most 1024");
            return -1;
        }
        return d;
    }

    private String dockerHost() {
        String v = value(ConfigOption.DOCKER_HOST);
        try {
            URI uri = new URI(v);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            switch (scheme) {
                case "unix", "npipe" -> {
                    if (uri.getPath() == null || uri.getPath().isBlank()) {
                        bad(ConfigOption.DOCKER_HOST, v, "socket path missing (e.g. unix:///var/run/docker.sock)");
                    }
                }
                case "tcp", "http", "https" -> {
                    if (uri.getHost() == null) {
                        bad(ConfigOption.DOCKER_HOST, v, "host missing (e.g. tcp://127.0.0.1:2375)");
                    }
                }
                default -> bad(ConfigOption.DOCKER_HOST, v, "use unix://, tcp://, http(s):// or npipe://");
            }
        } catch (URISyntaxException e) {
            bad(ConfigOption.DOCKER_HOST, v, "malformed address (" + e.getReason() + ")");
        }
        return v;
    }

    private PullPolicy pullPolicy() {
        String v = value(ConfigOption.PULL_POLICY);
        try {
            return PullPolicy.parse(v);
        } catch (IllegalArgumentException e) {
            bad(ConfigOption.PULL_POLICY, v, "use one of " + Arrays.stream(PullPolicy.values()).map(PullPolicy::wire).toList());
            return null;
        }
    }

    private Path workspace() {
        String v = value(ConfigOption.WORKSPACE_BASE);
        try {
            Path p = Path.of(v);
            if (!p.isAbsolute()) {
                bad(ConfigOption.WORKSPACE_BASE, v, "must be an absolute path");
                return null;
            }
            return p.normalize();
        } catch (InvalidPathException e) {
            bad(ConfigOption.WORKSPACE_BASE, v, "not a valid path");
            return null;
        }
    }

    private String user() {
        String v = value(ConfigOption.USER);
        if (!USER.matcher(v).matches()) {
            bad(ConfigOption.USER, v, "use user[:group], names or numeric ids");
            return null;
        }
        String u = v.contains(":") ? v.substring(0, v.indexOf(':')) : v;
        if (u.equals("root") || u.matches("0+")) {
            bad(ConfigOption.USER, v, "containers must not run as root");
            return null;
        }
        return v;
    }

    /** The effective value of every option, by variable name, for the start-up log; the token is masked. */
    public static java.util.LinkedHashMap<String, String> describe(RunnerConfig c) {
        java.util.LinkedHashMap<String, String> m = new java.util.LinkedHashMap<>();
        DockerConfig d = c.docker();
        m.put(ConfigOption.SERVER_URL.env(), String.valueOf(c.serverUrl()));
        m.put(ConfigOption.TOKEN.env(), c.token() == null ? "(none)" : "****");
        m.put(ConfigOption.NAME.env(), c.name());
        m.put(ConfigOption.RUNNER_ID.env(), c.runnerId());
        m.put(ConfigOption.TAGS.env(), String.join(",", c.tags()));
        m.put(ConfigOption.MAX_CONCURRENT_JOBS.env(), Integer.toString(c.maxConcurrentJobs()));
        m.put(ConfigOption.CLONE_DEPTH.env(), d == null ? "" : Integer.toString(d.cloneDepth()));
        m.put(ConfigOption.POLL_INTERVAL_MS.env(), Long.toString(c.pollInterval().toMillis()));
        m.put(ConfigOption.POLL_TIMEOUT_MS.env(), c.pollTimeout().toMillis() + " (server hold waitMs=" + c.pollWait().toMillis() + ")");
        m.put(ConfigOption.HEARTBEAT_INTERVAL_MS.env(), Long.toString(c.heartbeatInterval().toMillis()));
        m.put(ConfigOption.REQUEST_TIMEOUT_MS.env(), Long.toString(c.requestTimeout().toMillis()));
        m.put(ConfigOption.SHUTDOWN_GRACE_MS.env(), Long.toString(c.shutdownGrace().toMillis()));
        m.put(ConfigOption.LOG_LIMIT_BYTES.env(), Long.toString(c.logLimitBytes()));
        if (d != null) {
            m.put(ConfigOption.DOCKER_HOST.env(), d.host());
            m.put(ConfigOption.EXECUTOR_IMAGE.env(), d.executorImage());
            m.put(ConfigOption.PULL_POLICY.env(), d.pullPolicy() == null ? "" : d.pullPolicy().wire());
            m.put(ConfigOption.MEMORY_LIMIT.env(), Long.toString(d.memoryBytes()));
            m.put(ConfigOption.CPU_LIMIT.env(), Double.toString(d.cpus()));
            m.put(ConfigOption.NETWORK_MODE.env(), d.networkMode());
            m.put(ConfigOption.WORKSPACE_BASE.env(), String.valueOf(d.workspaceBase()));
            m.put(ConfigOption.TIMEOUT_SECONDS.env(), Long.toString(d.timeout().toSeconds()));
            m.put(ConfigOption.POOL_SIZE.env(), Integer.toString(d.poolSize()));
            m.put(ConfigOption.PIDS_LIMIT.env(), Long.toString(d.pidsLimit()));
            m.put(ConfigOption.USER.env(), d.user());
            m.put(ConfigOption.STOP_GRACE_SECONDS.env(), Long.toString(d.stopGrace().toSeconds()));
            m.put(ConfigOption.RESULT_LIMIT_BYTES.env(), Long.toString(d.resultLimitBytes()));
            m.put(ConfigOption.WORKSPACE_LIMIT.env(), Long.toString(d.workspaceLimitBytes()));
            m.put(ConfigOption.MIN_FREE_DISK.env(), String.valueOf(d.minFreeDisk()));
            m.put(ConfigOption.RUNTIME.env(), d.runtime() == null ? "(engine default)" : d.runtime());
            m.put(ConfigOption.CLONE_NETWORK_MODE.env(), d.cloneNetworkMode());
            m.put(ConfigOption.REPO_CACHE_LIMIT.env(), d.repoCacheLimitBytes() == 0 ? "0 (keeps nothing)" : Long.toString(d.repoCacheLimitBytes()));
            m.put(ConfigOption.REPO_CACHE_GIT.env(), d.repoCacheGit());
            m.put(ConfigOption.GIT_IMAGE.env(), d.gitImage());
        }
        m.put(ConfigOption.HEALTH_PORT.env(), c.healthEnabled() ? c.healthBind() + ":" + c.healthPort() : "0 (off)");
        m.put(ConfigOption.LOG_FORMAT.env(), c.logFormat().wire());
        m.put(ConfigOption.EXECUTOR.env(), c.executor().wire());
        if (c.executor() == ExecutorKind.KUBERNETES) {
            m.put(ConfigOption.KUBERNETES_NAMESPACE.env(), c.kubernetes().namespace() == null ? "(the client's namespace)" : c.kubernetes().namespace());
            m.put(ConfigOption.KUBERNETES_PENDING_TIMEOUT_SECONDS.env(), Long.toString(c.kubernetes().pendingTimeout().toSeconds()));
            m.put(ConfigOption.KUBERNETES_API_QPS.env(), Integer.toString(c.kubernetes().apiQps()));
            m.put(ConfigOption.KUBERNETES_API_BURST.env(), Integer.toString(c.kubernetes().apiBurst()));
        }
        return m;
    }

    private static String abbreviate(String s) {
        return s.length() > 120 ? s.substring(0, 120) + "…" : s;
    }
}
