package io.pgkeel.testing;

import io.pgkeel.common.Clock;
import java.time.Instant;

/**
 * One machine's monotonic clock in a {@link SimCluster}: it follows the cluster's {@link FakeClock} (the true time,
 * which etcd's lessor runs on) at {@link #rate()} times its speed, so that an agent whose clock runs slow believes
 * its lease lasts longer than etcd keeps it. At rate 1 it reads exactly what the cluster clock reads. Not
 * thread-safe for {@link #setRate}; reads are.
 */
public final class DriftClock implements Clock {
    private static final Instant EPOCH = Instant.parse("2026-01-01T00:00:00Z");
    private final FakeClock base;
    /** The point both clocks agree on since the last rate change: (base nanos, own nanos). */
    private volatile long baseAnchor;
    private volatile long ownAnchor;
    private volatile double rate = 1.0;

    public DriftClock(FakeClock base) {
        this.base = base;
        this.baseAnchor = base.nanoTime();
        this.ownAnchor = baseAnchor;
    }

    /** Own seconds per true second from now on (1.0: no drift; 0.98: 2% slow). */
    public void setRate(double rate) {
        if (!(rate > 0.5 && rate < 2.0)) {
            throw new IllegalArgumentException("clock rate out of range: " + rate);
        }
        long b = base.nanoTime();
        ownAnchor = toOwn(b);
        baseAnchor = b;
        this.rate = rate;
    }

    public double rate() {
        return rate;
    }

    @Override
    public long nanoTime() {
        return toOwn(base.nanoTime());
    }

    @Override
    public Instant now() {
        return EPOCH.plusNanos(nanoTime() - 1_000_000_000_000L);
    }

    @Override
    public void sleepNanos(long n) {
        base.sleepNanos(toBaseDuration(n));
    }

    /** This clock's reading at cluster time {@code baseNanos}. */
    public long toOwn(long baseNanos) {
        return rate == 1.0 ? baseNanos - baseAnchor + ownAnchor : ownAnchor + (long) ((baseNanos - baseAnchor) * rate);
    }

    /** The cluster time at which this clock reads {@code ownNanos}. */
    public long toBase(long ownNanos) {
        return rate == 1.0 ? ownNanos - ownAnchor + baseAnchor
                : baseAnchor + (long) Math.ceil((ownNanos - ownAnchor) / rate);
    }

    /** How long in cluster time {@code ownNanos} of this clock take. */
    public long toBaseDuration(long ownNanos) {
        return rate == 1.0 ? ownNanos : (long) Math.ceil(Math.max(0, ownNanos) / rate);
    }
}
