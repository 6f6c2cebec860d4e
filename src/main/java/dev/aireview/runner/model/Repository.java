package dev.aireview.runner.model;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Where the code to review lives. {@code cloneToken} is a secret: never logged, never written to a workspace. */
public record Repository(
        @JsonProperty("url") String url,
        @JsonProperty("fullName") String fullName,
        @JsonProperty("cloneToken") String cloneToken) {

    public Repository withoutToken() {
        return new Repository(url, fullName, null);
    }

    @Override
    public String toString() {
        return "Repository[url=" + url + ", fullName=" + fullName + ", cloneToken=" + (cloneToken == null ? "none" : "****") + "]";
    }
}
