package dev.aireview.runner.kubernetes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import dev.aireview.runner.config.ConfigOption;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** deploy/helm/ai-review-runner rendered and linted by Helm itself (helm-java), manifests parsed into fabric8's model. */
class HelmChartTest {
    static final Path CHART = Path.of("deploy/helm/ai-review-runner");
    private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

    /** {@code helm template} of the chart with {@code --set} values, in namespace ai-review. */
    static String render(Map<String, Object> sets) {
        TemplateCommand t = new Helm(CHART).template().withName("air").withNamespace("ai-review");
        sets.forEach(t::set);
        return t.call();
    }

    static List<HasMetadata> parse(String manifests) {
        List<HasMetadata> out = new ArrayList<>();
        for (String doc : manifests.split("(?m)^---\\s*$")) {
            if (doc.lines().allMatch(l -> l.isBlank() || l.stripLeading().startsWith("#"))) {
                continue;
            }
            KubernetesResource r = SERIALIZATION.unmarshal(doc);
            assertTrue(r instanceof HasMetadata, "not a Kubernetes object: " + doc);
            HasMetadata o = (HasMetadata) r;
            Map<?, ?> unknown = additionalProperties(o);
            assertTrue(unknown == null || unknown.isEmpty(), "unknown top-level fields in " + o.getKind() + ": " + unknown);
            out.add(o);
        }
        return out;
    }

    /** Fields the model class did not know (fabric8 keeps them aside instead of failing). */
    private static Map<?, ?> additionalProperties(Object o) {
        try {
            return (Map<?, ?>) o.getClass().getMethod("getAdditionalProperties").invoke(o);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(o.getClass() + " has no additional properties", e);
        }
    }

    static <T extends HasMetadata> List<T> all(List<HasMetadata> objects, Class<T> type) {
        return objects.stream().filter(type::isInstance).map(type::cast).toList();
    }

    /** The verbs per resource the chart's Role grants. */
    static Map<String, Set<String>> roleRules(String manifests) {
        List<Role> roles = all(parse(manifests), Role.class);
        assertEquals(1, roles.size());
        Map<String, Set<String>> m = new TreeMap<>();
        for (PolicyRule rule : roles.get(0).getRules()) {
            boolean lease = rule.getResources().equals(List.of("leases"));
            assertEquals(List.of(lease ? "coordination.k8s.io" : ""), rule.getApiGroups(), "core group, leases in coordination");
            for (String res : rule.getResources()) {
                m.computeIfAbsent(res, k -> new TreeSet<>()).addAll(rule.getVerbs());
            }
        }
        return m;
    }

    static Container runner(List<HasMetadata> objects) {
        List<StatefulSet> sets = all(objects, StatefulSet.class);
        assertEquals(1, sets.size());
        return sets.get(0).getSpec().getTemplate().getSpec().getContainers().get(0);
    }

    static Map<String, EnvVar> env(Container c) {
        return c.getEnv().stream().collect(Collectors.toMap(EnvVar::getName, e -> e, (a, b) -> {
            throw new AssertionError("duplicate variable " + a.getName());
        }, TreeMap::new));
    }

    @Test
    void chartLintsClean() {
        LintResult lint = new Helm(CHART).lint().strict().call();
        assertFalse(lint.isFailed(), String.join("\n", lint.getMessages()));
    }

    @Test
    void defaultsRenderAFleetWithTheKubernetesExecutor() {
        List<HasMetadata> objects = parse(render(Map.of()));
        Set<String> kinds = objects.stream().map(HasMetadata::getKind).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(new TreeSet<>(List.of("LimitRange", "NetworkPolicy", "PodDisruptionBudget", "ResourceQuota", "Role",
                "RoleBinding", "Service", "ServiceAccount", "StatefulSet")), kinds);
        Map<String, EnvVar> env = env(runner(objects));
        assertEquals("kubernetes", env.get("RUNNER_EXECUTOR").getValue());
        assertEquals("ai-review", env.get("KUBERNETES_NAMESPACE").getValue());
    }

    @Test
    void everyReplicaIsNamedByItsPodAndTheTokenComesFromASecret() {
        List<HasMetadata> objects = parse(render(Map.of("replicaCount", 3)));
        StatefulSet set = all(objects, StatefulSet.class).get(0);
        assertEquals(3, set.getSpec().getReplicas());
        Map<String, EnvVar> env = env(runner(objects));
        assertEquals("metadata.name", env.get("RUNNER_NAME").getValueFrom().getFieldRef().getFieldPath());
        assertNull(env.get("RUNNER_TOKEN").getValue(), "no token value in the manifest");
        assertEquals("ai-review-runner-token", env.get("RUNNER_TOKEN").getValueFrom().getSecretKeyRef().getName());
    }

    @Test
    void everyVariableTheChartSetsIsARunnerOption() throws Exception {
        Set<String> options = Arrays.stream(ConfigOption.values()).map(ConfigOption::env).collect(Collectors.toSet());
        for (String mode : List.of("kubernetes", "docker")) {
            for (String name : env(runner(parse(render(Map.of("executor", mode))))).keySet()) {
                assertTrue(options.contains(name), mode + ": " + name + " is not a runner option");
            }
        }
        JsonNode values = new ObjectMapper(new YAMLFactory()).readTree(CHART.resolve("values.yaml").toFile());
        values.get("env").fieldNames().forEachRemaining(n -> assertTrue(options.contains(n), "values.yaml env." + n));
    }

    @Test
    void theRoleGrantsExactlyWhatTheExecutorCalls() {
        Map<String, Set<String>> rules = roleRules(render(Map.of()));
        Map<String, Set<String>> expected = new TreeMap<>();
        KubernetesTaskExecutor.RBAC.forEach((r, v) -> expected.put(r, new TreeSet<>(v)));
        assertEquals(expected, rules);
        rules.forEach((r, verbs) -> assertFalse(r.contains("*") || verbs.contains("*") || r.endsWith("/exec")
                || r.endsWith("/attach") || verbs.contains("deletecollection"), r + " " + verbs));
    }

    @Test
    void drainIsNeverCutShortBySigkill() {
        List<HasMetadata> objects = parse(render(Map.of()));
        StatefulSet set = all(objects, StatefulSet.class).get(0);
        long graceMs = Long.parseLong(env(runner(objects)).get("RUNNER_SHUTDOWN_GRACE_MS").getValue());
        assertTrue(set.getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds() * 1000 >= graceMs);
        Container c = runner(objects);
        assertEquals("/health", c.getReadinessProbe().getHttpGet().getPath());
        assertEquals("/health", c.getLivenessProbe().getHttpGet().getPath());
        assertEquals(Boolean.FALSE, c.getSecurityContext().getAllowPrivilegeEscalation());
    }

    @Test
    void taskPodsMayReachNoClusterOrMetadataAddress() {
        List<NetworkPolicy> policies = all(parse(render(Map.of())), NetworkPolicy.class);
        assertEquals(1, policies.size());
        NetworkPolicy p = policies.get(0);
        assertEquals("true", p.getSpec().getPodSelector().getMatchLabels().get(PodSpecs.LABEL_MANAGED));
        assertTrue(p.getSpec().getIngress().isEmpty(), "no ingress");
        var blocks = p.getSpec().getEgress().stream().flatMap(e -> e.getTo().stream()).filter(t -> t.getIpBlock() != null).toList();
        assertFalse(blocks.isEmpty());
        for (var b : blocks) {
            assertTrue(b.getIpBlock().getExcept().containsAll(List.of("169.254.0.0/16", "10.0.0.0/8")), b.toString());
        }
    }

    @Test
    void aNamespaceOfItsOwnEnforcesPodSecurityRestricted() {
        List<HasMetadata> objects = parse(render(Map.of("tasks.namespace", "ai-review-tasks", "tasks.createNamespace", true)));
        Namespace ns = all(objects, Namespace.class).get(0);
        assertEquals("ai-review-tasks", ns.getMetadata().getName());
        assertEquals("restricted", ns.getMetadata().getLabels().get("pod-security.kubernetes.io/enforce"));
        assertEquals("ai-review-tasks", all(objects, Role.class).get(0).getMetadata().getNamespace());
    }

    @Test
    void dockerModeDrivesTheNodesEngineAndHasNoRole() {
        List<HasMetadata> objects = parse(render(Map.of("executor", "docker")));
        assertTrue(all(objects, Role.class).isEmpty());
        assertTrue(all(objects, NetworkPolicy.class).isEmpty());
        Map<String, EnvVar> env = env(runner(objects));
        assertEquals("docker", env.get("RUNNER_EXECUTOR").getValue());
        assertEquals("unix:///var/run/docker.sock", env.get("DOCKER_HOST").getValue());
        StatefulSet set = all(objects, StatefulSet.class).get(0);
        assertNotNull(set.getSpec().getTemplate().getSpec().getVolumes().stream()
                .filter(v -> v.getHostPath() != null && "Socket".equals(v.getHostPath().getType())).findFirst().orElse(null));
    }

    @Test
    void aMissingServerUrlOrUnknownExecutorFailsTheRender() {
        assertThrows(RuntimeException.class, () -> render(Map.of("server.url", "")));
        assertThrows(RuntimeException.class, () -> render(Map.of("executor", "podman")));
    }
}
