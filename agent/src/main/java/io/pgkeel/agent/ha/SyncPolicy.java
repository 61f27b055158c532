package io.pgkeel.agent.ha;

import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.FailoverKey;
import io.pgkeel.common.cluster.Member;
import io.pgkeel.common.cluster.SyncKey;
import io.pgkeel.common.cluster.SyncMode;
import io.pgkeel.common.cluster.SyncSettings;
import io.pgkeel.common.peer.PeerStatus;
import io.pgkeel.common.pg.PgStatus;
import io.pgkeel.common.pg.PgSync;
import io.pgkeel.common.pg.SyncStandbyNames;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * Synchronous replication (Patroni's {@code synchronous_mode}: on, strict, quorum), decided purely like
 * {@link HaPolicy}: the leader's steps that bring {@code synchronous_standby_names} and the {@code sync} key to the
 * healthy standbys (patroni/ha.py {@code process_sync_replication}, patroni/quorum.py), what a standby does before
 * its promotion, and who may be promoted. The rule every step keeps is {@link SyncRules#safe}.
 */
final class SyncPolicy {
    /** How long the leader looks again every 100 ms for a newly listed standby to catch up (Patroni waits 2 s). */
    static final long CONFIRM_WINDOW_NANOS = TimeUnit.SECONDS.toNanos(2);

    private SyncPolicy() {}

    /**
     * The leader's next synchronous replication step, if one is due: I hold the key on a safe lease and run as
     * primary. Empty when both sides are where they should be (or nothing can be done safely this cycle).
     */
    static Optional<Action> leaderStep(Observation o, ClusterView c) {
        SyncSettings s = o.self().dynamic().sync();
        PgSync ps = o.pg().sync();
        if (ps.synchronousStandbyNames() == null) {
            return Optional.empty(); // not read this cycle: nothing to base a step on
        }
        String me = o.self().name();
        Optional<SyncKey> key = c.sync();
        if (!s.mode().isOn()) {
            if (key.isPresent()) {
                return Optional.of(new Action.DeleteSyncKey(key.get().modRevision(),
                        "disabling synchronous replication: synchronous_mode is off, deleting the sync key"));
            }
            if (ps.managed()) {
                return Optional.of(new Action.SetSyncStandbys(null, "disabling synchronous replication:"
                        + " synchronous_standby_names back to its configured value"));
            }
            return Optional.empty();
        }
        if (key.isEmpty() || !key.get().leaderIs(me)) {
            return Optional.of(new Action.WriteSyncKey(me, Set.of(), 0, key.map(SyncKey::modRevision).orElse(0L),
                    key.isEmpty() ? "enabling synchronous replication: writing the sync key with no synchronous standby"
                            : "the sync key names leader '" + key.get().leader() + "', not me: rewriting it with no"
                            + " synchronous standby"));
        }
        SyncRules.Guarantee g = o.memory().syncGuarantee();
        if (g == null) {
            return Optional.empty();
        }
        SyncKey k = key.get();
        Set<String> voters = new TreeSet<>(k.voters());
        voters.removeIf(v -> v.equalsIgnoreCase(me));
        Set<String> votersLower = SyncRules.lower(voters);
        int quorum = k.quorum();
        Target t = target(o, c, s, voters, quorum);
        boolean pgAtTarget = sameValue(ps.synchronousStandbyNames(), t.synchronousStandbyNames());
        boolean keyAtTarget = votersLower.equals(SyncRules.lower(t.voters())) && quorum == t.quorum();
        if (pgAtTarget && keyAtTarget) {
            return Optional.empty();
        }
        SyncRules.Commit wanted = SyncRules.Commit.of(t.synchronousStandbyNames());
        if (!pgAtTarget && SyncRules.safe(votersLower, quorum, wanted)) {
            return Optional.of(new Action.SetSyncStandbys(t.synchronousStandbyNames(), "assigning"
                    + " synchronous_standby_names to '" + t.synchronousStandbyNames() + "' (was '"
                    + ps.synchronousStandbyNames() + "')" + t.why()));
        }
        if (!keyAtTarget && SyncRules.safe(SyncRules.lower(t.voters()), t.quorum(), g.effective())) {
            return Optional.of(new Action.WriteSyncKey(me, t.voters(), t.quorum(), k.modRevision(),
                    "setting the sync key's synchronous standbys to " + names(t.voters()) + (s.mode() == SyncMode.QUORUM
                            ? ", quorum " + t.quorum() : "") + t.why()));
        }
        boolean catchingUp = !g.pending().isEmpty() && streamingAll(ps, g.pending());
        if (catchingUp) {
            return o.nowNanos() - g.sinceNanos() < CONFIRM_WINDOW_NANOS
                    ? Optional.of(new Action.AwaitSyncStandby("waiting for " + names(g.pending()) + " to catch up"
                            + " before naming it in the sync key"))
                    : Optional.empty();
        }
        if (!pgAtTarget && !voters.isEmpty()) {
            // no direct step is safe (a standby replaced by another, say): name no standby in the sync key for a
            // moment, so that no standby is promoted while synchronous_standby_names changes (Patroni's "updating
            // /sync key temporarily")
            return Optional.of(new Action.WriteSyncKey(me, Set.of(), 0, k.modRevision(), "updating the sync key"
                    + " temporarily to name no synchronous standby, so that synchronous_standby_names can change"
                    + t.why()));
        }
        return Optional.empty();
    }

    /**
     * Where the leader wants both sides: synchronous_standby_names, and the sync key's voters (member names as in
     * etcd) and quorum.
     */
    record Target(String synchronousStandbyNames, Set<String> voters, int quorum, String why) {}

    static Target target(Observation o, ClusterView c, SyncSettings s, Set<String> voters, int quorum) {
        List<String> active = candidates(o, c, s);
        boolean quorumMode = s.mode() == SyncMode.QUORUM;
        if (active.isEmpty()) {
            if (s.strict()) {
                // keep waiting for the standbys the sync key names: the first of them to come back releases the
                // commits; with none, wait for nobody that can answer (Patroni 4's placeholder)
                if (voters.isEmpty()) {
                    return new Target(SyncStandbyNames.STRICT_PLACEHOLDER, voters, quorum,
                            ": synchronous_mode_strict and no standby can be synchronous; commits wait");
                }
                int num = Math.max(1, voters.size() - quorum);
                return new Target(SyncStandbyNames.format(quorumMode, num, voters), voters, quorum,
                        ": synchronous_mode_strict and no standby can be synchronous; commits wait for the sync key's");
            }
            return new Target("", Set.of(), 0, ": no standby can be synchronous");
        }
        int wanted = s.nodeCount();
        List<String> picked;
        if (quorumMode) {
            // members that cannot be promoted only when needed to reach the count (Patroni 4.1)
            picked = new ArrayList<>();
            Map<String, Member> byName = membersByName(c);
            for (String name : active) {
                if (!byName.get(name.toLowerCase(Locale.ROOT)).nofailover() || picked.size() < wanted) {
                    picked.add(name);
                }
            }
            int num = Math.min(wanted, picked.size());
            Set<String> set = new TreeSet<>(picked);
            return new Target(SyncStandbyNames.format(true, num, set), set, set.size() - num, "");
        }
        picked = active.subList(0, Math.min(wanted, active.size()));
        Set<String> set = new TreeSet<>(picked);
        return new Target(SyncStandbyNames.format(false, set.size(), set), set, 0, "");
    }

    /**
     * The standbys that may be synchronous, best first (Patroni's {@code _ReplicaList}): streaming from me, members
     * in etcd and running, not tagged nosync, within {@code maximum_lag_on_syncnode} of the most advanced one;
     * ordered by not nofailover, sync_priority, already synchronous, flushed WAL, name. Member names as in etcd.
     */
    static List<String> candidates(Observation o, ClusterView c, SyncSettings s) {
        Map<String, Member> members = membersByName(c);
        String me = o.self().name().toLowerCase(Locale.ROOT);
        List<PgSync.WalSender> rows = new ArrayList<>();
        for (PgSync.WalSender w : o.pg().sync().walSenders()) {
            String n = w.applicationName() == null ? "" : w.applicationName().toLowerCase(Locale.ROOT);
            Member m = members.get(n);
            if (w.streaming() && m != null && !n.equals(me) && m.isRunning() && !m.nosync()) {
                rows.add(w);
            }
        }
        long maxLsn = rows.size() > 1 ? rows.stream().mapToLong(PgSync.WalSender::flushLsn).max().orElse(0)
                : o.pg().walPosition();
        Comparator<PgSync.WalSender> order = Comparator
                .comparing((PgSync.WalSender w) -> members.get(lowerName(w)).nofailover())
                .thenComparing(w -> -members.get(lowerName(w)).syncPriority())
                .thenComparing(w -> !("sync".equals(w.syncState()) || "quorum".equals(w.syncState())))
                .thenComparing(w -> -w.flushLsn())
                .thenComparing(SyncPolicy::lowerName);
        return rows.stream()
                .filter(w -> s.maximumLagOnSyncnode() <= 0 || maxLsn - w.flushLsn() <= s.maximumLagOnSyncnode())
                .sorted(order).map(w -> members.get(lowerName(w)).name()).distinct().toList();
    }

    /**
     * What a standby does before its promotion (Patroni's {@code process_sync_replication_prepromote}); with
     * synchronous_mode off, only synchronous_standby_names back to the configured value. On mode: the sync key names only me (strict: also the former leader and voters, and
     * commits wait for them) and synchronous_standby_names is set to match. Quorum mode: the former leader and
     * voters stay voters with the same quorum, and commits wait for enough of them that any quorum still meets them.
     * Each keeps every commit acknowledged before the promotion on a member that may be promoted after it.
     */
    static Action.SyncBeforePromote beforePromote(Observation o, ClusterView c) {
        SyncSettings s = o.self().dynamic().sync();
        if (!s.mode().isOn()) {
            // a value this data directory kept from an earlier life as a synchronous primary must not make the
            // first commits wait (nothing to do, and nothing written, when it has none)
            return Action.SyncBeforePromote.UNMANAGED;
        }
        String me = o.self().name();
        long rev = c.sync().map(SyncKey::modRevision).orElse(0L);
        Set<String> keep = new TreeSet<>();
        int quorum = 0;
        if (c.sync().isPresent() && !c.sync().get().leader().isEmpty()) {
            keep.addAll(c.sync().get().voters());
            keep.add(c.sync().get().leader());
            quorum = c.sync().get().quorum();
        }
        keep.removeIf(n -> n.equalsIgnoreCase(me));
        if (s.mode() == SyncMode.ON && !s.strict()) {
            return new Action.SyncBeforePromote(Set.of(), 0, "", rev);
        }
        if (s.mode() == SyncMode.ON) {
            quorum = 0;
        }
        int num = Math.max(keep.size() - quorum, s.strict() ? 1 : 0);
        String value = keep.isEmpty() ? (s.strict() ? SyncStandbyNames.STRICT_PLACEHOLDER : "")
                : SyncStandbyNames.format(s.mode() == SyncMode.QUORUM, Math.min(num, keep.size()), keep);
        return new Action.SyncBeforePromote(keep, keep.isEmpty() ? 0 : quorum, value, rev);
    }

    /**
     * Why this standby may not be promoted now under synchronous replication; empty when it may (or synchronous
     * replication is off, or not active yet: no sync key, as Patroni's {@code sync_mode_is_active}). An operator's
     * failover naming me (no leader in the failover key) is theirs to decide, as in Patroni.
     *
     * @param peers the other members' answers, when the decision weighs them (quorum votes)
     */
    static Optional<String> whyNotPromotable(Observation o, ClusterView c, List<PeerStatus> peers) {
        SyncSettings s = o.self().dynamic().sync();
        Optional<SyncKey> key = c.sync();
        if (!s.mode().isOn() || key.isEmpty()) {
            return Optional.empty();
        }
        String me = o.self().name();
        if (manualFailoverTo(c, me)) {
            return Optional.empty();
        }
        // (a switchover's candidate gets no exemption: its leader may have died before handing over, with the
        // candidate behind; a leader that hands over writes the sync key naming the candidate its leader first)
        SyncKey k = key.get();
        if (s.mode() == SyncMode.ON && !k.matches(me, true)) {
            return Optional.of("sync mode is on and I am not in the sync key");
        }
        // the sync key's quorum counts in on mode too: right after a change from quorum mode the leader may already
        // wait for fewer voters than the key names (with quorum 0, a member of the key needs no one else's vote)
        Set<String> voting = votingSet(k);
        long mine = o.pg().walPosition();
        int votes = voting.contains(me.toLowerCase(Locale.ROOT)) ? 1 : 0;
        boolean anyAhead = false;
        for (PeerStatus p : peers) {
            if (p.reachable() && !p.name().equals(me) && p.running() && p.walPosition() > mine
                    && !divergedBehind(p, o.pg())
                    && !HaPolicy.provablyDiverged(p.timeline(), p.walPosition(), c.history())) {
                anyAhead = true;
            }
        }
        // a vote counts only on a live answer: a member's REST status can be a whole loop_wait old, and the primary
        // may have committed past it before its fence stopped it (acknowledged by exactly that member)
        for (Map.Entry<String, Long> live : o.receivedLsn().entrySet()) {
            String name = live.getKey().toLowerCase(Locale.ROOT);
            if (!name.equals(me.toLowerCase(Locale.ROOT)) && voting.contains(name) && live.getValue() > 0
                    && live.getValue() <= mine) {
                votes++;
            }
        }
        if (votes >= k.quorum() + 1 || k.leaderIs(me) && !anyAhead) {
            return Optional.empty();
        }
        return Optional.of("only " + votes + " of the sync key's members (leader and voters " + names(voting)
                + ") are known not to be ahead of me, quorum " + k.quorum() + " needs " + (k.quorum() + 1));
    }

    /**
     * Whether {@code peer}, ahead of {@code mine} by LSN, is on a lower timeline: then its WAL past my timeline's fork
     * was abandoned by the promotion that began my timeline (commits acknowledged there would have been lost by that
     * promotion), so it is not ahead of the cluster's history, and it cannot be promoted without a rewind. Counting
     * it as ahead left a cluster with no primary for good: a former primary back as a standby on its old timeline
     * blocked every member of the new one (ChaosSimulationTest, seed 1832). Patroni 4.1 counts it as ahead too; its
     * check_timeline only keeps such a member itself out of the race.
     */
    static boolean divergedBehind(PeerStatus peer, PgStatus mine) {
        return peer.timeline() > 0 && mine.timeline() > 0 && peer.timeline() < mine.timeline();
    }

    /** The members whose vote counts toward the sync key's quorum: its leader and voters, lower case. */
    private static Set<String> votingSet(SyncKey k) {
        Set<String> voting = SyncRules.lower(k.voters());
        if (!k.leader().isEmpty()) {
            voting.add(k.leader().toLowerCase(Locale.ROOT));
        }
        return voting;
    }

    /** The sync key's leader and voters other than {@code me}, as etcd names them; empty without a key. */
    static List<String> voters(ClusterView c, String me) {
        List<String> out = new ArrayList<>();
        c.sync().ifPresent(k -> {
            k.voters().forEach(out::add);
            if (!k.leader().isEmpty()) {
                out.add(k.leader());
            }
        });
        out.removeIf(n -> n.equalsIgnoreCase(me));
        return out.stream().distinct().toList();
    }

    /** A failover key naming {@code me} and no leader: an operator's manual failover. */
    private static boolean manualFailoverTo(ClusterView c, String me) {
        Optional<FailoverKey> f = c.failover();
        return f.isPresent() && me.equals(f.get().member()) && (f.get().leader() == null || f.get().leader().isEmpty());
    }

    /**
     * Whether {@link #whyNotPromotable} needs the other members' answers to count votes: a sync key with a quorum
     * that does not name me its leader (the observer then asks them, even for a switchover's candidate).
     */
    static boolean needsVotes(ClusterView c, NodeSettings self) {
        String me = self.name();
        return self.dynamic().sync().mode().isOn() && !manualFailoverTo(c, me)
                && c.sync().filter(k -> !k.leaderIs(me) && (k.quorum() > 0 || !k.matches(me, false))).isPresent();
    }

    /**
     * Whether {@code peer} passes {@link #whyNotPromotable} as far as this node can tell from its own answers: a
     * member that waits for a candidate must not wait for one that synchronous replication forbids to promote.
     * Counts the votes the candidate would count, mine included: a voter not ahead of it on its own timeline (it asks
     * its voters only there; a former primary back on its abandoned timeline gathers none from the newer one, soak
     * seed 185401), and it takes the sync key's leadership as enough only with nobody ahead of it.
     */
    static boolean mayBePromoted(Observation o, ClusterView c, PeerStatus peer) {
        SyncSettings s = o.self().dynamic().sync();
        Optional<SyncKey> key = c.sync();
        String name = peer.name();
        if (!s.mode().isOn() || key.isEmpty() || manualFailoverTo(c, name)) {
            return true;
        }
        SyncKey k = key.get();
        if (s.mode() == SyncMode.ON && !k.matches(name, true)) {
            return false;
        }
        Set<String> voting = votingSet(k);
        int votes = voting.contains(name.toLowerCase(Locale.ROOT)) ? 1 : 0;
        PgStatus mine = o.pg();
        boolean anyAhead = mine.isRunning() && mine.walPosition() > peer.walPosition()
                && !(mine.timeline() > 0 && peer.timeline() > 0 && mine.timeline() < peer.timeline());
        if (mine.isRunning() && mine.walPosition() > 0 && mine.walPosition() <= peer.walPosition()
                && sameTimeline(mine.timeline(), peer.timeline())
                && voting.contains(o.self().name().toLowerCase(Locale.ROOT))) {
            votes++;
        }
        for (PeerStatus p : o.peers()) {
            if (!p.reachable() || !p.running() || p.name().equals(name) || p.name().equals(o.self().name())) {
                continue;
            }
            if (p.walPosition() > peer.walPosition() && !(p.timeline() > 0 && peer.timeline() > 0
                    && p.timeline() < peer.timeline())) {
                anyAhead = true;
            }
            if (p.walPosition() > 0 && p.walPosition() <= peer.walPosition()
                    && sameTimeline(p.timeline(), peer.timeline())
                    && voting.contains(p.name().toLowerCase(Locale.ROOT))) {
                votes++;
            }
        }
        return votes >= k.quorum() + 1 || k.leaderIs(name) && !anyAhead;
    }

    /** Two timelines a vote may cross: the same, or one not known (0: no answer says, as before timelines were asked). */
    private static boolean sameTimeline(int voter, int candidate) {
        return voter <= 0 || candidate <= 0 || voter == candidate;
    }

    /**
     * The sync key a switching-over leader hands to {@code candidate} once it has every byte up to the shutdown
     * checkpoint: the same members and quorum, the candidate as leader, me a voter. The set of members is unchanged,
     * so every other candidate needs the same quorum as before; the candidate itself holds every acknowledged commit.
     * Null without synchronous replication or a sync key of mine.
     */
    static Action.SyncBeforePromote handedOver(Observation o, ClusterView c, String candidate) {
        String me = o.self().name();
        if (!o.self().dynamic().sync().mode().isOn() || c.sync().isEmpty() || !c.sync().get().leaderIs(me)) {
            return null;
        }
        SyncKey k = c.sync().get();
        Set<String> voters = new TreeSet<>(k.voters());
        voters.add(me);
        voters.removeIf(v -> v.equalsIgnoreCase(candidate));
        return new Action.SyncBeforePromote(voters, k.quorum(), null, k.modRevision());
    }

    private static boolean sameValue(String running, String wanted) {
        if (running.equals(wanted)) {
            return true;
        }
        try {
            SyncStandbyNames a = SyncStandbyNames.parse(running);
            SyncStandbyNames b = SyncStandbyNames.parse(wanted);
            // ANY 1 (b) waits as b does, but PostgreSQL then reports b as "quorum", not "sync": on mode rewrites it
            // (Patroni 4.1's "ANY -> FIRST"), quorum mode the other way round
            return a.any() == b.any() && a.num() == b.num() && new HashSet<>(lowerAll(a.names())).equals(new HashSet<>(lowerAll(b.names())));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static List<String> lowerAll(List<String> names) {
        return names.stream().map(n -> n.toLowerCase(Locale.ROOT)).toList();
    }

    private static boolean streamingAll(PgSync ps, Set<String> names) {
        Set<String> streaming = new HashSet<>();
        ps.walSenders().stream().filter(PgSync.WalSender::streaming)
                .forEach(w -> streaming.add(lowerName(w)));
        return streaming.containsAll(names);
    }

    private static Map<String, Member> membersByName(ClusterView c) {
        Map<String, Member> out = new HashMap<>();
        c.members().forEach(m -> out.put(m.name().toLowerCase(Locale.ROOT), m));
        return out;
    }

    private static String lowerName(PgSync.WalSender w) {
        return w.applicationName() == null ? "" : w.applicationName().toLowerCase(Locale.ROOT);
    }

    private static String names(Set<String> names) {
        return names.isEmpty() ? "none" : "'" + String.join("', '", new TreeSet<>(names)) + "'";
    }
}
