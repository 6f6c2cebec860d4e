package dev.aireview.runner.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.NotFoundException;
import dev.aireview.runner.config.PullPolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/** Makes sure the executor image is there, following the pull policy; fails with a message naming DOCKER_EXECUTOR_IMAGE. */
final class ImageCheck {
    private static final Logger LOG = LoggerFactory.getLogger(ImageCheck.class);
    private static final long PULL_TIMEOUT_MINUTES = 15;

    private ImageCheck() {
    }

    static void ensure(DockerClient docker, String image, PullPolicy policy) {
        if (image == null || image.isBlank()) {
            throw new DockerExecutorException("DOCKER_EXECUTOR_IMAGE is empty");
        }
        boolean present = isPresent(docker, image);
        PullPolicy p = policy == null ? PullPolicy.IF_NOT_PRESENT : policy;
        if (p == PullPolicy.NEVER || (p == PullPolicy.IF_NOT_PRESENT && present)) {
            if (!present) {
                throw new DockerExecutorException("executor image DOCKER_EXECUTOR_IMAGE='" + image
                        + "' is not present on the Docker host and the pull policy is 'never'");
            }
            return;
        }
        try {
            LOG.info("pulling executor image {} (pull policy {})", image, p.wire());
            docker.pullImageCmd(image).start().awaitCompletion(PULL_TIMEOUT_MINUTES, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DockerExecutorException("interrupted while pulling DOCKER_EXECUTOR_IMAGE='" + image + "'", e);
        } catch (RuntimeException e) {
            if (present) {
                LOG.warn("pulling executor image {} failed ({}); using the local copy", image, e.getMessage());
                return;
            }
            throw new DockerExecutorException("executor image DOCKER_EXECUTOR_IMAGE='" + image
                    + "' is not present on the Docker host and pulling it failed: " + e.getMessage(), e);
        }
        if (!isPresent(docker, image)) {
            throw new DockerExecutorException("executor image DOCKER_EXECUTOR_IMAGE='" + image + "' is still missing after a pull");
        }
    }

    static boolean isPresent(DockerClient docker, String image) {
        try {
            docker.inspectImageCmd(image).exec();
            return true;
        } catch (NotFoundException e) {
            return false;
        }
    }
}
