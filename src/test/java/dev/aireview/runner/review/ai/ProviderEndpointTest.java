package dev.aireview.runner.review.ai;

import dev.aireview.runner.model.AiConfig;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which URL and auth header each provider configuration gets. */
class ProviderEndpointTest {

    private static ProviderEndpoint of(String provider, String baseUrl, String model) {
        return ProviderEndpoint.of(new AiConfig(provider, baseUrl, model, "k", null, null));
    }

    @Test
    void openAiCompatibleServersGetBaseUrlPlusChatCompletions() {
        assertEquals("https://api.openai.com/v1/chat/completions", of("openai", null, "gpt-4o").uri().toString());
        assertEquals("http://127.0.0.1:11434/v1/chat/completions", of("ollama", "http://127.0.0.1:11434/v1/", "qwen").uri().toString());
        assertEquals("https://openrouter.ai/api/v1/chat/completions", of(null, "https://openrouter.ai/api/v1", "m").uri().toString());
        assertEquals("http://litellm:4000/chat/completions", of("litellm", "http://litellm:4000/chat/completions", "m").uri().toString());
        assertFalse(of("vllm", "http://gpu:8000/v1", "m").azure());
    }

    @Test
    void azureIsChosenByProviderHostOrDeploymentPath() {
        ProviderEndpoint byHost = of(null, "https://shop-ai.openai.azure.com/", "gpt4o-review");
        assertTrue(byHost.azure());
        assertEquals("https://shop-ai.openai.azure.com/openai/deployments/gpt4o-review/chat/completions?api-version="
                + ProviderEndpoint.DEFAULT_AZURE_API_VERSION, byHost.uri().toString());
        assertEquals("https://gw.corp/openai/deployments/d1/chat/completions?api-version=2025-01-01-preview",
                of(null, "https://gw.corp/openai/deployments/d1?api-version=2025-01-01-preview", "ignored").uri().toString());
        assertEquals("https://proxy.corp/openai/deployments/m%2Fx/chat/completions?api-version=" + ProviderEndpoint.DEFAULT_AZURE_API_VERSION,
                of("azure", "https://proxy.corp", "m/x").uri().toString());
        assertEquals("https://shop-ai.openai.azure.com/openai/v1/chat/completions",
                of(null, "https://shop-ai.openai.azure.com/openai/v1/", "gpt-4o").uri().toString());
        assertThrows(IllegalArgumentException.class, () -> of("azure", "https://proxy.corp", null));
    }
}
