package io.pgkeel.agent.ha;

/**
 * The safety rule in one place: while this node is a primary, a deadline is armed at
 * {@code leaseValidUntil - fenceMargin}; if it passes before a renewal moves it, PostgreSQL is stopped
 * immediately, whatever the HA loop is doing (it may be blocked in a DCS call) and whatever jetcd thinks.
 *
 * <p>Thread-safety: arm/disarm from the loop, {@link #check} from the fence thread or a simulation; the state is
 * one atomic long, and firing at most once per arming is ensured by compare-and-set. {@link #onChange} lets a
 * waiting fence thread sleep exactly until the deadline instead of polling.
 */
public final class LeaseFence {
    private static final long DISARMED = Long.MIN_VALUE;

    private final java.util.concurrent.atomic.AtomicLong deadline = new java.util.concurrent.atomic.AtomicLong(DISARMED);
    private final Runnable stopWrites;
    private final java.util.List<Runnable> onChange = new java.util.concurrent.CopyOnWriteArrayList<>();

    public LeaseFence(Runnable stopWrites) {
        this.stopWrites = stopWrites;
    }

    /**
     * Adds a listener called (on the arming thread, so it must not block) whenever the deadline moves: a sleeping
     * checker re-plans, the fence guard outside the JVM is told.
     */
    public void onChange(Runnable listener) {
        onChange.add(listener);
    }

    public void arm(long deadlineNanos) {
        if (deadline.getAndSet(deadlineNanos) != deadlineNanos) {
            onChange.forEach(Runnable::run);
        }
    }

    public void disarm() {
        if (deadline.getAndSet(DISARMED) != DISARMED) {
            onChange.forEach(Runnable::run);
        }
    }

    public boolean isArmed() {
        return deadline.get() != DISARMED;
    }

    /** The armed deadline, or empty. */
    public java.util.OptionalLong deadline() {
        long d = deadline.get();
        return d == DISARMED ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(d);
    }

    /** Fires the stop if the deadline has passed at {@code nowNanos}. Returns true when it fired. */
    public boolean check(long nowNanos) {
        long d = deadline.get();
        if (d == DISARMED || nowNanos - d < 0) {
            return false;
        }
        if (!deadline.compareAndSet(d, DISARMED)) {
            return false;
        }
        stopWrites.run();
        // after the stop: the guard outside the JVM stays armed until the agent has stopped postgres itself
        onChange.forEach(Runnable::run);
        return true;
    }
}
