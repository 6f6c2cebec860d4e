package dev.aireview.runner.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import dev.aireview.runner.model.Json;

/** What the runner sent to a WireMock server, read back. */
public final class Requests {
    private Requests() {
    }

    /** The JSON body of a request the runner sent. */
    public static JsonNode body(LoggedRequest r) {
        try {
            return Json.mapper().readTree(r.getBodyAsString());
        } catch (Exception e) {
            throw new AssertionError("request body is not JSON: " + r.getBodyAsString(), e);
        }
    }
}
