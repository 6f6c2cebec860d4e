package dev.aireview.runner.docker;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/** Masks secrets (raw and URL-encoded) in the few messages the executor composes itself. */
final class Masking {
    static final String MASK = "****";

    private Masking() {
    }

    static String mask(String text, Collection<String> secrets) {
        if (text == null || secrets == null) {
            return text;
        }
        String out = text;
        List<String> forms = new ArrayList<>();
        for (String secret : secrets) {
            if (secret == null || secret.length() < 3) {
                continue;
            }
            forms.add(secret);
            String encoded = URLEncoder.encode(secret, StandardCharsets.UTF_8);
            if (!encoded.equals(secret)) {
                forms.add(encoded);
                forms.add(encoded.replace("+", "%20"));
            }
        }
        forms.sort((a, b) -> Integer.compare(b.length(), a.length()));
        for (String form : forms) {
            out = out.replace(form, MASK);
        }
        return out;
    }
}
