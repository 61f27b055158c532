package io.pgkeel.common.peer;

/**
 * Another member's answer to {@code GET /patroni}, fetched before a leader race.
 *
 * @param reachable false when the member did not answer in time (it is then ignored, as Patroni does)
 * @param replicationState "streaming" or "in archive recovery" on a replica; null when the member does not say
 */
public record PeerStatus(String name, boolean reachable, boolean running, boolean inRecovery, long walPosition,
                         int timeline, boolean nofailover, int failoverPriority, String replicationState) {
    public static PeerStatus unreachable(String name) {
        return new PeerStatus(name, false, false, true, 0, 0, false, 0, null);
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
                replicationState);
    }
}
