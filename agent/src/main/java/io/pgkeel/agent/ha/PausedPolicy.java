package io.pgkeel.agent.ha;

import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.pg.PgRunState;
import io.pgkeel.common.pg.PgStatus;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Maintenance mode ({@code pause: true} in the config key), as Patroni's: the agents keep their keys, but never
 * start, stop, promote or demote PostgreSQL on their own. The lock holder that no longer runs as primary releases
 * the key; with no key, the running primary takes it; no replica is promoted, except the candidate an operator
 * named in a failover key. Pure. Every reason starts with "PAUSE: ".
 */
final class PausedPolicy {
    private PausedPolicy() {}

    static Action decide(Observation o) {
        if (!o.dcs().isReachable()) {
            return wait("DCS is not accessible");
        }
        String me = o.self().name();
        PgStatus pg = o.pg();
        ClusterView c = o.dcs().cluster();
        boolean iHoldKey = c.isLeader(me);
        if (!pg.initialized()) {
            return iHoldKey ? new Action.ReleaseLeader("PAUSE: releasing the leader key because my data directory is empty")
                    : wait("my data directory is empty");
        }
        Optional<String> clusterSysid = c.initialize().filter(s -> !s.isEmpty());
        if (clusterSysid.isPresent() && pg.systemIdentifier() != null && !clusterSysid.get().equals(pg.systemIdentifier())) {
            return wait("refusing to manage postgres: its system identifier " + pg.systemIdentifier()
                    + " is not the cluster's " + clusterSysid.get());
        }
        if (pg.runState() == PgRunState.STOPPED) {
            if (!iHoldKey) {
                return wait("postgres is not running");
            }
            // a switchover to a named candidate stopped me: hand over, as outside pause
            Optional<Action> handover = Switchovers.duringHandover(o, c);
            if (handover.isPresent()) {
                return handover.get();
            }
            if (o.memory().handover() != null && o.memory().handover().abandoned()) {
                // the switchover stopped me and could not complete: I stopped postgres, so I start it again (pause
                // keeps pgkeel from acting on its own, not from undoing its own half-done step)
                return new Action.StartPostgres(true, null, "PAUSE: starting postgres as primary again: the"
                        + " switchover was abandoned and I keep the leader key");
            }
            return new Action.ReleaseLeader("PAUSE: releasing the leader key because postgres is not running");
        }
        if (pg.runState() == PgRunState.STARTING) {
            return wait("waiting for postgres to start");
        }
        if (!pg.inRecovery()) {
            if (iHoldKey) {
                boolean keyOnMyLease = o.lease().isHeld() && c.leader().orElseThrow().leaseId() == o.lease().leaseId();
                if (!keyOnMyLease) {
                    return new Action.ReattachLeader("PAUSE: moving the leader key onto my current lease");
                }
                if (c.failover().isPresent()) {
                    Optional<Action> handover = Switchovers.fromLeader(o, c, c.failover().get());
                    if (handover.isPresent()) {
                        return handover.get();
                    }
                }
                Optional<Action> syncStep = SyncPolicy.leaderStep(o, c);
                if (syncStep.isPresent()) {
                    return syncStep.get(); // synchronous replication is kept up in pause too, as Patroni does
                }
                return HaPolicy.leadAsPrimary(o, c, "PAUSE: ");
            }
            if (c.isUnlocked()) {
                return o.lease().isHeld()
                        ? new Action.AcquireLeader(false, Set.of(), HaPolicy.failoverRevision(c),
                                "PAUSE: acquiring the leader key as the running primary")
                        : wait("not taking the leader key because I hold no lease");
            }
            return wait("continue to run as primary without lock");
        }
        if (iHoldKey) {
            return new Action.ReleaseLeader("PAUSE: releasing the leader key because postgres is not running as primary");
        }
        if (c.isUnlocked()) {
            Optional<String> refused = HaPolicy.refusedByConfigKey(o);
            if (refused.isPresent() && Switchovers.namesAsCandidate(c, me)) {
                return wait("not racing for the leader key to promote self: " + refused.get());
            }
            Optional<String> notSync = SyncPolicy.whyNotPromotable(o, c, o.peers());
            if (notSync.isPresent() && Switchovers.namesAsCandidate(c, me)) {
                return wait("not racing for the leader key to promote self: " + notSync.get());
            }
            if (Switchovers.namesAsCandidate(c, me) && o.lease().isHeld() && !o.self().nofailover()) {
                return new Action.AcquireLeader(true, HaPolicy.memberSlots(o, c, Set.of()), HaPolicy.failoverRevision(c),
                        SyncPolicy.beforePromote(o, c),
                        "PAUSE: racing for the leader key to promote self because the failover key names me");
            }
            return wait("continue to run as replica without lock");
        }
        String leader = c.leader().orElseThrow().name();
        if (!Objects.equals(pg.following(), leader) && HaPolicy.hasAddress(c.member(leader))) {
            return new Action.Follow(leader, "PAUSE: following new leader '" + leader + "'");
        }
        return wait("no action. I am (" + me + "), a secondary, and following a leader (" + leader + ")");
    }

    private static Action wait(String why) {
        return new Action.Wait("PAUSE: " + why);
    }
}
