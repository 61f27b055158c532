package io.pgkeel.it;

import java.util.function.BooleanSupplier;

/**
 * A daemon thread that runs one poll every {@code periodMillis} until the poll returns false or the poller is
 * closed. A poll that throws {@link IllegalStateException} (etcd or a node did not answer: it proves nothing) is
 * skipped and the next one runs on time.
 */
final class Poller implements AutoCloseable {
    private final Thread thread;
    private volatile boolean running = true;

    Poller(String name, long periodMillis, BooleanSupplier poll) {
        this.thread = new Thread(() -> {
            boolean more = true;
            while (running && more) {
                try {
                    more = poll.getAsBoolean();
                } catch (IllegalStateException e) {
                    // no answer this time
                }
                if (more) {
                    Await.pause(periodMillis);
                }
            }
        }, name);
        thread.setDaemon(true);
        thread.start();
    }

    /** Stops polling and waits for a poll under way to end. */
    @Override
    public void close() {
        running = false;
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
