package dev.aireview.runner.review.ai;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.zip.GZIPInputStream;
import java.util.zip.InflaterInputStream;

/**
 * One provider exchange within bounds: a whole-call deadline that covers the headers and the whole body
 * ({@code HttpRequest.timeout} covers only the headers), and a byte cap on the body, compressed and decompressed
 * (a {@code gzip}/{@code deflate} body is inflated, up to the same cap). Past either bound the exchange is
 * cancelled (the connection closed, not drained) and {@link Exceeded} says which bound ended it.
 */
final class BoundedCall {

    /** The provider's answer: status, headers and the (decoded) body. */
    record Answer(int status, HttpHeaders headers, byte[] body) {
        String contentType() {
            return headers.firstValue("Content-Type").orElse("").toLowerCase(Locale.ROOT);
        }
    }

    /** A bound ended the exchange; {@link #retryable()} for the deadline (the provider may answer in time again). */
    static final class Exceeded extends IOException {
        private final boolean retryable;

        Exceeded(String message, boolean retryable) {
            super(message);
            this.retryable = retryable;
        }

        boolean retryable() {
            return retryable;
        }
    }

    private BoundedCall() {
    }

    static Answer send(HttpClient http, HttpRequest request, Duration deadline, int cap) throws IOException, InterruptedException {
        Capped subscriber = new Capped(cap);
        CompletableFuture<HttpResponse<byte[]>> call = http.sendAsync(request, info -> subscriber);
        HttpResponse<byte[]> response;
        try {
            response = call.get(Math.max(1, deadline.toMillis()), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            subscriber.cancel();
            call.cancel(true);
            throw new Exceeded("no complete answer within " + seconds(deadline) + " (whole-call deadline, headers and body"
                    + (subscriber.received() > 0 ? "; " + subscriber.received() + " bytes of the body had arrived" : "") + ")", true);
        } catch (InterruptedException e) {
            subscriber.cancel();
            call.cancel(true);
            throw e;
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof Exceeded x) {
                throw x;
            }
            if (cause instanceof IOException io) {
                throw io;
            }
            throw new IOException(cause == null ? String.valueOf(e) : cause.getClass().getSimpleName() + ": " + cause.getMessage(), cause);
        }
        byte[] body = decode(response.headers().firstValue("Content-Encoding").orElse(""), response.body(), cap);
        return new Answer(response.statusCode(), response.headers(), body);
    }

    /** The body inflated per its {@code Content-Encoding} ({@code gzip}, {@code deflate}; anything else as sent), capped. */
    static byte[] decode(String encoding, byte[] raw, int cap) throws IOException {
        String e = encoding.strip().toLowerCase(Locale.ROOT);
        boolean gzip = e.equals("gzip") || e.equals("x-gzip") || e.isEmpty() && raw.length > 2 && (raw[0] & 0xff) == 0x1f && (raw[1] & 0xff) == 0x8b;
        if (!gzip && !e.equals("deflate")) {
            return raw;
        }
        try (InputStream in = gzip ? new GZIPInputStream(new java.io.ByteArrayInputStream(raw))
                : new InflaterInputStream(new java.io.ByteArrayInputStream(raw))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[16384];
            for (int n; (n = in.read(buf)) > 0; ) {
                if (out.size() + n > cap) {
                    throw new Exceeded("the answer body inflates to more than the " + cap + "-byte cap (" + (gzip ? "gzip" : "deflate") + ")", false);
                }
                out.write(buf, 0, n);
            }
            return out.toByteArray();
        } catch (Exceeded x) {
            throw x;
        } catch (IOException x) {
            throw new IOException("the answer body says Content-Encoding " + (e.isEmpty() ? "gzip" : e) + " but does not decode: " + x.getMessage(), x);
        }
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    /** Keeps at most {@code cap} bytes; past the cap the subscription is cancelled and the call fails with {@link Exceeded}. */
    private static final class Capped implements HttpResponse.BodySubscriber<byte[]> {
        private final int cap;
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final CompletableFuture<byte[]> result = new CompletableFuture<>();
        private volatile Flow.Subscription subscription;
        private volatile long received;
        private volatile boolean cancelled;

        Capped(int cap) {
            this.cap = cap;
        }

        long received() {
            return received;
        }

        void cancel() {
            cancelled = true;
            Flow.Subscription s = subscription;
            if (s != null) {
                s.cancel();
            }
        }

        @Override
        public CompletionStage<byte[]> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            if (cancelled) {
                s.cancel();
                return;
            }
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            if (result.isDone()) {
                return;
            }
            for (ByteBuffer b : items) {
                int n = b.remaining();
                if (out.size() + (long) n > cap) {
                    subscription.cancel();
                    result.completeExceptionally(new Exceeded("the answer body is larger than the " + cap + "-byte cap", false));
                    return;
                }
                byte[] bytes = new byte[n];
                b.get(bytes);
                out.write(bytes, 0, n);
                received += n;
            }
        }

        @Override
        public void onError(Throwable t) {
            result.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            result.complete(out.toByteArray());
        }
    }
}
