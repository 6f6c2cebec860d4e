package dev.aireview.runner.observability;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A test-side reader of the Prometheus text format: samples by name and labels. */
public final class PromText {
    /** One sample line. */
    public record Sample(String name, Map<String, String> labels, double value) {
    }

    private static final Pattern LINE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})?\\s+(\\S+)(\\s+\\d+)?$");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    private final String text;
    private final List<Sample> samples;

    private PromText(String text, List<Sample> samples) {
        this.text = text;
        this.samples = samples;
    }

    public static PromText parse(String text) {
        List<Sample> samples = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            Matcher m = LINE.matcher(line.trim());
            if (!m.matches()) {
                throw new IllegalArgumentException("not a Prometheus sample line: " + line);
            }
            Map<String, String> labels = new LinkedHashMap<>();
            if (m.group(3) != null) {
                Matcher l = LABEL.matcher(m.group(3));
                while (l.find()) {
                    labels.put(l.group(1), l.group(2));
                }
            }
            String v = m.group(4);
            double value = switch (v) {
                case "+Inf" -> Double.POSITIVE_INFINITY;
                case "-Inf" -> Double.NEGATIVE_INFINITY;
                default -> Double.parseDouble(v);
            };
            samples.add(new Sample(m.group(1), labels, value));
        }
        return new PromText(text, List.copyOf(samples));
    }

    public List<Sample> samples() {
        return samples;
    }

    public String text() {
        return text;
    }

    /**
     * The value of the one sample called {@code name} whose labels include {@code labelPairs} (name, value, ...);
     * null when there is none.
     *
     * @throws IllegalStateException when several samples match
     */
    public Double value(String name, String... labelPairs) {
        List<Sample> found = samples.stream().filter(s -> s.name().equals(name) && has(s, labelPairs)).toList();
        if (found.size() > 1) {
            throw new IllegalStateException(found.size() + " samples match " + name + " " + List.of(labelPairs) + ": " + found);
        }
        return found.isEmpty() ? null : found.get(0).value();
    }

    /** Whether a sample of that name exists (any labels). */
    public boolean has(String name) {
        return samples.stream().anyMatch(s -> s.name().equals(name));
    }

    private static boolean has(Sample s, String[] pairs) {
        for (int i = 0; i + 1 < pairs.length; i += 2) {
            if (!pairs[i + 1].equals(s.labels().get(pairs[i]))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return text;
    }
}
