package io.pgkeel.agent.api;

import io.pgkeel.agent.ha.NodeSnapshot;
import io.pgkeel.common.pg.PgRunState;
import io.pgkeel.common.pg.PgStatus;
import java.util.LinkedHashMap;
import java.util.Map;

/** The status document of {@code GET /patroni} (and of health-check bodies), field for field as Patroni's. */
final class StatusJson {
    private StatusJson() {}

    static Map<String, Object> of(NodeSnapshot s) {
        PgStatus pg = s.pg();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("state", pg.initialized() ? pg.runState().patroniName() : "stopped");
        if (pg.postmasterStartTime() != null) {
            out.put("postmaster_start_time", pg.postmasterStartTime());
        }
        out.put("role", s.role());
        if (pg.serverVersion() > 0) {
            out.put("server_version", pg.serverVersion());
        }
        if (pg.runState() == PgRunState.RUNNING) {
            Map<String, Object> xlog = new LinkedHashMap<>();
            if (pg.inRecovery()) {
                xlog.put("received_location", pg.receiveLsn());
                xlog.put("replayed_location", pg.replayLsn());
                xlog.put("replayed_timestamp", null);
                xlog.put("paused", false);
            } else {
                xlog.put("location", pg.walPosition());
            }
            out.put("xlog", xlog);
            out.put("timeline", pg.timeline());
            if (pg.replicationState() != null) {
                out.put("replication_state", pg.replicationState());
            }
        }
        if (s.cluster() == null || s.cluster().isUnlocked()) {
            out.put("cluster_unlocked", true);
        }
        if (s.dcsLastSeenEpochSeconds() > 0) {
            out.put("dcs_last_seen", s.dcsLastSeenEpochSeconds());
        }
        if (!s.identity().tags().isEmpty()) {
            out.put("tags", s.identity().tags());
        }
        if (pg.systemIdentifier() != null) {
            out.put("database_system_identifier", pg.systemIdentifier());
        }
        out.put("patroni", Map.of("version", s.identity().version(), "scope", s.identity().scope(),
                "name", s.identity().name()));
        return out;
    }
}
