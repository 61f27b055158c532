package io.pgkeel.agent.ha;

import io.pgkeel.common.Lsn;
import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.FailoverKey;
import io.pgkeel.common.cluster.Member;
import io.pgkeel.common.cluster.SyncKey;
import io.pgkeel.common.peer.PeerStatus;
import io.pgkeel.common.pg.PgRunState;
import io.pgkeel.common.pg.PgStatus;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The HA decision: a pure function of one {@link Observation}. No I/O, no clock, no logging; the loop logs the
 * returned action's reason. Safety rules, in order of precedence:
 * <ol>
 *   <li>A primary whose lease can no longer be confirmed (past {@code validUntil - fenceMargin}) demotes.</li>
 *   <li>Nobody promotes without holding the leader key on its current, safe lease.</li>
 *   <li>A primary that sees someone else holding the key demotes.</li>
 *   <li>A former primary rewinds before it follows a new leader.</li>
 * </ol>
 */
public final class HaPolicy {
    /** A standby that failed to start this often in a row is taken to have diverged from the leader. */
    static final int FAILED_STARTS_BEFORE_REWIND = 2;

    private HaPolicy() {}

    public static Action decide(Observation o) {
        boolean paused = o.self().dynamic().pause();
        Action base = paused ? PausedPolicy.decide(o) : decideActive(o);
        if (o.request().isPresent()) {
            return OperatorRequests.serve(o.request().get(), base, o);
        }
        return withParametersApplied(o, paused ? base : withReplicaSlotsDropped(o, base));
    }

    /**
     * A running PostgreSQL whose postgresql.conf does not hold the config key's {@code postgresql.parameters} gets
     * them in a routine cycle (in pause too: the operator changed them on purpose). The agent rewrites
     * postgresql.conf once after it starts or re-reads its own configuration (SIGHUP), too: the local file's
     * parameters, pg_hba or credentials may have changed.
     */
    static Action withParametersApplied(Observation o, Action decided) {
        Map<String, String> wanted = o.self().dynamic().pgParameters();
        if (!decided.traits().routine() || !o.pg().isRunning() || wanted.equals(o.pg().writtenParameters())) {
            return decided;
        }
        return new Action.ApplyParameters(wanted, o.pg().writtenParameters() == null
                ? "writing postgresql.conf and pg_hba.conf for the configuration in force and reloading: not written"
                        + " since the agent started or re-read its configuration, or the config key's pg_hba changed"
                : "postgresql.parameters changed in the config key: rewriting postgresql.conf and reloading");
    }

    /**
     * A replica with nothing else to do drops the cluster's slots it still has: the members' (kept from when it was
     * primary: pg_rewind and a demotion leave pg_replslot alone) and the permanent ones, which belong on the primary
     * only. Slots the cluster never had are not its business. (pgkeel does no cascading replication, so no slot of
     * the cluster's belongs on a replica.)
     */
    static Action withReplicaSlotsDropped(Observation o, Action decided) {
        if (!decided.traits().routine() || !o.dcs().isReachable() || !o.pg().isRunningReplica()) {
            return decided;
        }
        Set<String> cluster = new HashSet<>(o.self().dynamic().permanentSlots());
        cluster.addAll(o.memberSlotsSeenNanos().keySet());
        o.dcs().cluster().members().forEach(m -> cluster.add(Member.slotName(m.name())));
        Set<String> stale = new java.util.TreeSet<>(o.pg().slots());
        stale.retainAll(cluster);
        if (stale.isEmpty()) {
            return decided;
        }
        return new Action.DropReplicaSlots(stale, "dropping replication slots " + String.join(", ", stale)
                + " on this replica: kept from when it was primary, they would hold back its WAL");
    }

    private static Action decideActive(Observation o) {
        Optional<Action> afterFailedRewind = afterFailedRewind(o);
        if (afterFailedRewind.isPresent()) {
            return afterFailedRewind.get();
        }
        if (!o.dcs().isReachable()) {
            return decideWithoutDcs(o);
        }
        NodeSettings self = o.self();
        String me = self.name();
        PgStatus pg = o.pg();
        ClusterView c = o.dcs().cluster();
        boolean leaseSafe = o.lease().isSafeAt(o.nowNanos(), self.fenceMarginNanos());
        boolean iHoldKey = c.isLeader(me);
        boolean keyOnMyLease = iHoldKey && o.lease().isHeld() && c.leader().orElseThrow().leaseId() == o.lease().leaseId();

        if (!pg.initialized()) {
            return decideWithoutData(c, iHoldKey);
        }
        Optional<String> clusterSysid = c.initialize().filter(s -> !s.isEmpty());
        if (clusterSysid.isPresent() && pg.systemIdentifier() != null && !clusterSysid.get().equals(pg.systemIdentifier())) {
            return new Action.Wait("refusing to manage postgres: its system identifier " + pg.systemIdentifier()
                    + " is not the cluster's " + clusterSysid.get());
        }

        if (pg.runState() == PgRunState.STOPPED) {
            return decideWhileStopped(o, c, iHoldKey, keyOnMyLease, leaseSafe);
        }
        if (pg.runState() == PgRunState.STARTING) {
            if (iHoldKey && !pg.inRecovery() && !leaseSafe) {
                return new Action.Demote(false, "demoting self because the leader lease could not be renewed");
            }
            if (iHoldKey) {
                Optional<Action> letGo = letGoAfterPrimaryStartTimeout(o, c);
                if (letGo.isPresent()) {
                    return letGo.get();
                }
            }
            return new Action.Wait("waiting for postgres to start");
        }

        if (c.isUnlocked()) {
            return decideUnlocked(o, c);
        }
        if (iHoldKey) {
            if (!keyOnMyLease) {
                return new Action.ReattachLeader("moving the leader key onto my current lease");
            }
            if (!leaseSafe) {
                return pg.inRecovery()
                        ? new Action.Wait("not promoting because the leader lease could not be renewed")
                        : new Action.Demote(false, "demoting self because the leader lease could not be renewed");
            }
            if (pg.inRecovery()) {
                Optional<Action> promised = FailsafeRules.beforePromoting(o);
                if (promised.isPresent()) {
                    return promised.get();
                }
                Optional<String> refused = refusedByConfigKey(o);
                if (refused.isPresent()) {
                    // a standby cluster's standby leader, say: promoting it is what the operator's setting forbids
                    return new Action.Wait("not promoting self although I hold the leader key: " + refused.get());
                }
                Optional<String> notSync = SyncPolicy.whyNotPromotable(o, c, o.peers());
                if (notSync.isPresent()) {
                    return new Action.ReleaseLeader("releasing the leader key without promoting: " + notSync.get());
                }
                return new Action.Promote(memberSlots(o, c, Set.of()), SyncPolicy.beforePromote(o, c),
                        "promoting self because I hold the leader key");
            }
            if (c.failover().isPresent()) {
                Optional<Action> handover = Switchovers.fromLeader(o, c, c.failover().get());
                if (handover.isPresent()) {
                    return handover.get();
                }
            }
            Optional<Action> syncStep = SyncPolicy.leaderStep(o, c);
            if (syncStep.isPresent()) {
                return syncStep.get();
            }
            return leadAsPrimary(o, c, "");
        }

        String leader = c.leader().orElseThrow().name();
        if (!pg.inRecovery()) {
            return new Action.Demote(false, "demoting self because I do not have the lock and I was a leader");
        }
        if (pg.lastRunAsPrimary() && o.self().usePgRewind()) {
            if (!hasAddress(c.member(leader))) {
                return new Action.Wait("waiting for leader '" + leader + "' to publish its address");
            }
            return new Action.Rewind(leader, "rewinding from leader '" + leader
                    + "' because this node ran as a primary since it last followed one");
        }
        if (!Objects.equals(pg.following(), leader)) {
            if (!hasAddress(c.member(leader))) {
                return new Action.Wait("waiting for leader '" + leader + "' to publish its address");
            }
            return new Action.Follow(leader, "following new leader '" + leader + "'");
        }
        long ttlNanos = java.util.concurrent.TimeUnit.SECONDS.toNanos(self.dynamic().ttl());
        boolean leaderRunning = c.member(leader).map(Member::isRunning).orElse(false);
        NodeMemory.NotStreaming notStreaming = o.memory().notStreaming();
        // (a monotonic time may be negative: "none" is null, never a negative number)
        if (notStreaming != null && o.nowNanos() - notStreaming.sinceNanos() >= ttlNanos && leaderRunning) {
            // typically a standby that got further than the node that was promoted: its WAL diverged
            if (self.usePgRewind()) {
                return new Action.Rewind(leader, "rewinding from leader '" + leader
                        + "' because this replica could not stream from it for a whole ttl");
            }
            return self.removeDataDirectoryOnDivergedTimelines() && provablyDiverged(pg, c)
                    ? new Action.Reinitialize(leader, "reinitializing due to diverged timelines: this replica could"
                            + " not stream from leader '" + leader + "' for a whole ttl, use_pg_rewind is off and"
                            + " remove_data_directory_on_diverged_timelines is on")
                    : new Action.Wait("this replica cannot stream from leader '" + leader
                            + "'; enable use_pg_rewind or reinitialize it");
        }
        return new Action.Wait("no action. I am (" + me + "), a secondary, and following a leader (" + leader + ")");
    }

    /**
     * pg_rewind from the leader failed and PostgreSQL is stopped: this data directory cannot follow that leader as it
     * is. Removing it (then cloning anew) is the operator's choice, {@code remove_data_directory_on_rewind_failure} or
     * {@code remove_data_directory_on_diverged_timelines}, as in Patroni (patroni/postgresql/rewind.py); otherwise
     * it is kept and PostgreSQL stays stopped (a diverged former primary must not serve reads as a replica) until an
     * operator reinitializes the member, or a new leader gives pg_rewind another source. Empty when no failed
     * pg_rewind is pending.
     */
    private static Optional<Action> afterFailedRewind(Observation o) {
        String from = o.memory().rewindFailedFrom();
        if (from == null || !o.pg().initialized() || o.pg().runState() != PgRunState.STOPPED) {
            return Optional.empty();
        }
        // either switch allows it, as in Patroni's rewind.py (a failed pg_rewind leaves diverged timelines)
        String allowedBy = o.self().removeDataDirectoryOnRewindFailure() ? "remove_data_directory_on_rewind_failure"
                : o.self().removeDataDirectoryOnDivergedTimelines() ? "remove_data_directory_on_diverged_timelines" : null;
        if (allowedBy != null) {
            return Optional.of(new Action.RemoveDataDirectory("removing the data directory to clone it anew: pg_rewind"
                    + " from '" + from + "' failed and " + allowedBy + " is on"));
        }
        boolean anotherLeader = o.dcs().isReachable() && o.dcs().cluster().leader()
                .filter(l -> !l.name().equals(from) && !l.name().equals(o.self().name())).isPresent();
        if (anotherLeader) {
            return Optional.empty(); // try pg_rewind from the new leader
        }
        return Optional.of(new Action.Wait("not starting postgres: pg_rewind from '" + from + "' failed and"
                + " remove_data_directory_on_rewind_failure is off, so the data directory is kept; reinitialize this"
                + " member (pgkeel ctl reinit) to clone it anew"));
    }

    private static Action decideWithoutDcs(Observation o) {
        PgStatus pg = o.pg();
        boolean primaryish = pg.runState() != PgRunState.STOPPED && !pg.inRecovery();
        if (primaryish) {
            Optional<Action> failsafe = FailsafeRules.primaryWithoutDcs(o);
            if (failsafe.isPresent()) {
                return failsafe.get();
            }
            if (o.lease().isSafeAt(o.nowNanos(), o.self().fenceMarginNanos())) {
                return new Action.Wait("keeping primary while DCS is not accessible because the leader lease is still valid");
            }
            return new Action.Demote(false, "demoting self because DCS is not accessible and the leader lease could not be renewed");
        }
        if (pg.initialized() && pg.runState() == PgRunState.STOPPED) {
            return new Action.StartPostgres(false, null, "starting as a read-only replica because DCS is not accessible");
        }
        return new Action.Wait("DCS is not accessible");
    }

    private static Action decideWithoutData(ClusterView c, boolean iHoldKey) {
        if (iHoldKey) {
            return new Action.Demote(true, "releasing the leader key because my data directory is empty");
        }
        if (c.initialize().isEmpty() && c.isUnlocked()) {
            return new Action.Bootstrap("trying to bootstrap a new cluster");
        }
        Optional<Member> leader = c.leaderMember();
        if (leader.isPresent() && leader.get().isRunning() && hasAddress(leader)) {
            return new Action.CloneFromLeader(leader.get().name(),
                    "trying to bootstrap from leader '" + leader.get().name() + "'");
        }
        return new Action.Wait("waiting for leader to bootstrap");
    }

    private static Action decideWhileStopped(Observation o, ClusterView c, boolean iHoldKey, boolean keyOnMyLease,
                                             boolean leaseSafe) {
        PgStatus pg = o.pg();
        if (iHoldKey) {
            if (!keyOnMyLease) {
                return new Action.ReattachLeader("moving the leader key onto my current lease");
            }
            Optional<Action> handover = Switchovers.duringHandover(o, c);
            if (handover.isPresent()) {
                return handover.get();
            }
            if (!leaseSafe) {
                return new Action.Wait("not starting as primary because the leader lease could not be renewed");
            }
            Optional<Action> letGo = letGoAfterPrimaryStartTimeout(o, c);
            if (letGo.isPresent()) {
                return letGo.get();
            }
            Optional<String> refused = refusedByConfigKey(o);
            if (refused.isPresent() && !pg.lastRunAsPrimary()) {
                // a standby's data started as primary is a promotion; a primary restarting itself is not
                return new Action.Wait("not starting as primary although I hold the leader key: " + refused.get());
            }
            if (!pg.lastRunAsPrimary() && o.self().dynamic().sync().mode().isOn()) {
                // a standby's data started as primary is a promotion: it goes through Promote and its synchronous
                // replication step (sync key, synchronous_standby_names) instead
                return new Action.StartPostgres(false, null, "starting as a standby first: a standby's data becomes"
                        + " primary only through a promotion while synchronous replication is on");
            }
            return new Action.StartPostgres(true, null, "starting primary after failure");
        }
        if (c.leader().isPresent()) {
            String leader = c.leader().get().name();
            if (!hasAddress(c.member(leader))) {
                return new Action.Wait("waiting for leader '" + leader + "' to publish its address");
            }
            if (pg.lastRunAsPrimary() && o.self().usePgRewind()) {
                return new Action.Rewind(leader, "rewinding from leader '" + leader + "' because this node was a primary");
            }
            if (o.failedReplicaStarts() >= FAILED_STARTS_BEFORE_REWIND && o.self().usePgRewind()) {
                return new Action.Rewind(leader, "rewinding from leader '" + leader + "' because postgres failed to"
                        + " start as a replica " + o.failedReplicaStarts() + " times in a row");
            }
            // (without pg_rewind a stopped standby is not reinitialized here: it reports no WAL position, so nothing
            // proves it diverged; see provablyDiverged)
            return new Action.StartPostgres(false, leader, "starting as a replica of leader '" + leader + "'");
        }
        return new Action.StartPostgres(false, null, "starting as a read-only replica because there is no leader");
    }

    /**
     * Patroni's {@code primary_start_timeout} (patroni/ha.py): a leader whose PostgreSQL has not run for that long
     * (0: at once) lets a healthy replica take over instead of trying to start it again, if one can: stops a start
     * still in progress and releases the leader key. Without anyone to take over it keeps trying: a late primary is
     * better than none. A switchover's own stop is not counted (it has its own bound).
     */
    private static Optional<Action> letGoAfterPrimaryStartTimeout(Observation o, ClusterView c) {
        Long since = o.memory().primaryDownSinceNanos();
        int timeout = o.self().dynamic().primaryStartTimeout();
        if (since == null || o.nowNanos() - since < java.util.concurrent.TimeUnit.SECONDS.toNanos(timeout)) {
            return Optional.empty();
        }
        Optional<String> successor = failoverCandidate(o, c);
        if (successor.isEmpty()) {
            return Optional.empty();
        }
        String why = "postgres has not run as primary for " + (o.nowNanos() - since) / 1_000_000_000L
                + " s (primary_start_timeout " + timeout + " s) and member '" + successor.get() + "' can take over";
        return Optional.of(o.pg().runState() == PgRunState.STOPPED
                ? new Action.ReleaseLeader("releasing the leader key because " + why)
                : new Action.Demote(true, "stopping postgres and releasing the leader key because " + why));
    }

    /**
     * A member that could take over from me, as etcd shows it (Patroni's {@code is_failover_possible}): running as a
     * replica, not tagged nofailover, within {@code maximum_lag_on_failover} of the leader's last known position.
     */
    static Optional<String> failoverCandidate(Observation o, ClusterView c) {
        long leaderLsn = c.lastLeaderLsn().orElse(o.pg().walPosition());
        return c.members().stream()
                .filter(m -> !m.name().equals(o.self().name()) && m.isRunning() && !"primary".equals(m.role())
                        && !"master".equals(m.role()) && !m.nofailover()
                        && leaderLsn - m.xlogLocation() <= o.self().dynamic().maximumLagOnFailover()
                        && !provablyDiverged(m.timeline(), m.xlogLocation(), c.history()))
                .map(Member::name).sorted().findFirst();
    }

    private static Action decideUnlocked(Observation o, ClusterView c) {
        PgStatus pg = o.pg();
        if (!o.lease().isHeld()) {
            return pg.inRecovery()
                    ? new Action.Wait("not racing for the leader key because I hold no lease")
                    : new Action.Demote(false, "demoting self because I am a primary without the leader key or a lease");
        }
        if (!pg.inRecovery()) {
            Optional<Member> newer = c.members().stream()
                    .filter(m -> !m.name().equals(o.self().name()) && m.timeline() > pg.timeline()).findFirst();
            if (newer.isPresent()) {
                return new Action.Demote(false, "demoting self because member '" + newer.get().name()
                        + "' is on a newer timeline than mine");
            }
            return new Action.AcquireLeader(false, Set.of(), failoverRevision(c),
                    "acquiring the leader key as the running primary");
        }
        Optional<Action> failsafe = FailsafeRules.beforeRacing(o, c);
        if (failsafe.isPresent()) {
            return failsafe.get();
        }
        Optional<Action> afterPause = PausedPolicy.beforeRacingAfterPause(o, c);
        if (afterPause.isPresent()) {
            return afterPause.get();
        }
        Optional<String> refused = refusedByConfigKey(o);
        if (refused.isPresent()) {
            return new Action.Wait("not racing for the leader key to promote self: " + refused.get());
        }
        Optional<String> notSync = o.self().nofailover() ? Optional.empty() : SyncPolicy.whyNotPromotable(o, c, o.peers());
        if (notSync.isPresent()) {
            return new Action.Wait("not promoting: " + notSync.get());
        }
        Optional<String> why = whyNotHealthiest(o, c);
        if (why.isPresent()) {
            return new Action.Wait("following a different leader because i am not the healthiest node: " + why.get());
        }
        return new Action.AcquireLeader(true, memberSlots(o, c, Set.of()), failoverRevision(c),
                SyncPolicy.beforePromote(o, c), "racing for the leader key to promote self because i am the healthiest node");
    }

    /**
     * This node's WAL went past the point where its timeline ended in the cluster's history (the {@code history} key
     * the leader keeps: [timeline, switch LSN, ...]), so it cannot follow the leader without pg_rewind or a new copy.
     * Patroni makes the same comparison against the leader's timeline history before it removes anything
     * (rewind.py); without that proof (no history entry, no known position: a stopped node reports none) a replica
     * that cannot stream is kept, whatever the reason it cannot (pg_hba, max_wal_senders, the network).
     */
    static boolean provablyDiverged(PgStatus pg, ClusterView c) {
        return provablyDiverged(pg.timeline(), pg.walPosition(), c.history());
    }

    /**
     * Whether a member on {@code timeline} at {@code position} (bytes) has WAL past the end of that timeline as the
     * {@code history} key records it: its WAL past the switch LSN was abandoned by the promotion that began the next
     * timeline, and it lacks everything committed since. False without that proof (no entry for its timeline, no
     * known position).
     */
    static boolean provablyDiverged(int timeline, long position, List<List<Object>> history) {
        return position > 0 && endOfTimeline(timeline, history).filter(end -> position > end).isPresent();
    }

    /** The switch LSN that ended {@code timeline} in the {@code history} key; empty when it holds no entry for it. */
    static Optional<Long> endOfTimeline(int timeline, List<List<Object>> history) {
        for (List<Object> entry : history) {
            if (entry.size() >= 2 && entry.get(0) instanceof Number tl && tl.intValue() == timeline
                    && entry.get(1) instanceof Number switchLsn) {
                return Optional.of(switchLsn.longValue());
            }
        }
        return Optional.empty();
    }

    /**
     * Why no standby of this node may become primary now: the config key asks for a safety setting pgkeel cannot
     * honour yet (standby_cluster, ...; docs/decisions.md). Empty when none is set.
     */
    static Optional<String> refusedByConfigKey(Observation o) {
        List<String> refused = o.self().refusedSettings();
        return refused.isEmpty() ? Optional.empty() : Optional.of("the DCS config key asks for what pgkeel cannot"
                + " honour yet: " + String.join("; ", refused));
    }

    /** The failover key to delete once I hold the leader key: it has done its job (Patroni cleans it the same way). */
    static long failoverRevision(ClusterView c) {
        return c.failover().map(FailoverKey::modRevision).orElse(-1L);
    }

    /**
     * Whether {@link #whyNotHealthiest} will weigh the other members' answers this cycle, so the observer asks them:
     * a running replica racing for a free key, unless it is nofailover or the candidate a failover key names (that
     * one races without asking anyone: every millisecond is write downtime), except when synchronous replication's
     * quorum needs its votes.
     */
    static boolean weighsPeersBeforeRacing(ClusterView c, PgStatus pg, NodeSettings self) {
        return c.isUnlocked() && pg.isRunningReplica() && !self.nofailover()
                && (!Switchovers.namesAsCandidate(c, self.name()) || SyncPolicy.needsVotes(c, self));
    }

    /** Patroni's healthiest-node rules, on peer answers gathered before deciding. Empty means healthiest. */
    static Optional<String> whyNotHealthiest(Observation o, ClusterView c) {
        NodeSettings self = o.self();
        PgStatus pg = o.pg();
        if (self.nofailover()) {
            return Optional.of("this member is tagged nofailover");
        }
        if (provablyDiverged(pg, c)) {
            // before the failover key's verdicts: a member named there, or a former leader, must not promote either.
            // Patroni 4.1's check_timeline ("my timeline is behind last known cluster timeline") refuses more: also
            // a replica that merely lags on the older timeline, which maximum_lag_on_failover already weighs
            return Optional.of("my wal position " + Lsn.format(pg.walPosition()) + " is past the end of my timeline "
                    + pg.timeline() + " at " + Lsn.format(endOfTimeline(pg.timeline(), c.history()).orElseThrow())
                    + " in the history key: promoting me would drop what the newer timelines committed");
        }
        // in synchronous replication only the members the sync key names are weighed: an asynchronous standby may
        // have received more WAL, but it may not be promoted (Patroni weighs the same members)
        Optional<SyncKey> weighedOnly = self.dynamic().sync().mode().isOn()
                ? c.sync() : Optional.empty();
        String formerLeader = null;
        if (c.failover().isPresent()) {
            FailoverKey f = c.failover().get();
            Optional<Optional<String>> manual = Switchovers.withoutLeader(o, f);
            if (manual.isPresent()) {
                return manual.get();
            }
            formerLeader = f.leader();
        }
        Optional<Long> last = c.lastLeaderLsn();
        if (last.isPresent() && last.get() - pg.walPosition() > self.dynamic().maximumLagOnFailover()) {
            return Optional.of("my wal position exceeds maximum replication lag");
        }
        for (PeerStatus peer : o.peers()) {
            if (!peer.reachable() || peer.name().equals(self.name()) || peer.name().equals(formerLeader)) {
                continue;
            }
            if (peer.running() && !peer.inRecovery()) {
                return Optional.of("primary (" + peer.name() + ") is still alive");
            }
            if (peer.nofailover() || !peer.running()
                    || weighedOnly.isPresent() && !weighedOnly.get().matches(peer.name(), true)
                    || provablyDiverged(peer.timeline(), peer.walPosition(), c.history())) {
                // (a diverged member's higher LSN is abandoned WAL, and it does not race: deferring to it would leave
                // the cluster without a primary)
                continue;
            }
            if (peer.walPosition() > pg.walPosition() && !SyncPolicy.divergedBehind(peer, pg)) {
                return Optional.of("member " + peer.name() + " is ahead of me");
            }
            if (peer.walPosition() == pg.walPosition() && peer.failoverPriority() > self.failoverPriority()) {
                return Optional.of("member " + peer.name() + " has a higher failover priority");
            }
        }
        return Optional.empty();
    }

    /** @param reasonPrefix "PAUSE: " in maintenance mode, else empty */
    static Action.LeadAsPrimary leadAsPrimary(Observation o, ClusterView c, String reasonPrefix) {
        PgStatus pg = o.pg();
        Set<String> slots = memberSlots(o, c, pg.slots());
        // in pause nothing is dropped (Patroni neither): the operator may be moving members around
        Set<String> drop = reasonPrefix.isEmpty() ? departedMemberSlots(o, c, pg.slots()) : Set.of();
        String mine = Member.slotName(o.self().name());
        if (reasonPrefix.isEmpty() && pg.slots().contains(mine)) {
            // my own member slot here (an older pgkeel made it as a permanent slot, or an operator did): nothing
            // streams to me from myself, it only holds WAL back; Patroni drops it too (it is not in its slot list)
            drop = new HashSet<>(drop);
            drop.add(mine);
        }
        // as Patroni 4's status key: the members' slots here, those of departed members included, so that a leader
        // that never saw a departed member still knows its slot for one
        Set<String> retain = new HashSet<>(o.memberSlotsSeenNanos().keySet());
        retain.retainAll(pg.slots());
        retain.removeAll(drop);
        retain.removeAll(o.self().dynamic().permanentSlots());
        String sysidToWrite = c.initialize().filter(s -> !s.isEmpty()).isEmpty() ? pg.systemIdentifier() : null;
        // one history entry per timeline switch: behind when it has fewer entries than my timeline has parents
        boolean historyBehind = pg.timeline() > 1 && c.history().size() < pg.timeline() - 1;
        // the status key is written when it would change (Patroni skips the write the same way)
        NodeMemory.Status written = o.memory().statusWritten();
        boolean writeStatus = written == null || written.optime() != pg.walPosition()
                || !written.retainSlots().equals(retain);
        return new Action.LeadAsPrimary(pg.walPosition(), slots, drop, retain, writeStatus, sysidToWrite,
                c.config().isEmpty(), historyBehind, FailsafeRules.toWrite(o, c), FailsafeRules.toDelete(o, c),
                reasonPrefix + "no action. I am (" + o.self().name() + "), the leader with the lock");
    }

    /**
     * The physical slots the other members stream through, and the permanent ones ({@code permanent_slots}), minus
     * those that exist already. Like Patroni, only with {@code use_slots}.
     */
    static Set<String> memberSlots(Observation o, ClusterView c, Set<String> existing) {
        Set<String> slots = new HashSet<>();
        if (o.self().dynamic().useSlots()) {
            for (Member m : c.members()) {
                String slot = Member.slotName(m.name());
                if (!m.name().equals(o.self().name()) && !existing.contains(slot)) {
                    slots.add(slot);
                }
            }
            String mine = Member.slotName(o.self().name());
            for (String slot : o.self().dynamic().permanentSlots()) {
                // a permanent slot named like my own member slot is for streaming from the others to me: on me it
                // would only hold WAL back for ever (Patroni skips it the same way, get_replication_slots)
                if (!existing.contains(slot) && !slot.equals(mine)) {
                    slots.add(slot);
                }
            }
        }
        return slots;
    }

    /**
     * Slots on this primary that belonged to members gone from etcd for at least {@code member_slots_ttl}. Only
     * slots this agent saw as a member's: a slot an operator made for a backup tool or a standby outside the
     * cluster is never one of them (Patroni 3.0 drops every slot it does not know; pgkeel does not).
     */
    static Set<String> departedMemberSlots(Observation o, ClusterView c, Set<String> existing) {
        long ttlNanos = o.self().dynamic().memberSlotsTtl() * 1_000_000_000L;
        Set<String> present = clusterSlotsInUse(o, c);
        Set<String> drop = new HashSet<>();
        o.memberSlotsSeenNanos().forEach((slot, seen) -> {
            if (existing.contains(slot) && !present.contains(slot) && o.nowNanos() - seen >= ttlNanos) {
                drop.add(slot);
            }
        });
        return drop;
    }

    /** The slots of the members in etcd (mine included) and the permanent ones: never a departed member's. */
    private static Set<String> clusterSlotsInUse(Observation o, ClusterView c) {
        Set<String> present = new HashSet<>();
        c.members().forEach(m -> present.add(Member.slotName(m.name())));
        present.add(Member.slotName(o.self().name()));
        present.addAll(o.self().dynamic().permanentSlots());
        return present;
    }

    static boolean hasAddress(Optional<Member> m) {
        return m.isPresent() && m.get().connUrl() != null && !m.get().connUrl().isBlank();
    }
}
