package io.pgkeel.common;

import java.time.Instant;

/**
 * The only source of time in pgkeel. {@link #nanoTime()} is monotonic and is the only clock used for
 * deadlines (lease validity, timeouts); {@link #now()} is wall time, used only for display and for the
 * timestamps Patroni writes into etcd.
 */
public interface Clock {
    long nanoTime();

    Instant now();

    /**
     * Waits about {@code nanos} on the monotonic clock (a fake clock just moves on). For short waits inside one
     * step; loops that must be woken early use their own wait/notify.
     */
    default void sleepNanos(long nanos) {
        java.util.concurrent.locks.LockSupport.parkNanos(nanos);
    }

    static Clock system() {
        return SystemClock.INSTANCE;
    }
}
