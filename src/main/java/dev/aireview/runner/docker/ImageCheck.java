package dev.aireview.runner.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.PullImageResultCallback;
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
            QuietPull pull = docker.pullImageCmd(image).exec(new QuietPull());
            if (!pull.awaitCompletion(PULL_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                throw new DockerExecutorException("pull did not finish within " + PULL_TIMEOUT_MINUTES + " minutes");
            }
            if (pull.error != null) {
                throw pull.error instanceof RuntimeException re ? re : new DockerExecutorException(pull.error.getMessage(), pull.error);
            }
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

    /** Pull callback that keeps the error for the caller instead of logging a stack trace. */
    private static final class QuietPull extends PullImageResultCallback {
        private volatile Throwable error;

        @Override
        public void onError(Throwable throwable) {
            error = throwable;
            try {
                close();
            } catch (java.io.IOException ignored) {
                // closing the pull stream
            }
        }
    }

    /** The labels of {@code image} (empty when it has none or cannot be inspected). */
    static java.util.Map<String, String> labels(DockerClient docker, String image) {
        try {
            var config = docker.inspectImageCmd(image).exec().getConfig();
            java.util.Map<String, String> labels = config == null ? null : config.getLabels();
            return labels == null ? java.util.Map.of() : labels;
        } catch (RuntimeException e) {
            LOG.warn("cannot read the labels of executor image {} ({}): a full checkout for every task", image, e.getMessage());
            return java.util.Map.of();
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
