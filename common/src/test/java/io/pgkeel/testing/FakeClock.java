package io.pgkeel.testing;

import io.pgkeel.common.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

/** A clock that moves only when told to. Thread-safe. Monotonic time starts at an arbitrary large value. */
public final class FakeClock implements Clock {
    private static final Instant EPOCH = Instant.parse("2026-01-01T00:00:00Z");
    private final AtomicLong nanos = new AtomicLong(1_000_000_000_000L);
    private final long start = nanos.get();

    @Override
    public long nanoTime() {
        return nanos.get();
    }

    @Override
    public Instant now() {
        return EPOCH.plusNanos(nanos.get() - start);
    }

    @Override
    public void sleepNanos(long n) {
        nanos.addAndGet(Math.max(0, n));
    }

    public void advance(Duration d) {
        if (d.isNegative()) {
            throw new IllegalArgumentException("time does not go backwards: " + d);
        }
        nanos.addAndGet(d.toNanos());
    }

    /** Moves to {@code targetNanos} if it is in the future. */
    public void advanceTo(long targetNanos) {
        nanos.accumulateAndGet(targetNanos, Math::max);
    }
}
