package io.pgkeel.common.pg;

import java.util.Set;

/**
 * One probe of the local PostgreSQL: data directory, process and (when running) what SQL reports.
 *
 * @param initialized       the data directory holds a cluster ({@code PG_VERSION} exists)
 * @param systemIdentifier  from pg_controldata, or null
 * @param pendingRestart    a changed parameter takes effect only after a restart (pg_settings.pending_restart)
 * @param lastRunAsPrimary  this data directory ran as a primary since it last followed a leader (pg_controldata
 *                          says so, or it was brought up as a standby without a rewind since): it may have diverged,
 *                          so it must go through pg_rewind before it follows another leader
 * @param inRecovery        running as a standby
 * @param walPosition       primary: flush LSN; replica: max(received, replayed)
 * @param replicationState  replicas only: "streaming" or "in archive recovery", else null
 * @param following         the member name this node's primary_conninfo points at, or null
 * @param slots             physical replication slots present (on a standby too)
 */
public record PgStatus(
        boolean initialized,
        String systemIdentifier,
        boolean lastRunAsPrimary,
        PgRunState runState,
        boolean inRecovery,
        int timeline,
        long walPosition,
        long receiveLsn,
        long replayLsn,
        String replicationState,
        String following,
        Set<String> slots,
        int serverVersion,
        String postmasterStartTime,
        boolean pendingRestart) {

    public PgStatus {
        slots = slots == null ? Set.of() : Set.copyOf(slots);
    }

    /** A status with no parameter waiting for a restart. */
    public PgStatus(boolean initialized, String systemIdentifier, boolean lastRunAsPrimary, PgRunState runState,
                    boolean inRecovery, int timeline, long walPosition, long receiveLsn, long replayLsn,
                    String replicationState, String following, Set<String> slots, int serverVersion,
                    String postmasterStartTime) {
        this(initialized, systemIdentifier, lastRunAsPrimary, runState, inRecovery, timeline, walPosition, receiveLsn,
                replayLsn, replicationState, following, slots, serverVersion, postmasterStartTime, false);
    }

    public boolean isRunning() {
        return runState == PgRunState.RUNNING;
    }

    public boolean isRunningPrimary() {
        return runState == PgRunState.RUNNING && !inRecovery;
    }

    public boolean isRunningReplica() {
        return runState == PgRunState.RUNNING && inRecovery;
    }

    public static PgStatus empty() {
        return new PgStatus(false, null, false, PgRunState.STOPPED, false, 0, 0, 0, 0, null, null, Set.of(), 0, null);
    }
}
