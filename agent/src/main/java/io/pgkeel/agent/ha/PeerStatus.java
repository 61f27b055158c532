package io.pgkeel.agent.ha;

/**
 * Another member's answer to {@code GET /patroni}, fetched before a leader race.
 *
 * @param reachable false when the member did not answer in time (it is then ignored, as Patroni does)
 */
public record PeerStatus(String name, boolean reachable, boolean running, boolean inRecovery, long walPosition,
                         int timeline, boolean nofailover, int failoverPriority) {
    public static PeerStatus unreachable(String name) {
        return new PeerStatus(name, false, false, true, 0, 0, false, 0);
    }
}
