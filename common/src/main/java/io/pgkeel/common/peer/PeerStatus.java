package io.pgkeel.common.peer;

/**
 * Another member's answer to {@code GET /patroni}, fetched before a leader race.
 *
 * @param reachable false when the member did not answer in time (it is then ignored, as Patroni does)
 * @param replicationState "streaming" or "in archive recovery" on a replica; null when the member does not say
 * @param failsafeActive   its {@code failsafe_mode_is_active} (Patroni's {@code failsafe_is_active}): on a replica, a
 *                         promise to a primary in failsafe mode runs, and it may not become primary until it ends
 * @param paused           its {@code pause} (Patroni's {@code "pause": true}): the config key it last read pauses the
 *                         cluster, so it decides as in maintenance mode, with its lease fence off
 */
public record PeerStatus(String name, boolean reachable, boolean running, boolean inRecovery, long walPosition,
                         int timeline, boolean nofailover, int failoverPriority, String replicationState,
                         boolean failsafeActive, boolean paused) {
    /** A member that says nothing of pause. */
    public PeerStatus(String name, boolean reachable, boolean running, boolean inRecovery, long walPosition,
                      int timeline, boolean nofailover, int failoverPriority, String replicationState,
                      boolean failsafeActive) {
        this(name, reachable, running, inRecovery, walPosition, timeline, nofailover, failoverPriority,
                replicationState, failsafeActive, false);
    }

    /** A member that says nothing of failsafe. */
    public PeerStatus(String name, boolean reachable, boolean running, boolean inRecovery, long walPosition,
                      int timeline, boolean nofailover, int failoverPriority, String replicationState) {
        this(name, reachable, running, inRecovery, walPosition, timeline, nofailover, failoverPriority,
                replicationState, false);
    }

    public static PeerStatus unreachable(String name) {
        return new PeerStatus(name, false, false, true, 0, 0, false, 0, null);
    }

    /** A replica that promised a primary in failsafe mode not to become primary for now. */
    public boolean promisedFailsafe() {
        return inRecovery && failsafeActive;
    }

    /**
     * It answered as a running replica: reachable (HTTP 200 with a member's JSON), state "running", in recovery. What a
     * member the failsafe key names must answer before one it does not name may race (docs/decisions.md,
     * "failsafe_mode"); an agent still starting, or one whose PostgreSQL is stopped, does not.
     */
    public boolean answeredAsRunningReplica() {
        return reachable && running && inRecovery;
    }

    public PeerStatus withWalPosition(long wal) {
        return new PeerStatus(name, reachable, running, inRecovery, wal, timeline, nofailover, failoverPriority,
                replicationState, failsafeActive, paused);
    }
}
