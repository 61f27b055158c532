package io.pgkeel.agent.ha;

import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.pg.PgStatus;
import java.util.Map;

/**
 * What the HA loop publishes once per cycle for the REST API: handlers answer from this, never from JDBC/etcd.
 * Between cycles the {@link HealthRefresher} republishes it when the postmaster contradicts {@code pg}.
 *
 * @param cluster         the last cluster view read, or null if none yet
 * @param dcsReachable    whether this cycle's DCS read succeeded
 * @param holdsLeaderKey  this node holds the leader key on its current lease
 * @param lastCycleNanos  monotonic time the cycle finished (for /liveness)
 * @param dcsLastSeenEpochSeconds wall time of the last successful DCS contact
 * @param scheduledRestart the restart an operator planned for later, or null
 * @param failsafe        failsafe_mode as this node runs it (never null)
 * @param paused          this node decides in maintenance mode: the config key in force says {@code pause: true}
 *                        (the last one read, else bootstrap.dcs); what {@code GET /patroni} says as {@code "pause"}
 */
public record NodeSnapshot(NodeIdentity identity, PgStatus pg, ClusterView cluster, boolean dcsReachable,
                           boolean holdsLeaderKey, String lastAction, String lastReason, long lastCycleNanos,
                           long dcsLastSeenEpochSeconds, int ttl, int loopWait, ScheduledRestart scheduledRestart,
                           FailsafeState failsafe, boolean paused) {

    /**
     * failsafe_mode on this node, for {@code GET /failsafe}, {@code /patroni} and the metrics (Patroni 3.0+).
     *
     * @param enabled  failsafe_mode is in force (the config key as last read)
     * @param topology the {@code failsafe} key as last read (member name -> api_url); empty when there is none
     * @param active   on a primary: its last failsafe round was confirmed by every member and the DCS is not
     *                 accessible now; on a replica: a promise to a primary in failsafe mode runs
     */
    public record FailsafeState(boolean enabled, Map<String, String> topology, boolean active) {
        public static final FailsafeState OFF = new FailsafeState(false, Map.of(), false);

        public FailsafeState {
            topology = Map.copyOf(topology);
        }
    }

    public NodeSnapshot {
        failsafe = failsafe == null ? FailsafeState.OFF : failsafe;
    }

    /** Paused as the cluster view says. */
    public NodeSnapshot(NodeIdentity identity, PgStatus pg, ClusterView cluster, boolean dcsReachable,
                        boolean holdsLeaderKey, String lastAction, String lastReason, long lastCycleNanos,
                        long dcsLastSeenEpochSeconds, int ttl, int loopWait, ScheduledRestart scheduledRestart,
                        FailsafeState failsafe) {
        this(identity, pg, cluster, dcsReachable, holdsLeaderKey, lastAction, lastReason, lastCycleNanos,
                dcsLastSeenEpochSeconds, ttl, loopWait, scheduledRestart, failsafe,
                cluster != null && cluster.config().map(c -> c.pause()).orElse(false));
    }

    /** A snapshot without failsafe_mode. */
    public NodeSnapshot(NodeIdentity identity, PgStatus pg, ClusterView cluster, boolean dcsReachable,
                        boolean holdsLeaderKey, String lastAction, String lastReason, long lastCycleNanos,
                        long dcsLastSeenEpochSeconds, int ttl, int loopWait, ScheduledRestart scheduledRestart) {
        this(identity, pg, cluster, dcsReachable, holdsLeaderKey, lastAction, lastReason, lastCycleNanos,
                dcsLastSeenEpochSeconds, ttl, loopWait, scheduledRestart, FailsafeState.OFF);
    }

    /** A snapshot with no restart planned. */
    public NodeSnapshot(NodeIdentity identity, PgStatus pg, ClusterView cluster, boolean dcsReachable,
                        boolean holdsLeaderKey, String lastAction, String lastReason, long lastCycleNanos,
                        long dcsLastSeenEpochSeconds, int ttl, int loopWait) {
        this(identity, pg, cluster, dcsReachable, holdsLeaderKey, lastAction, lastReason, lastCycleNanos,
                dcsLastSeenEpochSeconds, ttl, loopWait, null);
    }

    /** This snapshot with PostgreSQL as {@code fresh} (the {@link HealthRefresher}'s correction between cycles). */
    public NodeSnapshot withPg(PgStatus fresh) {
        return new NodeSnapshot(identity, fresh, cluster, dcsReachable, holdsLeaderKey, lastAction, lastReason,
                lastCycleNanos, dcsLastSeenEpochSeconds, ttl, loopWait, scheduledRestart, failsafe, paused);
    }

    /** The member role string Patroni uses. */
    public String role() {
        return roleOf(pg);
    }

    public static String roleOf(PgStatus pg) {
        if (!pg.initialized()) {
            return "uninitialized";
        }
        if (pg.runState() == io.pgkeel.common.pg.PgRunState.STOPPED) {
            return pg.lastRunAsPrimary() ? "demoted" : "replica";
        }
        return pg.inRecovery() ? "replica" : "primary";
    }
}
