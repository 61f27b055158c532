package io.pgkeel.agent.ha;

import io.pgkeel.common.pg.PgStatus;
import io.pgkeel.common.pg.PgSync;
import io.pgkeel.common.pg.SyncStandbyNames;
import java.util.Collection;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * The arithmetic that keeps synchronous replication from losing an acknowledged commit. Pure.
 *
 * <p>A commit is acknowledged once the primary and {@code num} of the standbys {@code synchronous_standby_names}
 * lists have flushed it ({@code FIRST n} waits for the first {@code n} connected ones in list order; not knowing
 * which, it is taken as any {@code n}). A candidate may be promoted in quorum mode once {@code quorum} + 1 members of
 * the sync key's leader and voters (itself counted when it is one) are known not to be ahead of it; in on mode only
 * the voters and the leader may be promoted, which is the same rule with quorum 0. The two are safe together when
 * every such set of members meets every set that can acknowledge a commit:
 * {@code num >= |voters| - quorum + |listed \ voters|} (or no voters: only the former leader can be promoted), the
 * invariant of Patroni's patroni/quorum.py written for sets.
 */
final class SyncRules {
    private SyncRules() {}

    /**
     * Who holds an acknowledged commit besides the primary: any {@code num} of {@code names} (lower case; {@code *}
     * stands for any standby at all).
     */
    record Commit(Set<String> names, int num) {
        /** Commits acknowledged by the primary alone (no synchronous standby). */
        static final Commit PRIMARY_ONLY = new Commit(Set.of(), 0);
        /** Nothing known: any standby, none required. */
        static final Commit UNKNOWN = new Commit(Set.of("*"), 0);

        Commit {
            names = Set.copyOf(names);
        }

        /** What a value of synchronous_standby_names guarantees; an unreadable one guarantees nothing. */
        static Commit of(String synchronousStandbyNames) {
            try {
                SyncStandbyNames ssn = SyncStandbyNames.parse(synchronousStandbyNames);
                Set<String> names = new HashSet<>(ssn.standbyNames());
                if (ssn.star()) {
                    names.add("*");
                }
                return new Commit(names, ssn.num());
            } catch (IllegalArgumentException e) {
                return UNKNOWN;
            }
        }

        /** Some commit can be acknowledged at all (the strict placeholder alone: none can; commits wait). */
        boolean canAck() {
            return num <= names.size() || names.contains("*");
        }
    }

    /** Lower case, as PostgreSQL compares standby names. */
    static Set<String> lower(Collection<String> names) {
        Set<String> out = new TreeSet<>();
        names.forEach(n -> out.add(n.toLowerCase(Locale.ROOT)));
        return out;
    }

    /**
     * The sync key ({@code voters}, {@code quorum}) promises no more than commits acknowledged under {@code c} keep:
     * no set of members that may promote one of them can miss an acknowledged commit. ({@code *} is counted as one
     * name outside the voters: sound only because the leader never aims at a {@code *} value and one is never
     * confirmed, see {@link Guarantee}.)
     */
    static boolean safe(Set<String> voters, int quorum, Commit c) {
        if (!c.canAck() || voters.isEmpty()) {
            return true;
        }
        Set<String> outside = new HashSet<>(c.names());
        outside.removeAll(voters);
        return c.num() >= voters.size() - quorum + outside.size();
    }

    /** What commits acknowledged under either of two values are known to have: the weaker of both. */
    static Commit weaker(Commit a, Commit b) {
        if (!a.canAck()) {
            return b;
        }
        if (!b.canAck()) {
            return a;
        }
        Set<String> names = new HashSet<>(a.names());
        names.addAll(b.names());
        return new Commit(names, Math.min(a.num(), b.num()));
    }

    /**
     * What this primary's acknowledged commits are known to be on, tracked across changes of
     * synchronous_standby_names (Patroni's "numsync_confirmed", patroni/postgresql/sync.py): a standby newly listed
     * counts only once it has flushed the primary's position at the time the new value was first seen in force;
     * until every listed standby has, commits acknowledged before the change are covered by the weaker of the old and
     * the new value.
     *
     * @param synchronousStandbyNames the value in force when last seen
     * @param sinceLsn                the primary's flush position (LSN) when that value was first seen
     * @param sinceNanos              when (monotonic)
     * @param effective               what every commit acknowledged so far is known to be on
     * @param pending                 listed standbys (lower case) not yet known to have flushed {@code sinceLsn}
     */
    record Guarantee(String synchronousStandbyNames, long sinceLsn, long sinceNanos, Commit effective,
                     Set<String> pending) {
        Guarantee {
            pending = Set.copyOf(pending);
        }

        /**
         * The guarantee after one more probe of a running primary; null when {@code pg} is not a running primary
         * that reported its value. After an agent (re)start or a promotion nothing is assumed beyond the primary
         * itself until the listed standbys have caught up.
         */
        static Guarantee next(Guarantee previous, PgStatus pg, long nowNanos) {
            PgSync sync = pg.sync();
            if (!pg.isRunningPrimary() || sync.synchronousStandbyNames() == null) {
                return null;
            }
            String value = sync.synchronousStandbyNames();
            Commit now = Commit.of(value);
            Guarantee g;
            if (previous == null || !previous.synchronousStandbyNames().equals(value)) {
                Commit before = previous == null ? Commit.PRIMARY_ONLY : previous.effective();
                // ('*' stays pending for ever: which standby acknowledged is never known)
                g = new Guarantee(value, pg.walPosition(), nowNanos, weaker(before, now), now.names());
            } else {
                g = previous;
            }
            Set<String> pending = new HashSet<>(g.pending());
            for (PgSync.WalSender w : sync.walSenders()) {
                if (w.streaming() && w.flushLsn() >= g.sinceLsn()) {
                    pending.remove(w.applicationName().toLowerCase(Locale.ROOT));
                }
            }
            // a value that acknowledges nothing (the strict placeholder) leaves the older commits' guarantee in force
            boolean confirmed = pending.isEmpty() && now.canAck();
            return new Guarantee(value, g.sinceLsn(), g.sinceNanos(), confirmed ? now : g.effective(), pending);
        }
    }
}
