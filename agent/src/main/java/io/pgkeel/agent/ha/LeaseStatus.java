package io.pgkeel.agent.ha;

/**
 * This agent's lease as the HA loop knows it.
 *
 * @param leaseId         0 when the agent holds no lease
 * @param validUntilNanos monotonic time before which etcd cannot have expired the lease: the send time of the
 *                        last successful refresh plus its TTL
 * @param renewedThisCycle false when this cycle's refresh failed (the lease may still be valid until the deadline)
 */
public record LeaseStatus(long leaseId, long validUntilNanos, boolean renewedThisCycle) {
    public static LeaseStatus none() {
        return new LeaseStatus(0, 0, false);
    }

    /** The same lease, not renewed in this cycle (it may still be valid until its deadline). */
    public LeaseStatus notRenewed() {
        return new LeaseStatus(leaseId, validUntilNanos, false);
    }

    public boolean isHeld() {
        return leaseId != 0;
    }

    /** Still safe to act as leader at {@code nowNanos}, keeping {@code marginNanos} in hand to stop PostgreSQL. */
    public boolean isSafeAt(long nowNanos, long marginNanos) {
        return leaseId != 0 && nowNanos - (validUntilNanos - marginNanos) < 0;
    }
}
