package dev.aireview.runner.review.ai;

import dev.aireview.runner.model.AiConfig;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where and how to call the provider. Every supported provider (OpenAI, Ollama, vLLM, LiteLLM, OpenRouter, any
 * OpenAI-compatible server) takes {@code POST <baseUrl>/chat/completions} with {@code Authorization: Bearer <key>},
 * except Azure OpenAI, which is chosen by {@code ai.provider} {@code azure} (or {@code azure-openai}) or by a
 * {@code baseUrl} on {@code *.openai.azure.com} or with {@code /openai/deployments/} in its path:
 * <ul>
 *   <li>{@code https://R.openai.azure.com} → {@code /openai/deployments/<ai.model>/chat/completions?api-version=V}
 *       (the model names the deployment);</li>
 *   <li>{@code https://R.openai.azure.com/openai/deployments/D} → {@code …/D/chat/completions?api-version=V};</li>
 *   <li>{@code https://R.openai.azure.com/openai/v1} (the v1 API) → {@code …/openai/v1/chat/completions}, no api-version;</li>
 *   <li>{@code V} is the baseUrl's own {@code ?api-version=} when given, else {@value #DEFAULT_AZURE_API_VERSION};</li>
 *   <li>the key goes in the {@code api-key} header.</li>
 * </ul>
 */
public record ProviderEndpoint(URI uri, boolean azure) {

    public static final String DEFAULT_BASE_URL = "https://api.openai.com/v1";
    public static final String DEFAULT_AZURE_API_VERSION = "2024-10-21";
    private static final Pattern API_VERSION = Pattern.compile("(?:^|&)api-version=([^&]+)");

    /** Throws {@link IllegalArgumentException} for a baseUrl that is not a URL. */
    public static ProviderEndpoint of(AiConfig config) {
        String base = config.baseUrl() == null ? DEFAULT_BASE_URL : config.baseUrl().strip();
        URI parsed = URI.create(base);
        String query = parsed.getRawQuery();
        String path = parsed.getRawPath() == null ? "" : parsed.getRawPath();
        while (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        if (path.endsWith("/chat/completions")) {
            path = path.substring(0, path.length() - "/chat/completions".length());
        }
        String provider = config.provider() == null ? "" : config.provider().strip().toLowerCase(Locale.ROOT);
        String host = parsed.getHost() == null ? "" : parsed.getHost().toLowerCase(Locale.ROOT);
        boolean azure = provider.equals("azure") || provider.equals("azure-openai") || provider.equals("azure_openai")
                || host.endsWith(".openai.azure.com") || path.contains("/openai/deployments/");
        String prefix = parsed.getScheme() + "://" + parsed.getRawAuthority();
        if (!azure) {
            return new ProviderEndpoint(URI.create(prefix + path + "/chat/completions" + (query == null ? "" : "?" + query)), false);
        }
        if (path.endsWith("/openai/v1")) {
            return new ProviderEndpoint(URI.create(prefix + path + "/chat/completions"), true);
        }
        String version = DEFAULT_AZURE_API_VERSION;
        if (query != null) {
            Matcher m = API_VERSION.matcher(query);
            if (m.find()) {
                version = m.group(1);
            }
        }
        if (!path.contains("/openai/deployments/")) {
            if (config.model() == null) {
                throw new IllegalArgumentException("Azure OpenAI needs ai.model (the deployment name) or a deployment URL");
            }
            path = path + "/openai/deployments/" + URLEncoder.encode(config.model(), StandardCharsets.UTF_8);
        }
        return new ProviderEndpoint(URI.create(prefix + path + "/chat/completions?api-version=" + version), true);
    }
}
