package dev.aireview.runner.server;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.EOFException;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * Reads a server answer (or one task of a poll answer, see {@link TaskListScanner}) into a tree and keeps what
 * it read when the document breaks off. Every container whose end was not reached is listed in
 * {@link Result#incomplete()}; the caller decides what a partial tree is worth.
 *
 * <p>Limits, deliberately: a string may be as long as the largest document read into memory
 * ({@link #MAX_STRING_CHARS}, above {@link TaskListScanner#MAX_TASK_BYTES} and every other answer's
 * {@link ServerCall#maxBodyBytes()}), so the byte caps, not Jackson's default of 20 M chars, bound a long field
 * such as a big patch.
 * Numbers (1000 digits) and nesting depth keep Jackson's defaults: nothing legitimate comes near them.
 * Error messages name the position and the kind of problem, never the text, since the body may echo secrets.
 */
final class PartialJson {
    /** Longest string value read: twice the largest document held in memory, so a byte cap always bounds a string. */
    static final int MAX_STRING_CHARS = 32 << 20;

    private static final JsonFactory FACTORY = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(MAX_STRING_CHARS).build())
            .build();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    /**
     * @param root       the tree read (null when not even its first token could be read)
     * @param incomplete the containers (by identity) whose end was not reached
     * @param error      why reading stopped early, null when the whole document was read
     */
    record Result(JsonNode root, Set<JsonNode> incomplete, String error) {
        boolean complete() {
            return error == null;
        }
    }

    private PartialJson() {
    }

    static Result read(byte[] bytes) {
        Deque<JsonNode> stack = new ArrayDeque<>();
        Deque<String> fields = new ArrayDeque<>();
        JsonNode root = null;
        JsonParser p = null;
        try {
            p = FACTORY.createParser(bytes);
            JsonToken t;
            while ((t = p.nextToken()) != null) {
                switch (t) {
                    case FIELD_NAME -> {
                        fields.pop();
                        fields.push(p.currentName());
                    }
                    case END_OBJECT, END_ARRAY -> {
                        stack.pop();
                        fields.pop();
                    }
                    default -> {
                        JsonNode node = switch (t) {
                            case START_OBJECT -> NODES.objectNode();
                            case START_ARRAY -> NODES.arrayNode();
                            default -> scalar(p, t);
                        };
                        if (stack.isEmpty()) {
                            root = node;
                        } else if (stack.peek() instanceof ObjectNode o) {
                            o.set(fields.peek(), node);
                        } else {
                            ((ArrayNode) stack.peek()).add(node);
                        }
                        if (node.isContainerNode()) {
                            stack.push(node);
                            fields.push("");
                        }
                    }
                }
                if (stack.isEmpty()) {
                    break; // the root value is complete; anything after it is ignored, as readTree does
                }
            }
            if (root == null || !stack.isEmpty()) {
                return new Result(root, identitySet(stack), "the JSON ends early" + at(p));
            }
            return new Result(root, Set.of(), null);
        } catch (IOException | RuntimeException e) {
            return new Result(root, identitySet(stack), describe(e) + at(p));
        } finally {
            if (p != null) {
                try {
                    p.close();
                } catch (IOException ignored) {
                    // a byte array parser holds nothing
                }
            }
        }
    }

    private static JsonNode scalar(JsonParser p, JsonToken t) throws IOException {
        return switch (t) {
            case VALUE_STRING -> NODES.textNode(p.getText());
            case VALUE_NUMBER_INT -> switch (p.getNumberType()) {
                case INT -> NODES.numberNode(p.getIntValue());
                case LONG -> NODES.numberNode(p.getLongValue());
                default -> NODES.numberNode(p.getBigIntegerValue());
            };
            case VALUE_NUMBER_FLOAT -> NODES.numberNode(p.getDoubleValue());
            case VALUE_TRUE -> NODES.booleanNode(true);
            case VALUE_FALSE -> NODES.booleanNode(false);
            case VALUE_NULL -> NODES.nullNode();
            default -> NODES.pojoNode(null);
        };
    }

    private static Set<JsonNode> identitySet(Deque<JsonNode> stack) {
        Set<JsonNode> set = Collections.newSetFromMap(new IdentityHashMap<>());
        set.addAll(stack);
        return set;
    }

    private static String describe(Exception e) {
        if (e instanceof StreamConstraintsException sce) {
            return "a value exceeds a JSON limit (" + sce.getOriginalMessage() + ")";
        }
        if (e instanceof EOFException || (e.getMessage() != null && e.getMessage().contains("end-of-input"))) {
            return "the JSON ends early";
        }
        if (e instanceof JsonParseException) {
            return "malformed JSON";
        }
        return "unreadable JSON (" + e.getClass().getSimpleName() + ")";
    }

    private static String at(JsonParser p) {
        return p == null ? "" : " at byte " + p.currentLocation().getByteOffset();
    }
}
