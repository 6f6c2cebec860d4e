package dev.aireview.runner.devserver;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;

/** Base of the JSON handlers: turns {@link ApiException} and unexpected failures into the error envelope. */
abstract class JsonHandler implements HttpHandler {
    private static final Logger log = LoggerFactory.getLogger(JsonHandler.class);

    @Override
    public final void handle(HttpExchange ex) throws IOException {
        try {
            route(ex);
        } catch (ApiException e) {
            if (e.status() >= 500) {
                log.warn("{} {} -> {} {}", ex.getRequestMethod(), ex.getRequestURI().getPath(), e.status(), e.getMessage());
            } else {
                log.debug("{} {} -> {} {}", ex.getRequestMethod(), ex.getRequestURI().getPath(), e.status(), e.getMessage());
            }
            Http.sendError(ex, e.status(), e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            Http.sendError(ex, 503, "server is stopping");
        } catch (IOException e) {
            log.debug("{} {}: connection problem: {}", ex.getRequestMethod(), ex.getRequestURI().getPath(), e.toString());
            ex.close();
        } catch (RuntimeException e) {
            log.warn("{} {} failed", ex.getRequestMethod(), ex.getRequestURI().getPath(), e);
            Http.sendError(ex, 500, "internal error: " + e.getClass().getSimpleName());
        } finally {
            Http.done(ex);
        }
    }

    abstract void route(HttpExchange ex) throws IOException, InterruptedException;

    static void requireMethod(HttpExchange ex, String method) {
        if (!ex.getRequestMethod().equalsIgnoreCase(method)) {
            throw new ApiException(405, ex.getRequestMethod() + " not allowed on " + ex.getRequestURI().getPath()
                    + "; use " + method);
        }
    }
}
