package io.pgkeel.agent.ha;

import io.pgkeel.common.Lsn;
import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.FailoverKey;
import io.pgkeel.common.cluster.ScheduledAt;
import io.pgkeel.common.cluster.SyncMode;
import io.pgkeel.common.peer.PeerStatus;
import io.pgkeel.common.pg.PgRunState;
import io.pgkeel.common.pg.PgStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The {@code failover} key, as the leader and the racing replicas read it (Patroni's
 * {@code process_manual_failover_from_leader} and {@code manual_failover_process_no_leader}). Pure, like
 * {@link HaPolicy}.
 */
final class Switchovers {
    /** How long a switching-over leader waits for a candidate to receive its shutdown checkpoint. */
    static final long HANDOVER_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(5);

    private Switchovers() {}

    /** The failover key names {@code me} as the candidate. */
    static boolean namesAsCandidate(ClusterView c, String me) {
        return c.failover().map(f -> me.equals(f.member())).orElse(false);
    }

    /**
     * Whether {@link #fromLeader} will weigh the candidates this cycle, so the observer asks them (with their
     * received WAL asked live): I hold the key, run as primary, and the failover key is due.
     */
    static boolean leaderWeighsCandidates(ClusterView c, PgStatus pg, NodeSettings self, Instant wallNow) {
        return c.failover().isPresent() && isDue(c.failover().get(), wallNow, self.dynamic().loopWait())
                && c.isLeader(self.name()) && pg.isRunning() && !pg.inRecovery();
    }

    /**
     * Whether the leader should look at this failover key now: it is not scheduled, or its time is at most
     * {@code loop_wait} away (or unreadable, so that the leader clears it). The loop asks the candidates only then.
     */
    static boolean isDue(FailoverKey f, Instant now, int loopWait) {
        if (f.scheduledAt() == null) {
            return true;
        }
        try {
            return Duration.between(now, ScheduledAt.parse(f.scheduledAt()).toInstant()).getSeconds() <= loopWait;
        } catch (ScheduledAt.Invalid e) {
            return true;
        }
    }

    /**
     * The leader's answer to a failover key: a switchover, a key to clear, or (empty) nothing to do yet. A scheduled
     * switchover is carried out from {@code loop_wait} before its time; one whose time passed more than two
     * {@code loop_wait}s ago is stale and cleared, as Patroni does.
     */
    static Optional<Action> fromLeader(Observation o, ClusterView c, FailoverKey f) {
        String me = o.self().name();
        long rev = f.modRevision();
        boolean paused = o.self().dynamic().pause();
        Optional<String> forbidden = HaPolicy.refusedByConfigKey(o);
        if (forbidden.isPresent()) {
            // the candidate would refuse to promote (and must): stopping myself for it would leave no primary
            return clear(rev, "no standby may become primary while " + forbidden.get());
        }
        if (f.scheduledAt() != null) {
            Instant at;
            try {
                at = ScheduledAt.parse(f.scheduledAt()).toInstant();
            } catch (ScheduledAt.Invalid e) {
                return clear(rev, "its scheduled_at '" + f.scheduledAt() + "' is not an ISO 8601 time with a zone");
            }
            if (paused) {
                return clear(rev, "a scheduled switchover cannot run in pause mode");
            }
            long loopWait = o.self().dynamic().loopWait();
            if (!isDue(f, o.wallNow(), (int) loopWait)) {
                Action.LeadAsPrimary lead = HaPolicy.leadAsPrimary(o, c, "");
                return Optional.of(lead.withReason(lead.reason() + "; awaiting the switchover scheduled at " + at));
            }
            if (Duration.between(o.wallNow(), at).getSeconds() < -2 * loopWait) {
                return clear(rev, "its scheduled time " + at + " passed long ago");
            }
        }
        if (f.leader() != null && !f.leader().equals(me)) {
            return clear(rev, "it names '" + f.leader() + "' as the leader, not me");
        }
        if (me.equals(f.member())) {
            return clear(rev, "its candidate is me, the leader already");
        }
        if (paused && f.member() == null) {
            return clear(rev, "in pause mode a switchover needs a named candidate");
        }
        long myWal = o.pg().walPosition();
        long maxLag = o.self().dynamic().maximumLagOnFailover();
        List<PeerStatus> eligible = new ArrayList<>();
        List<String> refused = new ArrayList<>();
        for (PeerStatus p : o.peers()) {
            if (p.name().equals(me) || f.member() != null && !p.name().equals(f.member())) {
                continue;
            }
            Optional<String> why = whyNotCandidate(p, myWal, maxLag);
            if (why.isEmpty() && notSynchronous(o, c, p.name())) {
                // Patroni 4.1 (api.py is_failover_possible) in on mode; in quorum mode too (issue 12): a switchover
                // goes to a member the sync key names
                why = Optional.of(o.self().dynamic().sync().mode() == SyncMode.QUORUM
                        ? "is not a quorum standby (synchronous_mode is quorum)"
                        : "is not a synchronous standby (synchronous_mode is on)");
            }
            if (why.isEmpty()) {
                eligible.add(p);
            } else {
                refused.add("'" + p.name() + "' " + why.get());
            }
        }
        if (f.member() != null && c.member(f.member()).isEmpty()) {
            refused.add("'" + f.member() + "' is not a member of the cluster");
        }
        if (eligible.isEmpty()) {
            return clear(rev, "no member can take over: "
                    + (refused.isEmpty() ? "the cluster has no other members" : String.join("; ", refused)));
        }
        eligible.sort(Comparator.comparingLong(PeerStatus::walPosition).reversed()
                .thenComparing(Comparator.comparingInt(PeerStatus::failoverPriority).reversed()));
        List<String> names = eligible.stream().map(PeerStatus::name).toList();
        return Optional.of(new Action.Switchover(names, rev, "switching over to "
                + (f.member() != null ? "'" + f.member() + "'" : "the healthiest of " + names)
                + " as requested: stopping postgres with a checkpoint"));
    }

    /** A switchover stopped me, the key holder, and the key has not been handed over yet. */
    static boolean isHandingOver(NodeMemory m, ClusterView c, PgStatus pg, String me) {
        return m.handover() != null && !m.handover().abandoned() && pg.runState() == PgRunState.STOPPED
                && c.isLeader(me);
    }

    /**
     * The stopped leader's next step in a switchover: hand the key to the first candidate that has received the
     * shutdown checkpoint (it then has every committed transaction), wait a little longer, or give up after
     * {@link #HANDOVER_TIMEOUT_NANOS} and keep the key (the next cycle starts postgres as primary again: no
     * acknowledged write is lost either way). Empty when no switchover is in progress.
     */
    static Optional<Action> duringHandover(Observation o, ClusterView c) {
        NodeMemory.Handover h = o.memory().handover();
        if (!isHandingOver(o.memory(), c, o.pg(), o.self().name())) {
            return Optional.empty();
        }
        long checkpoint = o.pg().shutdownCheckpointLsn();
        if (checkpoint < 0) {
            return clear(h.failoverRevision(), "postgres did not report a clean shutdown checkpoint; keeping the"
                    + " leader key");
        }
        for (String candidate : h.candidates()) {
            Long received = o.receivedLsn().get(candidate);
            if (received != null && received >= checkpoint && c.member(candidate).isPresent()) {
                return Optional.of(new Action.HandOver(candidate, checkpoint, SyncPolicy.handedOver(o, c, candidate),
                        "switchover: '" + candidate
                        + "' has received the shutdown checkpoint " + Lsn.format(checkpoint)
                        + "; releasing the leader key"));
            }
        }
        if (o.nowNanos() - h.stoppedAtNanos() >= HANDOVER_TIMEOUT_NANOS) {
            return clear(h.failoverRevision(), "the switchover is abandoned: no candidate of " + h.candidates()
                    + " received the shutdown checkpoint " + Lsn.format(checkpoint) + " within "
                    + TimeUnit.NANOSECONDS.toMillis(HANDOVER_TIMEOUT_NANOS) + " ms; keeping the leader key, postgres"
                    + " restarts as primary");
        }
        return Optional.of(new Action.AwaitHandover("switchover: waiting for a candidate of " + h.candidates()
                + " to receive the shutdown checkpoint " + Lsn.format(checkpoint)));
    }

    /** Synchronous replication is on and my sync key does not name {@code name} as a synchronous or quorum standby. */
    static boolean notSynchronous(Observation o, ClusterView c, String name) {
        return o.self().dynamic().sync().mode().isOn()
                && c.sync().filter(k -> k.leaderIs(o.self().name())).map(k -> !k.matches(name, false)).orElse(false);
    }

    /** Why {@code p} cannot take over from a leader at {@code leaderWal}; empty when it can. */
    static Optional<String> whyNotCandidate(PeerStatus p, long leaderWal, long maxLag) {
        if (!p.reachable()) {
            return Optional.of("did not answer");
        }
        if (!p.running()) {
            return Optional.of("is not running");
        }
        if (!p.inRecovery()) {
            return Optional.of("is not a replica");
        }
        if (p.nofailover()) {
            return Optional.of("is tagged nofailover");
        }
        if (p.promisedFailsafe()) {
            // it would take the key and not promote until the promise ends, with no primary meanwhile
            return Optional.of("promised a primary in failsafe mode not to become primary for now");
        }
        if (p.replicationState() != null && !"streaming".equals(p.replicationState())) {
            return Optional.of("is not streaming");
        }
        long lag = leaderWal - p.walPosition();
        if (lag > maxLag) {
            return Optional.of("lags " + lag + " bytes behind, more than maximum_lag_on_failover (" + maxLag + ")");
        }
        return Optional.empty();
    }

    /**
     * A replica in a leaderless cluster with a failover key. Outer empty: no verdict from the key, apply the usual
     * healthiest-node checks (without the former leader). Otherwise the verdict: inner empty means race now.
     */
    static Optional<Optional<String>> withoutLeader(Observation o, FailoverKey f) {
        String me = o.self().name();
        if (f.scheduledAt() != null) {
            // a switchover planned for later says nothing about a leader that is gone now: race as usual
            return Optional.empty();
        }
        if (f.member() != null) {
            if (namesAsCandidate(o.dcs().cluster(), me)) {
                return Optional.of(Optional.empty());
            }
            // a candidate that will not promote would keep everyone waiting for ever (synchronous replication forbids
            // it); one past the end of its timeline would drop the newer timelines if it did (Patroni 4.1's
            // is_failover_possible leaves it out with check_timeline): the others race, it among them
            ClusterView c = o.dcs().cluster();
            boolean candidateHealthy = o.peers().stream()
                    .anyMatch(p -> p.name().equals(f.member()) && isHealthyReplica(o, p)
                            && SyncPolicy.mayBePromoted(o, c, p));
            if (candidateHealthy) {
                return Optional.of(Optional.of("the failover key names '" + f.member() + "' as the candidate"));
            }
        }
        if (me.equals(f.leader())) {
            // the member's own checks, as it applies them (HaPolicy.whyNotHealthiest): one lagging past
            // maximum_lag_on_failover behind the last optime does not race, so it cannot take the key (seed 396832)
            Optional<Long> last = o.dcs().cluster().lastLeaderLsn();
            long maxLag = o.self().dynamic().maximumLagOnFailover();
            boolean someoneElse = o.peers().stream().anyMatch(p -> !p.name().equals(me)
                    && !p.name().equals(f.member()) && isHealthyReplica(o, p)
                    && SyncPolicy.mayBePromoted(o, o.dcs().cluster(), p)
                    && !(last.isPresent() && last.get() - p.walPosition() > maxLag));
            return Optional.of(someoneElse
                    ? Optional.of("I handed the leader key over and another member can take it")
                    : Optional.empty());
        }
        return Optional.empty();
    }

    /**
     * A replica that could take the key: not one whose WAL went past the end of its timeline, which refuses to race
     * ({@link HaPolicy#whyNotHealthiest}); waiting for it would leave the cluster without a primary.
     */
    private static boolean isHealthyReplica(Observation o, PeerStatus p) {
        return p.reachable() && p.running() && p.inRecovery() && !p.nofailover()
                && !HaPolicy.provablyDiverged(p.timeline(), p.walPosition(), o.dcs().cluster().history());
    }

    private static Optional<Action> clear(long revision, String why) {
        return Optional.of(new Action.ClearFailoverKey(revision, "clearing the failover key because " + why));
    }
}
