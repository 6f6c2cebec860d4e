package dev.aireview.runner.demo;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.CreateContainerCmd;
import com.github.dockerjava.api.command.WaitContainerResultCallback;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.AccessMode;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.Volume;
import com.github.dockerjava.api.async.ResultCallback;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The demo's own helper containers, run from the executor image (it has git): one that builds the sample
 * repository, one that serves it with {@code git daemon} on 127.0.0.1. They carry {@code ai-review.demo=true}
 * (not the runner's labels) and are removed by the demo.
 */
final class DemoDocker {
    static final Map<String, String> LABELS = Map.of("ai-review.demo", "true");

    private final DockerClient docker;
    private final String image;
    private final String user;

    DemoDocker(DockerClient docker, String image, String user) {
        this.docker = docker;
        this.image = image;
        this.user = user;
    }

    /** Builds the sample repository under {@code gitDir/sample}; returns {base SHA, head SHA}. */
    String[] createSampleRepository(Path gitDir, Path seedDir) throws IOException, InterruptedException {
        String script = String.join("\n",
                "set -eu",
                "cd /srv/git && mkdir sample && cd sample",
                "git init -q -b " + SampleChange.BASE_BRANCH,
                "git config user.email demo@ai-review.invalid && git config user.name 'AI Review demo'",
                "cp -R /seed/base/. . && git add -A && git commit -q -m 'Shop service'",
                "git checkout -q -b " + SampleChange.BRANCH,
                "cp -R /seed/change/. . && git add -A && git commit -q -m 'Cart: discount codes and checkout logging'",
                "git rev-parse " + SampleChange.BASE_BRANCH + " > /srv/git/base.sha",
                "git rev-parse HEAD > /srv/git/head.sha");
        String id = create(docker.createContainerCmd(image)
                .withEntrypoint("sh", "-c", script)
                .withHostConfig(HostConfig.newHostConfig().withNetworkMode("none").withBinds(
                        new Bind(gitDir.toString(), new Volume("/srv/git")),
                        new Bind(seedDir.toString(), new Volume("/seed"), AccessMode.ro))));
        try {
            docker.startContainerCmd(id).exec();
            int code = docker.waitContainerCmd(id).exec(new WaitContainerResultCallback())
                    .awaitStatusCode(60, TimeUnit.SECONDS);
            if (code != 0) {
                throw new IOException("creating the sample repository failed (exit " + code + "): " + logs(id));
            }
        } finally {
            remove(id);
        }
        return new String[]{Files.readString(gitDir.resolve("base.sha")).trim(), Files.readString(gitDir.resolve("head.sha")).trim()};
    }

    /** Starts {@code git daemon} on 127.0.0.1:{@code port} (host network) serving {@code gitDir}; returns the container id. */
    String startGitDaemon(Path gitDir, int port) throws IOException, InterruptedException {
        String id = create(docker.createContainerCmd(image)
                .withEntrypoint("git", "daemon", "--reuseaddr", "--export-all", "--informative-errors",
                        "--base-path=/srv/git", "--listen=127.0.0.1", "--port=" + port, "/srv/git")
                .withHostConfig(HostConfig.newHostConfig().withNetworkMode("host")
                        .withBinds(new Bind(gitDir.toString(), new Volume("/srv/git"), AccessMode.ro))));
        try {
            docker.startContainerCmd(id).exec();
            Instant deadline = Instant.now().plusSeconds(20);
            while (!accepts(port)) {
                if (Instant.now().isAfter(deadline)) {
                    throw new IOException("git daemon did not start on 127.0.0.1:" + port + ": " + logs(id));
                }
                Thread.sleep(50);
            }
            return id;
        } catch (IOException | InterruptedException | RuntimeException e) {
            remove(id);
            throw e;
        }
    }

    void remove(String containerId) {
        try {
            docker.removeContainerCmd(containerId).withForce(true).withRemoveVolumes(true).exec();
        } catch (NotFoundException ignored) {
            // already gone
        }
    }

    private String create(CreateContainerCmd cmd) {
        return cmd.withUser(user)
                .withEnv(List.of("HOME=/tmp", "GIT_CONFIG_NOSYSTEM=1"))
                .withLabels(LABELS)
                .exec().getId();
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private String logs(String id) throws InterruptedException {
        StringBuilder out = new StringBuilder();
        docker.logContainerCmd(id).withStdOut(true).withStdErr(true).withTail(20)
                .exec(new ResultCallback.Adapter<Frame>() {
                    @Override
                    public void onNext(Frame frame) {
                        out.append(new String(frame.getPayload(), StandardCharsets.UTF_8));
                    }
                }).awaitCompletion(Duration.ofSeconds(5).toMillis(), TimeUnit.MILLISECONDS);
        return out.toString().trim();
    }
}
