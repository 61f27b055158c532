package io.pgkeel.it;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Polls a condition until it holds or the time is up; the failure says what was awaited and what was last seen. */
final class Await {
    private Await() {}

    static void until(Duration timeout, String what, BooleanSupplier condition) {
        until(timeout, what, condition, () -> "");
    }

    static void until(Duration timeout, String what, BooleanSupplier condition, Supplier<String> lastSeen) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                if (condition.getAsBoolean()) {
                    return;
                }
            } catch (RuntimeException e) {
                // not yet: the cluster may be in the middle of a change
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what
                        + describe(lastSeen));
            }
            pause(100);
        }
    }

    private static String describe(Supplier<String> lastSeen) {
        try {
            String s = lastSeen.get();
            return s.isEmpty() ? "" : "; last seen: " + s;
        } catch (RuntimeException e) {
            return "; last seen: " + e;
        }
    }

    static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
