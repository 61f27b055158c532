package io.pgkeel.agent.ha;

import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.Member;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * failsafe_mode's part of the decision (Patroni 3.0+, patroni/ha.py {@code _handle_dcs_error},
 * {@code check_failsafe_topology}, {@code _failsafe_config}, {@code is_failsafe_mode}; docs/dcs_failsafe_mode.rst),
 * with pgkeel's deadline: a primary keeps taking writes up to {@code sentAt + ttl} of the last round every member of
 * the failsafe topology accepted, and no member that accepted races before its own receipt time plus ttl
 * (docs/decisions.md, "failsafe_mode"). Pure, like {@link HaPolicy}.
 */
final class FailsafeRules {
    /** Patroni's sentence for a primary that every member confirmed while the DCS is not accessible. */
    static final String CONFIRMED = "continue to run as a leader because failsafe mode is enabled and all members are"
            + " accessible";
    static final String ASKING = "asking every member in the failsafe key to confirm this primary while DCS is not"
            + " accessible";
    static final String NOT_CONFIRMED = "demoting self because DCS is not accessible and not every member in the"
            + " failsafe key confirmed this primary";

    private FailsafeRules() {}

    /**
     * A running primary that cannot reach the DCS, with failsafe_mode on (the config key as last read): a failsafe
     * round every cycle while the lease or the last confirmed round still covers it (so the deadline moves before the
     * lease runs out), else a demotion. Empty when failsafe does not apply: failsafe_mode off, or the failsafe key as
     * last read does not name me (a key only tried to be written proves nothing: the members it names may not know
     * of it, and a member no key names may race).
     */
    static Optional<Action> primaryWithoutDcs(Observation o) {
        NodeSettings self = o.self();
        String me = self.name();
        ClusterView lastRead = o.memory().lastView();
        Map<String, String> topology = o.memory().failsafeTopology();
        boolean keyNamesMe = lastRead != null && lastRead.failsafe().map(f -> f.containsKey(me)).orElse(false);
        if (!self.dynamic().failsafeMode() || !keyNamesMe || !topology.containsKey(me)) {
            return Optional.empty();
        }
        long margin = self.fenceMarginNanos();
        boolean leaseSafe = o.lease().isSafeAt(o.nowNanos(), margin);
        Long until = o.memory().failsafeUntilNanos();
        boolean confirmed = until != null && o.nowNanos() - (until - margin) < 0;
        if (!leaseSafe && !confirmed) {
            return Optional.of(new Action.Demote(false, NOT_CONFIRMED));
        }
        Map<String, String> others = new HashMap<>(topology);
        others.remove(me);
        return Optional.of(new Action.FailsafeRound(others, confirmed ? CONFIRMED : ASKING));
    }

    /**
     * Why a replica that sees no leader key must not race for it: it promised a primary in failsafe mode; the
     * failsafe key exists and does not name it (stricter than Patroni, which asks this only with failsafe_mode on:
     * the leader deletes the key when failsafe_mode is off); or its agent started less than ttl ago with failsafe in
     * play (a restarted agent forgot the promises it gave). Empty when it may race.
     */
    static Optional<Action> beforeRacing(Observation o, ClusterView c) {
        NodeSettings self = o.self();
        long ttlNanos = TimeUnit.SECONDS.toNanos(self.dynamic().ttl());
        if (o.failsafeLeader().isPresent()) {
            FailsafePromise.FailsafeLeader p = o.failsafeLeader().get();
            // since the primary last asked, not from this member's ttl: the promise may be for the primary's longer one
            long agoSeconds = Math.max(0, o.nowNanos() - p.askedNanos()) / 1_000_000_000L;
            return Optional.of(new Action.Wait("not racing for the leader key: primary '" + p.name()
                    + "' runs in failsafe mode and asked me to keep following it " + agoSeconds + " s ago"));
        }
        Optional<Map<String, String>> key = c.failsafe();
        if (key.isPresent() && !key.get().containsKey(self.name())) {
            Optional<String> couldRunOnFailsafe = key.get().keySet().stream().sorted()
                    .filter(n -> !n.equals(self.name()) && !answeredAsRunningReplica(o, n)).findFirst();
            if (couldRunOnFailsafe.isPresent()) {
                return Optional.of(new Action.Wait("not racing for the leader key: the failsafe key does not name me"
                        + " and member '" + couldRunOnFailsafe.get() + "' it names did not answer as a replica"));
            }
        }
        Long started = o.memory().startedNanos();
        boolean recent = started == null || o.nowNanos() - started < ttlNanos;
        if (recent && (key.isPresent() || self.dynamic().failsafeMode())) {
            return Optional.of(new Action.Wait("not racing for the leader key within ttl of starting: a failsafe"
                    + " promise given before a restart may still run"));
        }
        return Optional.empty();
    }

    /**
     * {@code member} answered this cycle's {@code GET /patroni} with HTTP 200 as a running replica. A primary in
     * failsafe mode is always a member the failsafe key names (it runs on failsafe only while the key it last read
     * names it, and only it writes the key meanwhile); when every named member answered so, none is, and a member the
     * key does not name may race like any other (else a key naming only members that are behind would stop every
     * failover for good, as it does in Patroni). An answer that shows no running replica proves nothing: an agent
     * still starting answers a placeholder, and a member whose PostgreSQL is stopped may be about to start it.
     */
    private static boolean answeredAsRunningReplica(Observation o, String member) {
        return o.peers().stream().anyMatch(p -> p.name().equals(member) && p.answeredAsRunningReplica());
    }

    /** A standby holding the leader key does not promote while it promised a primary in failsafe mode. */
    static Optional<Action> beforePromoting(Observation o) {
        return o.failsafeLeader().map(p -> new Action.Wait("not promoting self although I hold the leader key: a"
                + " failsafe promise to primary '" + p.name() + "' runs for "
                + Math.max(0, p.untilNanos() - o.nowNanos()) / 1_000_000_000L + " more s"));
    }

    /**
     * The failsafe key the leader keeps (Patroni's {@code _failsafe_config}): every member key's api_url, and mine
     * (from my member key, or my settings when it is missing).
     */
    static Map<String, String> topology(Observation o, ClusterView c) {
        Map<String, String> want = new HashMap<>();
        for (Member m : c.members()) {
            if (m.apiUrl() != null && !m.apiUrl().isBlank()) {
                want.put(m.name(), m.apiUrl());
            }
        }
        if (!want.containsKey(o.self().name()) && o.self().apiUrl() != null) {
            want.put(o.self().name(), o.self().apiUrl());
        }
        return want;
    }

    /**
     * The failsafe key write the leader's routine cycle carries: with failsafe_mode on, the topology when the key
     * differs from it (one write per change); otherwise nothing.
     */
    static Optional<Map<String, String>> toWrite(Observation o, ClusterView c) {
        if (!o.self().dynamic().failsafeMode()) {
            return Optional.empty();
        }
        Map<String, String> want = topology(o, c);
        return want.isEmpty() || c.failsafe().map(want::equals).orElse(false) ? Optional.empty() : Optional.of(want);
    }

    /** With failsafe_mode off the leader deletes a failsafe key left behind (pgkeel only; docs/decisions.md). */
    static boolean toDelete(Observation o, ClusterView c) {
        return !o.self().dynamic().failsafeMode() && c.failsafe().isPresent();
    }
}
