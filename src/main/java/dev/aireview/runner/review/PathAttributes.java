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

    public boolean saysNothing() {
        return equals(NONE);
    }
}
