package dev.aireview.runner.review;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.dockerjava.api.DockerClient;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.CreateContainerResponse;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.Image;
import com.github.dockerjava.api.model.Volume;
import dev.aireview.runner.docker.DockerTestSupport;
import dev.aireview.runner.docker.Workspaces;
import dev.aireview.runner.model.Json;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.testsupport.ExecutorImages;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Builds the executor image from the packaged jar ({@code JAR_FROM=prebuilt}; once per jar + Dockerfile content,
 * tagged with their hash) and runs it like the Docker executor does, with the hardening flags of
 * docs/executor-contract.md, on a fixture repository: pre-warmed (started before the task file exists) with no
 * network for the offline reviewer; cold, in host network mode, against WireMock as the AI provider.
 *
 * <p>The image is built with the {@code docker build} CLI because the Dockerfile needs BuildKit (cache mount,
 * skipped stages), which docker-java's build call does not speak; containers are run with docker-java.
 */
class ExecutorImageIT {

    private static final String LABEL = ExecutorImages.LABEL;
    private static DockerClient docker;
    private static String image;

    private Path workspace;
    private final List<String> containers = new ArrayList<>();

    @BeforeAll
    static void buildImage() throws Exception {
        docker = DockerTestSupport.docker();
        image = ExecutorImages.ensureBuilt(docker);
    }

    @AfterEach
    void cleanUp() throws IOException {
        for (String id : containers) {
            try {
                docker.removeContainerCmd(id).withForce(true).withRemoveVolumes(true).exec();
            } catch (RuntimeException ignored) {
                // already gone
            }
        }
        if (workspace != null) {
            deleteTree(workspace);
        }
        List<Container> left = docker.listContainersCmd().withShowAll(true).withLabelFilter(Map.of(LABEL, "true")).exec()
                .stream().filter(c -> containers.contains(c.getId())).toList();
        assertEquals(List.of(), left, "test containers left behind");
    }

    @Test
    void prewarmedHardenedContainerReviewsTheFixtureRepositoryOffline() throws Exception {
        workspace = Files.createTempDirectory("executor-ws");
        Files.setPosixFilePermissions(workspace, PosixFilePermissions.fromString("rwxrwxrwx"));
        FixtureRepo repo = FixtureRepo.create(workspace.resolve("repo"));

        String id = startHardened("none");

        // Pre-warmed: the container waits for its task.
        await().atMost(Duration.ofSeconds(120)).until(() -> logs(id).contains("waiting for /workspace/task.json"));
        ObjectNode task = Json.mapper().createObjectNode();
        task.put("id", "task_image_it");
        task.putObject("repository").put("url", "https://git.example/acme/shop.git").put("fullName", "acme/shop");
        task.put("baseSha", repo.baseSha).put("headSha", repo.headSha);
        task.putArray("rules").add("Flag missing error handling");
        Path tmp = workspace.resolve("task.json.tmp");
        Files.writeString(tmp, task.toString());
        Files.move(tmp, workspace.resolve("task.json"), StandardCopyOption.ATOMIC_MOVE);

        Integer exit = docker.waitContainerCmd(id).start().awaitStatusCode(60, TimeUnit.SECONDS);
        String logs = logs(id);
        assertEquals(0, exit, logs);
        assertTrue(logs.contains("[review] result written: completed, 5 comment(s)"), logs);
        assertTrue(logs.contains("[review] change: 4 file(s), +8 −2"), logs);

        TaskResult result = Json.mapper().readValue(workspace.resolve("result.json").toFile(), TaskResult.class);
        assertEquals(ResultStatus.COMPLETED, result.status());
        assertEquals(Set.of("src/Cart.java:4:warning", "src/cart.js:3:warning", "src/cart.js:4:info", "src/cart.js:6:error",
                "notes.txt:2:info"), ExecuteEndToEndTest.keys(result));
        assertEquals(4, result.stats().filesReviewed());
        assertTrue(result.summary().contains("| error | 1 |"), result.summary());
        assertTrue(!logs.contains("hunter2-Sup3rS3cret") && !Files.readString(workspace.resolve("result.json")).contains("hunter2-Sup3rS3cret"),
                "the planted secret is never echoed");
    }

    /** Starts the image as the Docker executor does: hardened, labelled, workspace bind-mounted at /workspace. */
    private String startHardened(String networkMode) {
        CreateContainerResponse created = docker.createContainerCmd(image)
                .withLabels(Map.of(LABEL, "true", "ai-review.managed", "true", "ai-review.task", "pool"))
                .withUser("10001:10001")
                .withEnv("AI_REVIEW_WORKSPACE=/workspace", "AI_REVIEW_TASK_FILE=/workspace/task.json",
                        "AI_REVIEW_REPO_DIR=/workspace/repo", "AI_REVIEW_RESULT_FILE=/workspace/result.json", "HOME=/tmp")
                .withHostConfig(HostConfig.newHostConfig()
                        .withReadonlyRootfs(true)
                        .withTmpFs(Map.of("/tmp", "rw,nosuid,nodev,size=64m"))
                        .withCapDrop(Capability.ALL)
                        .withSecurityOpts(List.of("no-new-privileges"))
                        .withInit(true)
                        .withNetworkMode(networkMode)
                        .withMemory(512L * 1024 * 1024)
                        .withMemorySwap(512L * 1024 * 1024)
                        .withPidsLimit(128L)
                        .withBinds(new Bind(workspace.toString(), new Volume("/workspace"))))
                .exec();
        String id = created.getId();
        containers.add(id);
        docker.startContainerCmd(id).exec();
        return id;
    }

    @Test
    void coldContainerReviewsWithAnAiProviderAndNeverPrintsTheKey() throws Exception {
        String key = "sk-image-it-4b7c1d9e2f";
        WireMockServer provider = new WireMockServer(WireMockConfiguration.options().dynamicPort().bindAddress("127.0.0.1"));
        provider.start();
        try {
            String answer = "{\"summary\":\"One leftover log.\",\"comments\":[{\"path\":\"src/cart.js\",\"line\":3,"
                    + "\"severity\":\"warning\",\"message\":\"Remove the console.log.\"}]}";
            ObjectNode completion = Json.mapper().createObjectNode();
            completion.putArray("choices").addObject().putObject("message").put("role", "assistant").put("content", answer);
            provider.stubFor(WireMock.post(WireMock.urlEqualTo("/v1/chat/completions"))
                    .withHeader("Authorization", WireMock.equalTo("Bearer " + key))
                    .willReturn(WireMock.okJson(completion.toString())));

            workspace = Files.createTempDirectory("executor-ws");
            Files.setPosixFilePermissions(workspace, PosixFilePermissions.fromString("rwxrwxrwx"));
            FixtureRepo repo = FixtureRepo.create(workspace.resolve("repo"));
            ObjectNode task = Json.mapper().createObjectNode();
            task.put("id", "task_image_ai");
            task.putObject("repository").put("url", "https://git.example/acme/shop.git").put("fullName", "acme/shop");
            task.put("baseSha", repo.baseSha).put("headSha", repo.headSha);
            task.putObject("ai").put("provider", "openai").put("baseUrl", "http://127.0.0.1:" + provider.port() + "/v1")
                    .put("model", "review-model").put("apiKey", key);
            // Cold start: the task is there before the container starts.
            Files.writeString(workspace.resolve("task.json"), task.toString());

            // The test server is on this machine's loopback: host network mode.
            String id = startHardened("host");
            Integer exit = docker.waitContainerCmd(id).start().awaitStatusCode(60, TimeUnit.SECONDS);
            String logs = logs(id);
            assertEquals(0, exit, logs);
            String resultJson = Files.readString(workspace.resolve("result.json"));
            TaskResult result = Json.mapper().readValue(resultJson, TaskResult.class);
            assertEquals(ResultStatus.COMPLETED, result.status(), resultJson);
            assertEquals(Set.of("src/cart.js:3:warning"), ExecuteEndToEndTest.keys(result));
            assertTrue(result.summary().contains("One leftover log."), result.summary());
            assertTrue(!logs.contains(key) && !resultJson.contains(key), "the AI key leaked:\n" + logs);
            provider.verify(1, WireMock.postRequestedFor(WireMock.urlEqualTo("/v1/chat/completions"))
                    .withRequestBody(WireMock.matchingJsonPath("$.response_format.type", WireMock.equalTo("json_schema"))));
        } finally {
            provider.stop();
        }
    }

    private static String logs(String id) throws InterruptedException {
        StringBuilder sb = new StringBuilder();
        docker.logContainerCmd(id).withStdOut(true).withStdErr(true).exec(new ResultCallback.Adapter<Frame>() {
            @Override
            public void onNext(Frame frame) {
                sb.append(new String(frame.getPayload(), StandardCharsets.UTF_8));
            }
        }).awaitCompletion(10, TimeUnit.SECONDS);
        return sb.toString();
    }

    private static void deleteTree(Path dir) throws IOException {
        Workspaces.deleteTree(dir);
    }
}
