package io.pgkeel.agent.ha;

import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.peer.PeerStatus;
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
                Optional<Action> hold = beforeRacingAfterPause(o, c);
                if (hold.isPresent()) {
                    return hold.get();
                }
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

    /**
     * Before a replica races for a vacant leader key, outside pause and in pause (a failover key's candidate): the
     * member that held it while the cluster was paused must have answered, this cycle, as a running replica or from
     * outside pause. In pause neither the lease fence nor the fence guard stops a primary whose lease lapses (its agent
     * killed, frozen, stopped for an upgrade, or cut from etcd), so a vacant key says nothing about whether that
     * PostgreSQL still takes writes; its agent, back or reachable, takes the key again as the running primary, or (not
     * paused, without the key) demotes and answers as a replica. Patroni races here (its watchdog is off in pause, too)
     * and can make a second primary; pgkeel waits. Only a failover key naming me without a leader (a failover, not a
     * switchover) passes: the operator's word that the former primary is down, as in Patroni, unless that member
     * answers as a running primary (cut from etcd but not from me, say) or my WAL receiver still streams from it
     * while it does not answer as a running replica, which the word cannot outweigh. A switchover from the paused
     * leader needs that leader alive to hand over. (docs/decisions.md, "Pause mode turns the lease fence off".)
     */
    static Optional<Action> beforeRacingAfterPause(Observation o, ClusterView c) {
        String former = o.memory().pausedLeader() == null ? null : o.memory().pausedLeader().name();
        String me = o.self().name();
        if (former == null || former.equals(me)) {
            return Optional.empty();
        }
        boolean failoverToMe = c.failover().map(f -> me.equals(f.member()) && f.leader() == null).orElse(false);
        boolean formerRunsAsPrimary = o.peers().stream().anyMatch(p -> p.name().equals(former) && p.reachable()
                && p.running() && !p.inRecovery());
        // a former that answers as a running replica (demoted by hand to a cascading standby, its agent back) takes
        // no writes, though my WAL receiver streams from it: the hold would then last until someone re-pointed me
        boolean formerAnswersAsReplica = o.peers().stream()
                .anyMatch(p -> p.name().equals(former) && p.answeredAsRunningReplica());
        if (failoverToMe && streamsFrom(o.pg(), former) && !formerAnswersAsReplica) {
            return Optional.of(new Action.Wait((o.self().dynamic().pause() ? "PAUSE: " : "") + "not racing for the"
                    + " leader key on the failover key: my WAL receiver still streams from member '" + former + "',"
                    + " which held the key while the cluster was paused, so its PostgreSQL still runs (with the fence"
                    + " off in pause it may take writes); stop it, or let its agent take the leader key back"));
        }
        if (failoverToMe && !formerRunsAsPrimary) {
            return Optional.empty();
        }
        if (o.peers().stream().anyMatch(p -> answersOutsidePause(p, former))
                || c.member(former).filter(m -> NodeMemory.answersOutsidePause(m, c)).isPresent()) {
            return Optional.empty(); // its REST answer, or its member key (for a member that cannot reach its REST API)
        }
        return Optional.of(new Action.Wait((o.self().dynamic().pause() ? "PAUSE: " : "") + "not racing for the leader"
                + " key: it was vacated while the cluster was paused and member '" + former + "', its holder then, has"
                + " not answered as a running replica or as out of pause (with the fence off in pause its PostgreSQL may"
                + " still take writes); start its agent, or run a failover to a candidate once its PostgreSQL is known"
                + " to be stopped"));
    }

    /**
     * My WAL receiver streams from {@code former} now (pg_stat_wal_receiver's status "streaming", upstream as
     * primary_conninfo names it): its postmaster runs and sends WAL, whatever its agent says or does not say. A
     * machine that is gone stops the stream (at the latest after wal_receiver_timeout, 60 s by default), so this holds
     * a failover back only while that PostgreSQL is evidently up.
     */
    static boolean streamsFrom(PgStatus pg, String former) {
        return pg.isRunningReplica() && former.equals(pg.following()) && "streaming".equals(pg.replicationState());
    }

    /**
     * {@code p} is {@code former}'s answer, and it shows that node cannot take writes unfenced: it runs as a replica,
     * or its agent has read a config key that does not pause the cluster, so it decides with its lease fence on (a
     * primary without the key then demotes, and one running as primary makes the others' healthiest-node check say
     * "still alive"). Silence, a placeholder or a paused answer proves nothing.
     */
    static boolean answersOutsidePause(PeerStatus p, String former) {
        return p.name().equals(former) && (p.answeredAsRunningReplica() || p.reachable() && !p.paused());
    }

    private static Action wait(String why) {
        return new Action.Wait("PAUSE: " + why);
    }
}
