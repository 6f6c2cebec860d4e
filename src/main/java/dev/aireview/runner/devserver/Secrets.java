package dev.aireview.runner.devserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.aireview.runner.model.Json;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** Finds and masks the secrets of a task (clone token, AI key) so that no view of the server shows them. */
final class Secrets {
    static final String MASK = "****";
    /** Secrets shorter than this are not searched for in free text (too many false hits). */
    private static final int MIN_SEARCHABLE = 4;
    private static final Set<String> SECRET_FIELDS = Set.of(
            "clonetoken", "clone_token", "token", "apikey", "api_key", "key", "password", "secret",
            "authorization", "accesstoken", "access_token");

    private static final java.util.regex.Pattern URL_USERINFO = java.util.regex.Pattern.compile("://[^/@\\s]+@");

    private Secrets() {
    }

    /** The secret values inside a task body: every value of a field with a secret-looking name. */
    static List<String> of(JsonNode task) {
        List<String> found = new ArrayList<>();
        collect(task, found);
        return found;
    }

    private static void collect(JsonNode node, List<String> out) {
        if (node == null) {
            return;
        }
        if (node.isObject()) {
            Iterator<Map.Entry<String, JsonNode>> it = node.fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                if (isSecretField(e.getKey()) && e.getValue().isValueNode() && !e.getValue().isNull()) {
                    String v = e.getValue().asText();
                    if (!v.isBlank() && !out.contains(v)) {
                        out.add(v);
                    }
                } else {
                    collect(e.getValue(), out);
                }
            }
        } else if (node.isArray()) {
            node.forEach(n -> collect(n, out));
        }
    }

    static boolean isSecretField(String name) {
        return SECRET_FIELDS.contains(name.toLowerCase(Locale.ROOT));
    }

    /** A deep copy of {@code node} with secret fields set to {@value #MASK} and known secrets masked in all text. */
    static JsonNode mask(JsonNode node, List<String> secrets) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return null;
        }
        return maskNode(node.deepCopy(), secrets);
    }

    private static JsonNode maskNode(JsonNode node, List<String> secrets) {
        if (node.isObject()) {
            ObjectNode o = (ObjectNode) node;
            List<String> names = new ArrayList<>();
            o.fieldNames().forEachRemaining(names::add);
            for (String name : names) {
                JsonNode v = o.get(name);
                if (isSecretField(name) && v.isValueNode() && !v.isNull()) {
                    o.put(name, MASK);
                } else {
                    o.set(name, maskNode(v, secrets));
                }
            }
            return o;
        }
        if (node.isArray()) {
            ArrayNode a = (ArrayNode) node;
            for (int i = 0; i < a.size(); i++) {
                a.set(i, maskNode(a.get(i), secrets));
            }
            return a;
        }
        if (node.isTextual()) {
            String masked = mask(node.asText(), secrets);
            return masked.equals(node.asText()) ? node : TextNode.valueOf(masked);
        }
        return node;
    }

    /** {@code text} with every known secret replaced by {@value #MASK}. */
    static String mask(String text, List<String> secrets) {
        if (text == null) {
            return null;
        }
        String out = URL_USERINFO.matcher(text).replaceAll("://" + MASK + "@");
        for (String s : secrets) {
            if (s != null && s.length() >= MIN_SEARCHABLE) {
                out = out.replace(s, MASK);
            }
        }
        return out;
    }

    /** True when {@code text} contains one of {@code secrets} in clear. */
    static boolean leaks(String text, List<String> secrets) {
        if (text == null) {
            return false;
        }
        for (String s : secrets) {
            if (s != null && s.length() >= MIN_SEARCHABLE && text.contains(s)) {
                return true;
            }
        }
        return false;
    }

    /** True when any text inside {@code node} contains one of {@code secrets} in clear. */
    static boolean leaks(JsonNode node, List<String> secrets) {
        return node != null && leaks(Json.mapper().valueToTree(node).toString(), secrets);
    }
}
