package dev.aireview.runner.config;

/**
 * The value of RUNNER_HEALTH_PORT: {@code port} or {@code address:port} ({@code [v6]:port}). One parser for the
 * {@code run} command (where the endpoint listens) and the {@code health} command (where it asks), so both read
 * the same variable the same way.
 *
 * @param address bind address; {@code 127.0.0.1} (loopback only: the endpoint is not reachable from other hosts unless
 *                the operator names an address, e.g. {@code 0.0.0.0:8081}) when the value has none
 * @param port    0 = the endpoint is off
 */
public record HealthAddress(String address, int port) {
    /** The bind address when RUNNER_HEALTH_PORT names none: loopback, so probes and metrics are not exposed by default. */
    public static final String DEFAULT_BIND = "127.0.0.1";
    static final String USAGE = "use port or address:port, e.g. 8081 or 127.0.0.1:8081";

    /** Thrown for a malformed value; the message says what is wrong (without the value). */
    public static final class InvalidException extends IllegalArgumentException {
        InvalidException(String why) {
            super(why);
        }
    }

    public static HealthAddress parse(String value) {
        String v = value == null ? "0" : value.trim();
        String address = DEFAULT_BIND;
        String port = v;
        int colon = v.lastIndexOf(':');
        if (colon >= 0) {
            address = v.substring(0, colon).trim();
            port = v.substring(colon + 1).trim();
            if (address.startsWith("[") && address.endsWith("]")) {
                address = address.substring(1, address.length() - 1);
            }
            if (address.isEmpty() || address.chars().anyMatch(Character::isWhitespace)) {
                throw new InvalidException(USAGE);
            }
        }
        int p;
        try {
            p = Integer.parseInt(port.replace("_", ""));
        } catch (NumberFormatException e) {
            throw new InvalidException(USAGE);
        }
        if (p < 0 || p > 65535) {
            throw new InvalidException("port must be 0 (off) to 65535");
        }
        return new HealthAddress(address, p);
    }

    /** The address a local client connects to: a wildcard bind address means this host's loopback. */
    public String connectAddress() {
        return switch (address) {
            case "0.0.0.0", "*" -> "127.0.0.1";
            case "::", "::0" -> "::1";
            default -> address;
        };
    }
}
