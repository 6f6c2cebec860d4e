package dev.aireview.runner.devserver;

/** A protocol error answered with the error envelope {@code {"error":{"title","status","detail"}}}. */
final class ApiException extends RuntimeException {
    private final int status;

    ApiException(int status, String detail) {
        super(detail, null, false, false);
        this.status = status;
    }

    int status() {
        return status;
    }

    static ApiException badRequest(String detail) {
        return new ApiException(400, detail);
    }

    static ApiException notFound(String detail) {
        return new ApiException(404, detail);
    }

    static ApiException conflict(String detail) {
        return new ApiException(409, detail);
    }

    static String title(int status) {
        return switch (status) {
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 409 -> "Conflict";
            case 413 -> "Payload Too Large";
            case 503 -> "Service Unavailable";
            default -> status >= 500 ? "Internal Server Error" : "Error";
        };
    }
}
