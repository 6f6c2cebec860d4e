package dev.aireview.runner.server;

import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/**
 * An answer body read up to a byte cap. Past the cap the subscription is cancelled (the connection is closed,
 * not drained) and the body is marked {@link #truncated()}: the caller decides whether the kept prefix is of
 * use or the answer is unreadable. Every answer but the poll's is read so (a poll answer is streamed, see
 * {@link TaskListScanner}).
 *
 * @param bytes     the body, at most the cap
 * @param truncated true when the server sent more than the cap
 */
public record CappedBody(byte[] bytes, boolean truncated) {
    static final CappedBody EMPTY = new CappedBody(new byte[0], false);

    public boolean isEmpty() {
        return bytes.length == 0;
    }

    /** A body subscriber keeping at most {@code cap} bytes of the answer. */
    static HttpResponse.BodySubscriber<CappedBody> subscriber(int cap) {
        return new Subscriber(cap);
    }

    private static final class Subscriber implements HttpResponse.BodySubscriber<CappedBody> {
        private final int cap;
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final CompletableFuture<CappedBody> result = new CompletableFuture<>();
        private Flow.Subscription subscription;

        Subscriber(int cap) {
            this.cap = cap;
        }

        @Override
        public CompletionStage<CappedBody> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            if (result.isDone()) {
                return;
            }
            for (ByteBuffer b : items) {
                int room = cap - out.size();
                int n = b.remaining();
                if (n > room) {
                    byte[] part = new byte[room];
                    b.get(part);
                    out.write(part, 0, room);
                    subscription.cancel();
                    result.complete(new CappedBody(out.toByteArray(), true));
                    return;
                }
                byte[] all = new byte[n];
                b.get(all);
                out.write(all, 0, n);
            }
        }

        @Override
        public void onError(Throwable t) {
            result.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            result.complete(new CappedBody(out.toByteArray(), false));
        }
    }
}
