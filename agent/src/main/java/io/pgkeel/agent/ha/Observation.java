package io.pgkeel.agent.ha;

import io.pgkeel.common.cluster.DcsView;
import io.pgkeel.common.peer.PeerStatus;
import io.pgkeel.common.pg.PgStatus;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Everything one cycle decides on, gathered before deciding (see {@link ObservationPlan} for what is asked when).
 * Failures are data ({@code DcsView.unreachable}, {@link PeerStatus#unreachable}).
 *
 * @param peers       the other members' answers to {@code GET /patroni}, when the decision weighs them (a race for
 *                    the leader key, a switchover to check); else empty
 * @param receivedLsn how far members have received WAL (LSN, bytes), asked live over SQL: a switchover's stopped
 *                    leader asks its candidates; a replica that needs synchronous replication's quorum asks the sync
 *                    key's members, and only positions on its own timeline are kept; one that could not be asked is
 *                    missing
 * @param nowNanos    the observation's time, monotonic
 * @param wallNow     wall-clock time, only to compare with a scheduled switchover's {@code scheduled_at}
 * @param request     what an operator asked this node to do (restart, reinitialize), if anything
 * @param memory      the node's memory, this observation included ({@link NodeMemory#observed})
 * @param failsafeLeader the primary in failsafe mode this node promised not to race against, while that promise
 *                    runs ({@link FailsafePromise#active} at observe time)
 */
public record Observation(DcsView dcs, PgStatus pg, List<PeerStatus> peers, Map<String, Long> receivedLsn,
                          NodeSettings self, long nowNanos, Instant wallNow, Optional<OperatorRequest> request,
                          NodeMemory memory, Optional<FailsafePromise.FailsafeLeader> failsafeLeader) {
    public Observation {
        peers = List.copyOf(peers);
        receivedLsn = Map.copyOf(receivedLsn);
    }

    /** An observation while no failsafe promise runs. */
    public Observation(DcsView dcs, PgStatus pg, List<PeerStatus> peers, Map<String, Long> receivedLsn,
                       NodeSettings self, long nowNanos, Instant wallNow, Optional<OperatorRequest> request,
                       NodeMemory memory) {
        this(dcs, pg, peers, receivedLsn, self, nowNanos, wallNow, request, memory, Optional.empty());
    }

    /** This agent's lease, as renewed (or not) in this cycle. */
    public LeaseStatus lease() {
        return memory.lease();
    }

    /** How many times in a row PostgreSQL, started as a standby, stopped again before it ever ran. */
    public int failedReplicaStarts() {
        return memory.failedReplicaStarts();
    }

    /** Slot name of each member seen in etcd since this agent started -> when last seen (monotonic). */
    public Map<String, Long> memberSlotsSeenNanos() {
        return memory.memberSlotsSeenNanos();
    }
}
