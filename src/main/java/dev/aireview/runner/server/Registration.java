package dev.aireview.runner.server;

import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.List;

/**
 * What the runner says about itself on register: headers {@code x-runner-*} and the informational body.
 *
 * @param runnerId stable id sent as {@code x-runner-id}
 */
public record Registration(
        @JsonProperty("runnerId") String runnerId,
        @JsonProperty("name") String name,
        @JsonProperty("version") String version,
        @JsonProperty("maxConcurrentJobs") int maxConcurrentJobs,
        @JsonProperty("tags") List<String> tags,
        @JsonProperty("hostname") String hostname,
        @JsonProperty("os") String os,
        @JsonProperty("docker") DockerInfo docker,
        @JsonProperty("executorImage") String executorImage) {

    public Registration {
        tags = tags == null ? List.of() : List.copyOf(tags);
    }

    /** The same registration with the engine details the executor found at start-up. */
    public Registration withDocker(DockerInfo info) {
        return new Registration(runnerId, name, version, maxConcurrentJobs, tags, hostname, os, info, executorImage);
    }

    /** Docker engine details, when the executor knows them. */
    public record DockerInfo(@JsonProperty("version") String version, @JsonProperty("apiVersion") String apiVersion) {
    }
}
