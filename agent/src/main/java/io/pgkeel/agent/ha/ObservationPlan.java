package io.pgkeel.agent.ha;

import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.pg.PgStatus;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What a cycle looks at before it decides, planned by pure functions that call the same predicates as the rules
 * that use the answers ({@link HaPolicy}, {@link Switchovers}), so a rule and what it needs to see cannot drift
 * apart. The {@code Observer} carries the plan out.
 */
final class ObservationPlan {
    private ObservationPlan() {}

    /** Which of the other members' answers the decision will weigh. */
    enum Peers {
        NONE,
        /** {@code GET /patroni} of every other member: a race for the leader key. */
        STATUS,
        /** The same, with each replica's received WAL asked live over SQL: the leader checks a switchover. */
        STATUS_WITH_LIVE_WAL
    }

    /**
     * Renew the lease before reading the cluster: the leader every cycle (its write window is measured from the last
     * renewal); a replica, whose lease only carries its member key, when a third of the ttl has passed; and an
     * agent that holds no lease.
     */
    static boolean renewFirst(NodeMemory m, String me, long nowNanos) {
        boolean leaderLastCycle = m.lastView() != null && m.lastView().isLeader(me);
        long ttlNanos = TimeUnit.SECONDS.toNanos(m.dynamic().ttl());
        long renewedAt = m.lease().validUntilNanos() - ttlNanos;
        return leaderLastCycle || !m.lease().isHeld() || nowNanos - renewedAt >= ttlNanos / 3;
    }

    /** After the read, unless renewed already: about to race for the leader key, or to act as its holder. */
    static boolean renewBeforeDeciding(ClusterView c, String me) {
        return c.isUnlocked() || c.isLeader(me);
    }

    static Peers peers(NodeMemory m, ClusterView c, PgStatus pg, NodeSettings self, Instant wallNow) {
        if (HaPolicy.weighsPeersBeforeRacing(c, pg, self) || awaitsPausedLeader(m, c, self.name())
                || awaitsFailsafeMembers(c, pg, self.name())) {
            return Peers.STATUS;
        }
        if (Switchovers.leaderWeighsCandidates(c, pg, self, wallNow)) {
            return Peers.STATUS_WITH_LIVE_WAL;
        }
        return Peers.NONE;
    }

    /**
     * A replica about to race with a {@code failsafe} key that does not name it must hear every member the key names
     * answer as a running replica ({@link FailsafeRules#beforeRacing}), also when a failover key names it as the
     * candidate (which otherwise asks nobody): without the answers it would wait for good (soak seed 256500).
     */
    static boolean awaitsFailsafeMembers(ClusterView c, PgStatus pg, String me) {
        return c.isUnlocked() && pg.isRunningReplica() && c.failsafe().filter(k -> !k.containsKey(me)).isPresent();
    }

    /**
     * The member that held the leader key in pause must be heard before I race ({@link
     * PausedPolicy#beforeRacingAfterPause}), or, holding the key still outside pause, before it can lapse ({@link
     * NodeMemory#acted} forgets it once it answers from outside pause): ask it this cycle. Outside pause with the key
     * vacant or still its; in pause only when a failover key names me (nobody else races in pause). A few cycles around
     * a pause, not in steady state.
     */
    static boolean awaitsPausedLeader(NodeMemory m, ClusterView c, String me) {
        String former = m.pausedLeader() == null ? null : m.pausedLeader().name();
        if (former == null || former.equals(me)) {
            return false;
        }
        boolean paused = c.config().map(cfg -> cfg.pause()).orElse(m.dynamic().pause());
        return c.isUnlocked() && (!paused || Switchovers.namesAsCandidate(c, me)) || !paused && c.isLeader(former);
    }

    /**
     * Who is asked, live over SQL, how far they have received WAL: a switchover's stopped leader asks its
     * candidates; a replica racing for the key that needs synchronous replication's quorum asks the sync key's
     * members, whose votes count only on such a live answer (their REST status may be a loop_wait old).
     */
    static List<String> receivedLsnToAsk(NodeMemory m, ClusterView c, PgStatus pg, NodeSettings self) {
        if (Switchovers.isHandingOver(m, c, pg, self.name())) {
            return m.handover().candidates();
        }
        if (HaPolicy.weighsPeersBeforeRacing(c, pg, self) && SyncPolicy.needsVotes(c, self)) {
            return SyncPolicy.voters(c, self.name());
        }
        return List.of();
    }
}
