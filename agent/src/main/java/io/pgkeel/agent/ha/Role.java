package io.pgkeel.agent.ha;

import io.pgkeel.common.pg.PgRunState;
import io.pgkeel.common.pg.PgStatus;
import java.util.List;
import java.util.Optional;

/**
 * The role of a node's PostgreSQL, and the table of which actions move it from which role to which. The loop checks
 * every role change against the table and logs the row's comment; a change the table does not list, after an
 * action that did not fail, is logged as a warning (a fault, or a gap in the table). The table is rendered into docs/architecture.md; a test keeps the two
 * equal. (pg_auto_failover's keeper keeps its state machine as such a table, {@code KeeperFSM}.)
 */
public enum Role {
    /** No data directory yet. */
    UNINITIALIZED,
    /** A data directory, no postmaster running. */
    STOPPED,
    /** Running (or starting) as a standby. */
    REPLICA,
    /** Running (or starting) as a primary: it takes writes. */
    PRIMARY;

    public static Role of(PgStatus pg) {
        if (!pg.initialized()) {
            return UNINITIALIZED;
        }
        if (pg.runState() == PgRunState.STOPPED) {
            return STOPPED;
        }
        return pg.inRecovery() ? REPLICA : PRIMARY;
    }

    /** One row: {@code action} moves a node from {@code from} to {@code to}, because of what {@code comment} says. */
    public record Transition(Role from, Class<? extends Action> action, Role to, String comment) {}

    private static Transition row(Role from, Class<? extends Action> action, Role to, String comment) {
        return new Transition(from, action, to, comment);
    }

    /**
     * Every role change an action that succeeded may make. An action that keeps the role (Restart, Follow, ...) has
     * no row; neither has a failed action's partial change (its error is logged instead).
     */
    public static final List<Transition> TRANSITIONS = List.of(
            row(UNINITIALIZED, Action.Bootstrap.class, PRIMARY, "initdb won the initialize key: the first primary"),
            row(UNINITIALIZED, Action.CloneFromLeader.class, REPLICA, "cloned from the leader, started as its standby"),
            row(REPLICA, Action.AcquireLeader.class, PRIMARY, "won the leader race: promoted"),
            row(REPLICA, Action.Promote.class, PRIMARY, "holds the leader key: promoted"),
            row(PRIMARY, Action.Demote.class, STOPPED, "lost the leader key or its lease: stopped at once"),
            row(PRIMARY, Action.Switchover.class, STOPPED, "switchover: stopped with a shutdown checkpoint"),
            row(STOPPED, Action.HandOver.class, REPLICA, "switchover: key handed over, started as the new leader's"
                    + " standby"),
            row(STOPPED, Action.StartPostgres.class, PRIMARY, "holds the leader key: started as primary"),
            row(STOPPED, Action.StartPostgres.class, REPLICA, "started as a standby"),
            row(STOPPED, Action.Rewind.class, REPLICA, "rewound from the leader, started as its standby"),
            row(REPLICA, Action.Rewind.class, STOPPED, "stopped to rewind; the leader is not ready for pg_rewind yet,"
                    + " or pg_rewind failed"),
            row(STOPPED, Action.RemoveDataDirectory.class, UNINITIALIZED, "pg_rewind failed: data directory removed,"
                    + " to be cloned anew"),
            row(STOPPED, Action.Reinitialize.class, REPLICA, "reinitialize: cloned anew from the leader"));

    /** The row for this change, if the table has one. */
    public static Optional<Transition> find(Role from, Action action, Role to) {
        return TRANSITIONS.stream()
                .filter(t -> t.from() == from && t.to() == to && t.action().isInstance(action))
                .findFirst();
    }
}
