package io.pgkeel.agent.pg;

import io.pgkeel.common.Lsn;
import io.pgkeel.common.pg.PgDetail;
import io.pgkeel.common.pg.PgRunState;
import io.pgkeel.common.pg.PgStatus;
import io.pgkeel.common.pg.PgSync;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the local PostgreSQL is now: from the data directory's files and pg_controldata while it is down, from one
 * SQL query while it runs. It changes nothing (no file written, no reload); its only state is the last system
 * identifier it saw, the last connection error it logged, and the local connection it closes when PostgreSQL is
 * not there. Loop thread only.
 */
final class Probe {
    // the lines keep the logger name operators know them by
    private static final Logger log = LoggerFactory.getLogger(PostgresController.class);

    private final DataDirectory dir;
    private final LocalConnection local;
    private final Supplier<Map<String, String>> writtenParameters;
    private final BooleanSupplier synchronousStandbyNamesManaged;
    private String systemIdentifier;
    private String lastProbeError;

    /**
     * @param writtenParameters the config key's parameters postgresql.conf was last written with (null: not yet),
     *                          reported as they are
     * @param synchronousStandbyNamesManaged the agent writes synchronous_standby_names itself (synchronous mode)
     */
    Probe(DataDirectory dir, LocalConnection local, Supplier<Map<String, String>> writtenParameters,
          BooleanSupplier synchronousStandbyNamesManaged) {
        this.dir = dir;
        this.local = local;
        this.writtenParameters = writtenParameters;
        this.synchronousStandbyNamesManaged = synchronousStandbyNamesManaged;
    }

    /** The data directory was replaced or removed: the system identifier seen last no longer describes it. */
    void forgetSystemIdentifier() {
        systemIdentifier = null;
    }

    /** Never throws: a PostgreSQL that does not answer yet is STARTING, with what the files say. */
    PgStatus probe() {
        if (!dir.isInitialized()) {
            local.close();
            systemIdentifier = null;
            return PgStatus.empty();
        }
        if (!dir.postmasterAlive()) {
            local.close();
            ControlData control = dir.controlData();
            systemIdentifier = control.systemIdentifier();
            // a fresh pg_basebackup (or pg_rewind) leaves backup_label and a pg_control copied from the source,
            // which says "in production": such a directory recovers from its source and is no former primary
            boolean wasPrimary = !dir.exists("backup_label") && control.ranAsPrimary()
                    || dir.exists(DataDirectory.DIVERGENCE_MARKER);
            int tl = control.checkpointTimeline();
            return new PgStatus(true, systemIdentifier, wasPrimary, PgRunState.STOPPED, dir.standbyConfigured(), tl, 0,
                    0, 0, null, dir.following(), Set.of(), 0, null, false, writtenParameters.get(),
                    control.shutdownCheckpoint());
        }
        try {
            return querySql();
        } catch (SQLException e) {
            local.close();
            if (!String.valueOf(e.getMessage()).equals(lastProbeError)) {
                lastProbeError = String.valueOf(e.getMessage());
                log.debug("postgres is not accepting connections yet: {}", lastProbeError);
            }
            return new PgStatus(true, systemIdentifier, !dir.standbyConfigured(), PgRunState.STARTING,
                    dir.standbyConfigured(), 0, 0, 0, 0, null, dir.following(), Set.of(), 0, null)
                    .withWrittenParameters(writtenParameters.get());
        }
    }

    private PgStatus querySql() throws SQLException {
        Connection c = local.get();
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("""
                     SELECT pg_is_in_recovery(),
                            CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_flush_lsn()::text END,
                            CASE WHEN pg_is_in_recovery() THEN NULL ELSE substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8) END,
                            pg_last_wal_receive_lsn()::text,
                            pg_last_wal_replay_lsn()::text,
                            (SELECT status FROM pg_stat_get_wal_receiver()),
                            (SELECT received_tli FROM pg_stat_get_wal_receiver()),
                            (SELECT timeline_id FROM pg_control_checkpoint()),
                            current_setting('server_version_num')::int,
                            pg_postmaster_start_time()::text,
                            (SELECT system_identifier::text FROM pg_control_system()),
                            (SELECT count(*) > 0 FROM pg_settings WHERE pending_restart),
                            CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END,
                            pg_last_xact_replay_timestamp()::text,
                            (SELECT latest_end_lsn FROM pg_stat_get_wal_receiver())::text,
                            current_setting('synchronous_standby_names'),
                            (SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size')""")) {
            rs.next();
            boolean inRecovery = rs.getBoolean(1);
            systemIdentifier = rs.getString(11);
            long receive = lsn(rs.getString(4));
            long replay = lsn(rs.getString(5));
            int timeline;
            long wal;
            String replicationState = null;
            if (inRecovery) {
                int receivedTli = rs.getInt(7);
                wal = Math.max(receive, replay);
                // without a WAL receiver its timeline is gone from pg_stat_wal_receiver, and the last checkpoint's
                // (a restartpoint) can lag a timeline switch by checkpoint_timeout: the segment holding the last
                // byte received says which timeline that WAL is on, as Patroni's IDENTIFY_SYSTEM does
                timeline = receivedTli > 0 ? receivedTli
                        : Math.max(rs.getInt(8), walTimeline(dir.walFileNames(), wal, rs.getLong(17)));
                replicationState = "streaming".equals(rs.getString(6)) ? "streaming" : "in archive recovery";
            } else {
                timeline = Integer.parseInt(rs.getString(3), 16);
                wal = lsn(rs.getString(2));
            }
            Set<String> slots = Slots.list(c); // on a standby too: slots kept there hold back its WAL
            boolean mayHaveDiverged = !inRecovery || dir.exists(DataDirectory.DIVERGENCE_MARKER);
            boolean pendingRestart = rs.getBoolean(12);
            String synchronousStandbyNames = rs.getString(16);
            WalSenders senders = walSenders(c);
            PgDetail detail = new PgDetail(rs.getBoolean(13), patroniTimestamp(rs.getString(14)), lsn(rs.getString(15)),
                    senders.replication(), pendingRestart ? pendingRestartReason(c) : Map.of());
            // a standby's synchronous_standby_names waits for nobody until its promotion
            PgSync sync = inRecovery ? PgSync.NONE : new PgSync(synchronousStandbyNames,
                    synchronousStandbyNamesManaged.getAsBoolean(), senders.sync());
            return new PgStatus(true, systemIdentifier, mayHaveDiverged, PgRunState.RUNNING, inRecovery, timeline, wal,
                    receive, replay, replicationState, inRecovery ? dir.following() : null, slots, rs.getInt(9),
                    patroniTimestamp(rs.getString(10)), pendingRestart)
                    .withWrittenParameters(writtenParameters.get()).withDetail(detail).withSync(sync);
        }
    }

    /**
     * pg_stat_replication read once, in pid order, for two readers.
     *
     * @param replication one row per WAL sender, with the columns and key order of Patroni's "replication"
     * @param sync        the same WAL senders as synchronous replication reads them (with their flush position)
     */
    private record WalSenders(List<Map<String, Object>> replication, List<PgSync.WalSender> sync) {}

    private static WalSenders walSenders(Connection c) throws SQLException {
        List<Map<String, Object>> rows = new ArrayList<>();
        List<PgSync.WalSender> sync = new ArrayList<>();
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT usename, application_name, host(client_addr), state, sync_state,"
                     + " sync_priority, flush_lsn::text FROM pg_stat_replication ORDER BY pid")) {
            while (rs.next()) {
                sync.add(new PgSync.WalSender(rs.getString(2), rs.getString(4), rs.getString(5), lsn(rs.getString(7))));
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("usename", rs.getString(1));
                row.put("application_name", rs.getString(2));
                row.put("client_addr", rs.getString(3));
                row.put("state", rs.getString(4));
                row.put("sync_state", rs.getString(5));
                row.put("sync_priority", rs.getInt(6));
                rows.add(row);
            }
        }
        return new WalSenders(rows, sync);
    }

    /**
     * The parameters waiting for a restart: the running value against the last one the configuration files set
     * (pg_file_settings, superuser only: the probe connects as the superuser). The new value's own line is the one
     * PostgreSQL marks {@code setting could not be applied} (it waits for the restart), so lines with an error count:
     * skipping them would report an earlier, overridden line (initdb's {@code max_connections = 100}) instead.
     */
    private static Map<String, Map<String, String>> pendingRestartReason(Connection c) throws SQLException {
        Map<String, Map<String, String>> reasons = new LinkedHashMap<>();
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("""
                     SELECT s.name, current_setting(s.name), f.setting
                       FROM pg_settings s
                       LEFT JOIN (SELECT DISTINCT ON (name) name, setting FROM pg_file_settings
                                   WHERE name IS NOT NULL ORDER BY name, seqno DESC) f USING (name)
                      WHERE s.pending_restart ORDER BY s.name""")) {
            while (rs.next()) {
                Map<String, String> change = new LinkedHashMap<>();
                change.put("old_value", rs.getString(2));
                change.put("new_value", rs.getString(3));
                reasons.put(rs.getString(1), change);
            }
        }
        return reasons;
    }

    /**
     * A timestamptz as Patroni prints one (Python's {@code str(datetime)}): PostgreSQL's text with the offset's
     * minutes always present ({@code +00} becomes {@code +00:00}); null stays null.
     */
    static String patroniTimestamp(String pgText) {
        if (pgText == null) {
            return null;
        }
        return pgText.matches(".*[+-]\\d\\d") ? pgText + ":00" : pgText;
    }

    /** An LSN as PostgreSQL prints it ({@code X/Y}); 0 for SQL NULL. */
    /**
     * The highest timeline with a WAL segment file in {@code walFiles} for the segment that holds the byte before
     * {@code endLsn}: the timeline of the WAL a standby has up to there (a former primary's own WAL past a timeline
     * switch it never followed stays on its old timeline). 0 when there is no such file or no WAL.
     *
     * @param walFiles     names in pg_wal ({@code TTTTTTTTXXXXXXXXYYYYYYYY}; others are ignored)
     * @param endLsn       the end of the WAL the standby has (LSN, bytes)
     * @param segmentBytes wal_segment_size in bytes
     */
    static int walTimeline(List<String> walFiles, long endLsn, long segmentBytes) {
        if (endLsn <= 0 || segmentBytes <= 0) {
            return 0;
        }
        long segment = (endLsn - 1) / segmentBytes;
        long perId = 0x1_0000_0000L / segmentBytes;
        String suffix = String.format("%08X%08X", segment / perId, segment % perId);
        int best = 0;
        for (String name : walFiles) {
            if (name.length() == 24 && name.endsWith(suffix)
                    && name.chars().allMatch(ch -> Character.digit(ch, 16) >= 0)) {
                best = Math.max(best, Integer.parseUnsignedInt(name.substring(0, 8), 16));
            }
        }
        return best;
    }

    static long lsn(String text) {
        return text == null ? 0 : Lsn.parse(text);
    }
}
