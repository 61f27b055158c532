package io.pgkeel.common.pg;

import java.util.Map;
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
 * @param writtenParameters the config key's {@code postgresql.parameters} that postgresql.conf was last written with
 *                          by this agent; null when the agent has not written it since it started
 * @param shutdownCheckpointLsn where the last checkpoint begins (pg_controldata's "Latest checkpoint location") when
 *                          this instance is stopped after a clean shutdown as a primary; -1 otherwise. After a
 *                          switchover's stop this is the shutdown checkpoint: a standby that has received WAL up to it
 *                          has every committed transaction
 * @param detail            what only monitoring reads ({@link PgDetail#NONE} when PostgreSQL is down)
 * @param sync              a running primary's synchronous_standby_names and WAL senders ({@link PgSync#NONE}
 *                          otherwise)
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
        boolean pendingRestart,
        Map<String, String> writtenParameters,
        long shutdownCheckpointLsn,
        PgDetail detail,
        PgSync sync) {

    public PgStatus {
        detail = detail == null ? PgDetail.NONE : detail;
        sync = sync == null ? PgSync.NONE : sync;
        slots = slots == null ? Set.of() : Set.copyOf(slots);
        writtenParameters = writtenParameters == null ? null : Map.copyOf(writtenParameters);
    }

    /** A status without synchronous replication state. */
    public PgStatus(boolean initialized, String systemIdentifier, boolean lastRunAsPrimary, PgRunState runState,
                    boolean inRecovery, int timeline, long walPosition, long receiveLsn, long replayLsn,
                    String replicationState, String following, Set<String> slots, int serverVersion,
                    String postmasterStartTime, boolean pendingRestart, Map<String, String> writtenParameters,
                    long shutdownCheckpointLsn, PgDetail detail) {
        this(initialized, systemIdentifier, lastRunAsPrimary, runState, inRecovery, timeline, walPosition, receiveLsn,
                replayLsn, replicationState, following, slots, serverVersion, postmasterStartTime, pendingRestart,
                writtenParameters, shutdownCheckpointLsn, detail, PgSync.NONE);
    }

    /** A status with nothing for monitoring beyond what the decision reads. */
    public PgStatus(boolean initialized, String systemIdentifier, boolean lastRunAsPrimary, PgRunState runState,
                    boolean inRecovery, int timeline, long walPosition, long receiveLsn, long replayLsn,
                    String replicationState, String following, Set<String> slots, int serverVersion,
                    String postmasterStartTime, boolean pendingRestart, Map<String, String> writtenParameters,
                    long shutdownCheckpointLsn) {
        this(initialized, systemIdentifier, lastRunAsPrimary, runState, inRecovery, timeline, walPosition, receiveLsn,
                replayLsn, replicationState, following, slots, serverVersion, postmasterStartTime, pendingRestart,
                writtenParameters, shutdownCheckpointLsn, PgDetail.NONE);
    }

    /** A status whose postgresql.conf holds no config key parameters, and no shutdown checkpoint to hand over. */
    public PgStatus(boolean initialized, String systemIdentifier, boolean lastRunAsPrimary, PgRunState runState,
                    boolean inRecovery, int timeline, long walPosition, long receiveLsn, long replayLsn,
                    String replicationState, String following, Set<String> slots, int serverVersion,
                    String postmasterStartTime, boolean pendingRestart) {
        this(initialized, systemIdentifier, lastRunAsPrimary, runState, inRecovery, timeline, walPosition, receiveLsn,
                replayLsn, replicationState, following, slots, serverVersion, postmasterStartTime, pendingRestart,
                Map.of(), -1);
    }

    /** A status with no parameter waiting for a restart. */
    public PgStatus(boolean initialized, String systemIdentifier, boolean lastRunAsPrimary, PgRunState runState,
                    boolean inRecovery, int timeline, long walPosition, long receiveLsn, long replayLsn,
                    String replicationState, String following, Set<String> slots, int serverVersion,
                    String postmasterStartTime) {
        this(initialized, systemIdentifier, lastRunAsPrimary, runState, inRecovery, timeline, walPosition, receiveLsn,
                replayLsn, replicationState, following, slots, serverVersion, postmasterStartTime, false);
    }

    public PgStatus withWrittenParameters(Map<String, String> parameters) {
        return new PgStatus(initialized, systemIdentifier, lastRunAsPrimary, runState, inRecovery, timeline, walPosition,
                receiveLsn, replayLsn, replicationState, following, slots, serverVersion, postmasterStartTime,
                pendingRestart, parameters, shutdownCheckpointLsn, detail, sync);
    }

    public PgStatus withShutdownCheckpoint(long lsn) {
        return new PgStatus(initialized, systemIdentifier, lastRunAsPrimary, runState, inRecovery, timeline, walPosition,
                receiveLsn, replayLsn, replicationState, following, slots, serverVersion, postmasterStartTime,
                pendingRestart, writtenParameters, lsn, detail, sync);
    }

    public PgStatus withDetail(PgDetail d) {
        return new PgStatus(initialized, systemIdentifier, lastRunAsPrimary, runState, inRecovery, timeline, walPosition,
                receiveLsn, replayLsn, replicationState, following, slots, serverVersion, postmasterStartTime,
                pendingRestart, writtenParameters, shutdownCheckpointLsn, d, sync);
    }

    public PgStatus withSync(PgSync s) {
        return new PgStatus(initialized, systemIdentifier, lastRunAsPrimary, runState, inRecovery, timeline, walPosition,
                receiveLsn, replayLsn, replicationState, following, slots, serverVersion, postmasterStartTime,
                pendingRestart, writtenParameters, shutdownCheckpointLsn, detail, s);
    }

    /** The same status with the postmaster in {@code state}, in recovery or not; every other field as it is. */
    public PgStatus withRunState(PgRunState state, boolean recovery) {
        return new PgStatus(initialized, systemIdentifier, lastRunAsPrimary, state, recovery, timeline, walPosition,
                receiveLsn, replayLsn, replicationState, following, slots, serverVersion, postmasterStartTime,
                pendingRestart, writtenParameters, shutdownCheckpointLsn, detail, sync);
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
