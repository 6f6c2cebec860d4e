package dev.aireview.runner.review;

/**
 * What the repository's {@code .gitattributes} say about one path ({@link GitAttributes}): {@code linguist-generated}
 * and {@code linguist-vendored} as {@link State#ON} (set or {@code true}), {@link State#OFF} (unset or {@code false}: overrides
 * the path and content heuristics, as GitHub linguist does) or {@link State#UNSPECIFIED} (the heuristics decide), and
 * whether git treats it as binary ({@code binary}, {@code -diff} or {@code -text}).
 */
public record PathAttributes(State generated, State vendored, boolean binary) {

    public enum State { ON, OFF, UNSPECIFIED }

    /** Nothing said: the heuristics decide. */
    public static final PathAttributes NONE = new PathAttributes(State.UNSPECIFIED, State.UNSPECIFIED, false);

    /** The state of a linguist attribute from {@code git check-attr}'s value ({@code set}, {@code unset}, {@code true}, …). */
    static State linguist(String value) {
        return switch (value) {
            case "set", "true" -> State.ON;
            case "unset", "false" -> State.OFF;
            default -> State.UNSPECIFIED;
        };
    }

    /** Equal to {@link #NONE}; compared field by field (a record's own equals is bootstrapped on first use, ~15 ms in the executor). */
    public boolean saysNothing() {
        return generated == State.UNSPECIFIED && vendored == State.UNSPECIFIED && !binary;
    }
}
