package io.pgkeel.common.pg;

import java.util.List;
import java.util.Map;

/**
 * What the local PostgreSQL reports that only monitoring reads (GET /patroni, /metrics), as Patroni's
 * {@code get_postgresql_status} reads it. The HA decision never looks at these.
 *
 * @param replayPaused         replicas: {@code pg_is_wal_replay_paused()}
 * @param replayedTimestamp    replicas: {@code pg_last_xact_replay_timestamp()} in Patroni's text form
 *                             ({@code 2024-08-28 19:39:26.352526+00:00}), or null
 * @param latestEndLsn         replicas: the WAL receiver's {@code latest_end_lsn} (the sender's last reported
 *                             position), 0 when there is no WAL receiver
 * @param replication          the WAL senders, one row each in Patroni's key order: {@code usename},
 *                             {@code application_name}, {@code client_addr}, {@code state}, {@code sync_state},
 *                             {@code sync_priority} (pg_stat_replication); empty when there are none
 * @param pendingRestartReason the parameters waiting for a restart: name to {@code {old_value, new_value}} (the
 *                             running value and the one in the configuration files), as Patroni's
 *                             {@code pending_restart_reason}
 */
public record PgDetail(boolean replayPaused, String replayedTimestamp, long latestEndLsn,
                       List<Map<String, Object>> replication, Map<String, Map<String, String>> pendingRestartReason) {

    /** Nothing reported: PostgreSQL is down, or was not asked. */
    public static final PgDetail NONE = new PgDetail(false, null, 0, List.of(), Map.of());

    public PgDetail {
        replication = replication == null ? List.of() : List.copyOf(replication);
        pendingRestartReason = pendingRestartReason == null ? Map.of() : Map.copyOf(pendingRestartReason);
    }
}
