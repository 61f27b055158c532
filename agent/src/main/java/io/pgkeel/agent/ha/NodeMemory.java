package io.pgkeel.agent.ha;

import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.DcsView;
import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.cluster.Member;
import io.pgkeel.common.pg.PgRunState;
import io.pgkeel.common.pg.PgStatus;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * What a node remembers from one cycle to the next, as a value. It changes only through two pure functions:
 * {@link #observed} (what a cycle's observation teaches, before deciding) and {@link #acted} (what carrying out the
 * decision changed). Both are tested by a table ({@code NodeMemoryTest}); the loop keeps the current value, on its
 * own thread. Times are monotonic nanoseconds.
 *
 * @param lease                  this agent's lease as last renewed (or not)
 * @param dynamic                the {@code config} key as last read; {@code bootstrap.dcs} until then
 * @param lastView               the last cluster view read, or null before the first successful read
 * @param dcsLastSeenEpochSeconds wall time of the last successful read (0: never)
 * @param lastAction             the last cycle's decision, or null before the first cycle
 * @param notStreaming           since when this standby, following its leader, has not streamed from it; null when it
 *                               streams (or is no standby)
 * @param failedReplicaStarts    how many times in a row PostgreSQL, started as a standby, stopped again before it ever
 *                               ran (its WAL went further than the leader's timeline fork, say)
 * @param replicaStarting        PostgreSQL started as a standby is still starting
 * @param memberSlotsSeenNanos   for each slot name of a member seen in etcd since this agent started: when it was last
 *                               seen; lets the leader drop the slots of members gone for longer than
 *                               {@code member_slots_ttl}, and only those
 * @param logicalSlotsConfigRevision the config key's revision whose logical permanent slots were last warned about
 * @param statusWritten          the {@code status} key as this node last wrote it as leader, or null
 * @param run                    what Patroni's callbacks need to know about PostgreSQL's last runs
 * @param handover               a switchover stopped PostgreSQL and waits for a candidate to receive the shutdown
 *                               checkpoint; null otherwise
 * @param rewindFailedFrom       the leader pg_rewind from failed, or null
 * @param primaryDownSinceNanos  since when this leader's PostgreSQL has not been running (stopped, or still starting)
 *                               while no switchover of its own stopped it; null when it runs or the key is not mine.
 *                               Measures Patroni's {@code primary_start_timeout}
 * @param syncGuarantee          what this running primary's acknowledged commits are known to be on (synchronous
 *                               replication); null when it is not a running primary
 * @param failsafeUntilNanos     a running primary's failsafe deadline: {@code sentAt + ttl} of the last failsafe round
 *                               every member accepted; null when there is none, or once the DCS is reachable again and
 *                               I hold the key (the lease is fresher), or PostgreSQL no longer runs as primary
 * @param failsafeWrites         the failsafe key values this node tried to write (oldest first) that may still land
 *                               or be in etcd unread: each stays until a write after it, or itself, was acknowledged
 *                               and read back (a write whose answer was lost may land after a later read, and name a
 *                               member that read did not); all forgotten when a read shows the leader key not mine
 * @param startedNanos           when this agent observed for the first time (null before): a restarted agent forgot
 *                               the failsafe promises it gave
 * @param pausedLeader           the member that held the leader key when this node last read the cluster paused
 *                               (and its api_url, to ask it after its member key lapsed too),
 *                               kept while the key is vacant (its lease may have lapsed in pause, where no fence stops
 *                               its PostgreSQL); null once a read shows the cluster not paused with a leader key, or
 *                               when no read showed a paused cluster with one. Read back from disk when the agent starts
 *                               (docs/decisions.md, "Pause mode turns the lease fence off")
 */
public record NodeMemory(LeaseStatus lease, DynamicConfig dynamic, ClusterView lastView, long dcsLastSeenEpochSeconds,
                         Action lastAction, NotStreaming notStreaming, int failedReplicaStarts, boolean replicaStarting,
                         Map<String, Long> memberSlotsSeenNanos, long logicalSlotsConfigRevision, Status statusWritten,
                         RunHistory run, Handover handover, String rewindFailedFrom, Long primaryDownSinceNanos,
                         SyncRules.Guarantee syncGuarantee, Long failsafeUntilNanos,
                         List<FailsafeWrite> failsafeWrites, Long startedNanos, PausedLeader pausedLeader) {

    public NodeMemory {
        memberSlotsSeenNanos = Map.copyOf(memberSlotsSeenNanos);
        failsafeWrites = List.copyOf(failsafeWrites);
    }

    /**
     * The members a failsafe round asks (name -> api_url): the {@code failsafe} key as last read, plus every value of
     * {@link #failsafeWrites} (a write whose answer was lost may have landed, or land later), the later write's
     * api_url winning. Empty before the first read.
     */
    public Map<String, String> failsafeTopology() {
        Map<String, String> asked = new HashMap<>(lastView == null ? Map.of() : lastView.failsafe().orElse(Map.of()));
        failsafeWrites.forEach(w -> asked.putAll(w.value()));
        return Map.copyOf(asked);
    }

    /**
     * A failsafe key value this node tried to write.
     *
     * @param acknowledged etcd answered that it is written (else the answer was lost, or the write never went out)
     */
    public record FailsafeWrite(Map<String, String> value, boolean acknowledged) {
        public FailsafeWrite {
            value = Map.copyOf(value);
        }
    }

    /**
     * The leader of a paused cluster.
     *
     * @param apiUrl its REST API's {@code api_url} from its member key, or null when this node never read one
     */
    public record PausedLeader(String name, String apiUrl) {}

    /** A standby that does not stream from {@code from}, the leader it follows, since {@code sinceNanos}. */
    public record NotStreaming(long sinceNanos, String from) {}

    /** The leader's {@code status} key: its WAL position (Patroni's optime) and the members' slots it keeps. */
    public record Status(long optime, Set<String> retainSlots) {
        public Status {
            retainSlots = Set.copyOf(retainSlots);
        }
    }

    /**
     * For Patroni's callbacks.
     *
     * @param lastRole        the role PostgreSQL last ran in ("primary", "replica"), or null if it has not run yet
     * @param runningLastCycle PostgreSQL ran at the end of the last cycle
     * @param restartPending  a restart was carried out and on_restart waits for PostgreSQL to run again
     */
    public record RunHistory(String lastRole, boolean runningLastCycle, boolean restartPending) {}

    /**
     * A switchover in progress: PostgreSQL stopped at {@code stoppedAtNanos}; the key goes to one of candidates. Once
     * {@code abandoned} (no candidate could take it), the key stays mine and PostgreSQL is to start as primary again,
     * in pause too: the operator asked for a switchover, not for a cluster without a primary.
     */
    public record Handover(List<String> candidates, long failoverRevision, long stoppedAtNanos, boolean abandoned) {
        public Handover {
            candidates = List.copyOf(candidates);
        }

        public Handover(List<String> candidates, long failoverRevision, long stoppedAtNanos) {
            this(candidates, failoverRevision, stoppedAtNanos, false);
        }

        Handover abandon() {
            return new Handover(candidates, failoverRevision, stoppedAtNanos, true);
        }
    }

    /** A callback to fire: Patroni's action name ("on_start", ...) and the role to pass. */
    public record CallbackCall(String action, String role) {}

    /** The memory after a cycle, and the callbacks that cycle fires. */
    public record Remembered(NodeMemory memory, List<CallbackCall> callbacks) {
        public Remembered {
            callbacks = List.copyOf(callbacks);
        }
    }

    /** A freshly started agent: no lease, no view, {@code bootstrap.dcs} in force. */
    public static NodeMemory initial(DynamicConfig bootstrapDynamic) {
        return initial(bootstrapDynamic, null);
    }

    /**
     * A freshly started agent that remembers, from disk, the leader of a paused cluster whose key may have lapsed.
     *
     * @param pausedLeader or null
     */
    public static NodeMemory initial(DynamicConfig bootstrapDynamic, PausedLeader pausedLeader) {
        return new NodeMemory(LeaseStatus.none(), bootstrapDynamic, null, 0, null, null, 0, false, Map.of(), -1, null,
                new RunHistory(null, false, false), null, null, null, null, null, List.of(), null,
                pausedLeader);
    }

    /**
     * What one cycle's observation teaches.
     *
     * @param read     the cluster as this cycle read it, or null when the read failed
     * @param dcs      the DCS as this cycle decides on it (unreachable also when the lease renewal after a successful
     *                 read failed)
     * @param me       this member's name
     * @param nowNanos the observation's time
     */
    public NodeMemory observed(ClusterView read, DcsView dcs, PgStatus pg, LeaseStatus renewed, String me,
                               long nowNanos, long wallEpochSeconds) {
        Builder b = new Builder(this);
        b.lease = renewed;
        if (startedNanos == null) {
            b.startedNanos = nowNanos;
        }
        if (read != null) {
            // a read showing the leader key not mine ends the term those writes were tried in: forget them, or
            // one lost then (never settled: the key may already hold what this node, leader again, would write)
            // would name a member at the address it had then, over the key a later leader wrote since (review13)
            b.failsafeWrites = read.isLeader(me) ? settled(failsafeWrites, read.failsafe()) : List.of();
            b.lastView = read;
            b.dcsLastSeenEpochSeconds = wallEpochSeconds;
            read.config().ifPresent(cfg -> {
                b.dynamic = cfg;
                b.logicalSlotsConfigRevision = cfg.modRevision();
            });
            b.pausedLeader = pausedLeaderAfter(read, b.dynamic.pause(), pausedLeader, me);
        }
        if (dcs.isReachable()) {
            if (!dcs.cluster().isLeader(me)) {
                b.handover = null; // the key is no longer mine to hand over
            }
            Map<String, Long> seen = new HashMap<>(memberSlotsSeenNanos);
            for (Member m : dcs.cluster().members()) {
                if (!m.name().equals(me)) {
                    seen.put(Member.slotName(m.name()), nowNanos);
                }
            }
            // departed members' slots a leader keeps, which this agent may never have seen as members: they get a
            // whole member_slots_ttl from now (later than their real departure: never dropped early)
            for (String slot : dcs.cluster().retainedSlots()) {
                seen.putIfAbsent(slot, nowNanos);
            }
            b.memberSlotsSeenNanos = seen;
        }
        if (pg.isRunningReplica() && pg.following() != null && !"streaming".equals(pg.replicationState())) {
            if (notStreaming == null || !pg.following().equals(notStreaming.from())) {
                b.notStreaming = new NotStreaming(nowNanos, pg.following());
            }
        } else {
            b.notStreaming = null;
        }
        // a standby start that ends in STOPPED without ever running counts as a failure; running resets the count
        // (PostgreSQL exits at once when its WAL is past the point where the leader's timeline forked off)
        boolean startedAsReplica = lastAction instanceof Action.StartPostgres sp && !sp.asPrimary()
                || lastAction instanceof Action.Restart r && !r.asPrimary();
        if (pg.runState() == PgRunState.RUNNING) {
            b.failedReplicaStarts = 0;
            b.replicaStarting = false;
        } else if (pg.runState() == PgRunState.STARTING) {
            b.replicaStarting = replicaStarting || startedAsReplica;
        } else if (startedAsReplica || replicaStarting) {
            b.failedReplicaStarts = failedReplicaStarts + 1;
            b.replicaStarting = false;
        }
        if (pg.runState() != PgRunState.STOPPED) {
            // postgres runs again: whatever a handover or a failed pg_rewind left to do is moot
            b.handover = null;
            b.rewindFailedFrom = null;
        }
        if (!pg.initialized()) {
            b.rewindFailedFrom = null;
        }
        if (pg.runState() == PgRunState.RUNNING || !pg.initialized()
                || dcs.isReachable() && !dcs.cluster().isLeader(me)) {
            b.primaryDownSinceNanos = null;
        } else if (dcs.isReachable() && b.handover == null && primaryDownSinceNanos == null) {
            // my PostgreSQL is down (stopped or starting) and I hold the key; a switchover's own stop does not count
            b.primaryDownSinceNanos = nowNanos;
        }
        b.syncGuarantee = SyncRules.Guarantee.next(syncGuarantee, pg, nowNanos);
        boolean primaryish = pg.runState() != PgRunState.STOPPED && !pg.inRecovery();
        if (!primaryish || dcs.isReachable() && dcs.cluster().isLeader(me)) {
            // the lease renewed with the key is the deadline again; a node not taking writes needs none
            b.failsafeUntilNanos = null;
        }
        return b.build();
    }

    /**
     * Who held the leader key of a paused cluster, after a read: the holder while the read shows the cluster paused
     * with a key; unchanged while the key is vacant (paused or not: the key lapsed, or was released, in pause), and
     * while that member still holds it outside pause (its agent may be dead since the pause, its key about to lapse);
     * forgotten once another member holds the key outside pause (it took the key on a lease in force, having waited for
     * the former holder). With the key vacant and nothing remembered, the one another member's key names as its
     * {@code paused_leader} is taken over: a member cut from etcd, or down, while the key lapsed in pause never saw it
     * held. Forgotten, finally, when that member's own key shows it cannot take writes unfenced ({@link
     * #answersOutsidePause(Member, ClusterView)}); {@link #acted} forgets it on its REST answer too.
     *
     * @param paused the config key in force after the read says {@code pause: true}
     */
    static PausedLeader pausedLeaderAfter(ClusterView read, boolean paused, PausedLeader before, String me) {
        Optional<String> holder = read.leader().map(l -> l.name());
        String name;
        if (holder.isPresent()) {
            boolean same = before != null && holder.get().equals(before.name());
            if (!paused && !same) {
                return null;
            }
            name = holder.get();
        } else if (before != null) {
            name = before.name();
        } else {
            name = read.members().stream().filter(m -> !m.name().equals(me) && m.pausedLeader() != null)
                    .map(Member::pausedLeader).sorted().findFirst().orElse(null);
            if (name == null) {
                return null;
            }
        }
        Optional<Member> key = read.member(name);
        if (!paused && key.isPresent() && answersOutsidePause(key.get(), read)) {
            return null;
        }
        // the address its member key shows now, else the one last seen (its member key lapses with its agent)
        String apiUrl = key.map(Member::apiUrl).filter(u -> u != null && !u.isEmpty())
                .orElse(before != null && before.name().equals(name) ? before.apiUrl() : null);
        return new PausedLeader(name, apiUrl);
    }

    /**
     * The former paused leader's member key, written by its live agent (the key lives on its lease), shows it cannot
     * take writes unfenced: it runs as a replica, or it was written after the config key's last change by an agent
     * deciding out of pause. The same evidence as its REST answer ({@link PausedPolicy#answersOutsidePause}), read
     * from etcd, for members that cannot reach its REST API.
     */
    static boolean answersOutsidePause(Member m, ClusterView read) {
        boolean runningReplica = "running".equals(m.state()) && "replica".equals(m.role());
        long configRevision = read.config().map(DynamicConfig::modRevision).orElse(Long.MAX_VALUE);
        return runningReplica || !m.pause() && m.modRevision() > configRevision;
    }

    /**
     * The failsafe writes still to ask for after a read that found {@code key}: the last acknowledged write whose value
     * the read shows, and every write tried before it, are settled (a write not committed when a later one was
     * committed and read back does not land any more: docs/decisions.md, "failsafe_mode"); a write never read back is
     * kept, however long.
     */
    static List<FailsafeWrite> settled(List<FailsafeWrite> writes, Optional<Map<String, String>> key) {
        for (int i = writes.size() - 1; i >= 0; i--) {
            FailsafeWrite w = writes.get(i);
            if (w.acknowledged() && key.isPresent() && key.get().equals(w.value())) {
                return writes.subList(i + 1, writes.size());
            }
        }
        return writes;
    }

    /**
     * What carrying out {@code action} changed, and the callbacks it fires.
     *
     * @param o        the observation the action was decided on (its memory is this one)
     * @param after    PostgreSQL as probed after acting (the observation's own probe when the action does not reprobe)
     * @param nowNanos the time after acting
     */
    public Remembered acted(Action action, Outcome outcome, Observation o, PgStatus after, long nowNanos) {
        Builder b = new Builder(this);
        b.lastAction = action;
        if (pausedLeader != null && o.dcs().isReachable() && !dynamic.pause()
                && o.peers().stream().anyMatch(p -> PausedPolicy.answersOutsidePause(p, pausedLeader.name()))) {
            // its agent answers, outside pause: it runs as a replica, or decides with its fence on (it stops writes
            // before its lease can lapse): the pause's hold on racing is over
            b.pausedLeader = null;
        }
        if (action instanceof Action.LeadAsPrimary lead && lead.failsafeToWrite().isPresent()) {
            // attempted, whatever the outcome: a write whose answer was lost may have landed, or land later; the
            // key write is the action's last step, so the action done means etcd acknowledged it
            // the same value tried again (a write failing every cycle) counts once, at its latest try: the list stays
            // as short as the distinct values, and a value settles no earlier than its last try
            List<FailsafeWrite> writes = new ArrayList<>(failsafeWrites);
            writes.removeIf(w -> w.value().equals(lead.failsafeToWrite().get()));
            writes.add(new FailsafeWrite(lead.failsafeToWrite().get(), outcome.ok()));
            b.failsafeWrites = writes;
        }
        if (action instanceof Action.FailsafeRound && outcome.failsafeConfirmedSentAt() != null) {
            long until = outcome.failsafeConfirmedSentAt() + TimeUnit.SECONDS.toNanos(dynamic.ttl());
            // never shorter than a deadline already confirmed: those promises still run (ttl may have shrunk)
            b.failsafeUntilNanos = failsafeUntilNanos != null && failsafeUntilNanos - until > 0 ? failsafeUntilNanos
                    : Long.valueOf(until);
        }
        if (outcome.ok()) {
            if (action instanceof Action.LeadAsPrimary lead) {
                if (lead.writeStatus()) {
                    b.statusWritten = new Status(lead.optime(), lead.slotsToRetain());
                }
                Map<String, Long> seen = new HashMap<>(memberSlotsSeenNanos);
                seen.keySet().removeAll(outcome.droppedSlots());
                // forget members long gone whose slot is not here (never made, or dropped by hand): the map stays small
                long ttlNanos = dynamic.memberSlotsTtl() * 1_000_000_000L;
                seen.entrySet().removeIf(e -> o.nowNanos() - e.getValue() >= ttlNanos
                        && !o.pg().slots().contains(e.getKey()));
                b.memberSlotsSeenNanos = seen;
            } else if (action instanceof Action.Switchover s) {
                b.handover = new Handover(s.candidates(), s.failoverRevision(), nowNanos);
            } else if (action instanceof Action.HandOver h) {
                b.statusWritten = new Status(h.checkpointLsn(),
                        statusWritten == null ? Set.of() : statusWritten.retainSlots());
                b.handover = null;
            } else if (action instanceof Action.ClearFailoverKey) {
                // a switchover given up: the key stays mine and PostgreSQL starts as primary again
                b.handover = handover == null ? null : handover.abandon();
            } else if (action instanceof Action.RemoveDataDirectory) {
                b.rewindFailedFrom = null;
            }
        }
        if (action instanceof Action.StartPostgres && handover != null && handover.abandoned()) {
            // started again (or tried to): from here on a failed start is measured by primary_start_timeout
            b.handover = null;
        }
        if (action instanceof Action.Rewind r && outcome.rewindFailed()) {
            b.rewindFailedFrom = r.leader();
        }
        List<CallbackCall> calls = new ArrayList<>();
        b.run = callbacks(action.traits().callback(), o.pg(), after, calls);
        return new Remembered(b.build(), calls);
    }

    /**
     * Patroni's callback points: on_stop when pgkeel stopped a running PostgreSQL, on_restart after a requested
     * restart, on_role_change when it runs again in another role, on_start when it runs again in the same one.
     */
    private RunHistory callbacks(Action.Callback callback, PgStatus before, PgStatus after, List<CallbackCall> calls) {
        if (callback == Action.Callback.ON_STOP && before.isRunning() && run.lastRole() != null) {
            calls.add(new CallbackCall("on_stop", run.lastRole()));
        }
        boolean restartPending = run.restartPending() || callback == Action.Callback.ON_RESTART;
        String lastRole = run.lastRole();
        if (after.isRunning()) {
            String role = after.inRecovery() ? "replica" : "primary";
            if (restartPending) {
                calls.add(new CallbackCall("on_restart", role));
                restartPending = false;
            } else if (lastRole != null && !role.equals(lastRole)) {
                calls.add(new CallbackCall("on_role_change", role));
            } else if (!run.runningLastCycle()) {
                calls.add(new CallbackCall("on_start", role));
            }
            lastRole = role;
        }
        return new RunHistory(lastRole, after.isRunning(), restartPending);
    }

    /** A copy to change field by field, inside the two transitions and in tests. */
    static final class Builder {
        LeaseStatus lease;
        DynamicConfig dynamic;
        ClusterView lastView;
        long dcsLastSeenEpochSeconds;
        Action lastAction;
        NotStreaming notStreaming;
        int failedReplicaStarts;
        boolean replicaStarting;
        Map<String, Long> memberSlotsSeenNanos;
        long logicalSlotsConfigRevision;
        Status statusWritten;
        RunHistory run;
        Handover handover;
        String rewindFailedFrom;
        Long primaryDownSinceNanos;
        SyncRules.Guarantee syncGuarantee;
        Long failsafeUntilNanos;
        List<FailsafeWrite> failsafeWrites;
        Long startedNanos;
        PausedLeader pausedLeader;

        Builder(NodeMemory m) {
            lease = m.lease;
            dynamic = m.dynamic;
            lastView = m.lastView;
            dcsLastSeenEpochSeconds = m.dcsLastSeenEpochSeconds;
            lastAction = m.lastAction;
            notStreaming = m.notStreaming;
            failedReplicaStarts = m.failedReplicaStarts;
            replicaStarting = m.replicaStarting;
            memberSlotsSeenNanos = m.memberSlotsSeenNanos;
            logicalSlotsConfigRevision = m.logicalSlotsConfigRevision;
            statusWritten = m.statusWritten;
            run = m.run;
            handover = m.handover;
            rewindFailedFrom = m.rewindFailedFrom;
            primaryDownSinceNanos = m.primaryDownSinceNanos;
            syncGuarantee = m.syncGuarantee;
            failsafeUntilNanos = m.failsafeUntilNanos;
            failsafeWrites = m.failsafeWrites;
            startedNanos = m.startedNanos;
            pausedLeader = m.pausedLeader;
        }

        NodeMemory build() {
            return new NodeMemory(lease, dynamic, lastView, dcsLastSeenEpochSeconds, lastAction, notStreaming,
                    failedReplicaStarts, replicaStarting, memberSlotsSeenNanos, logicalSlotsConfigRevision,
                    statusWritten, run, handover, rewindFailedFrom, primaryDownSinceNanos, syncGuarantee,
                    failsafeUntilNanos, failsafeWrites, startedNanos, pausedLeader);
        }
    }

    /** A copy to change (tests build memories this way). */
    Builder edit() {
        return new Builder(this);
    }
}
