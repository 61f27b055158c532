package io.pgkeel.agent.api;

import io.pgkeel.agent.ha.NodeSnapshot;
import io.pgkeel.common.pg.PgRunState;
import io.pgkeel.common.pg.PgStatus;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The status document of {@code GET /patroni} (and of health-check bodies), field for field as Patroni's.
 * Serialized once per published snapshot and shared by every connection ({@link #bytes}).
 */
final class StatusJson {
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();
    private static final byte[] NO_SNAPSHOT = "{\"state\":\"starting\",\"role\":\"uninitialized\"}"
            .getBytes(java.nio.charset.StandardCharsets.UTF_8);

    /** The last snapshot serialized and its bytes; replaced as a pair so readers never mix two snapshots. */
    private record Cached(NodeSnapshot snapshot, byte[] bytes) {}

    private final java.util.concurrent.atomic.AtomicReference<Cached> cache = new java.util.concurrent.atomic.AtomicReference<>();

    /** The JSON of {@code s}, serialized at most once per snapshot (thread-safe; a race only serializes twice). */
    byte[] bytes(NodeSnapshot s) {
        if (s == null) {
            return NO_SNAPSHOT;
        }
        Cached c = cache.get();
        if (c != null && c.snapshot() == s) {
            return c.bytes();
        }
        byte[] bytes;
        try {
            bytes = JSON.writeValueAsBytes(of(s));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize the status", e);
        }
        cache.set(new Cached(s, bytes));
        return bytes;
    }

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
        if (pg.pendingRestart()) {
            out.put("pending_restart", true);
        }
        if (s.cluster() != null && s.cluster().config().map(c -> c.pause()).orElse(false)) {
            out.put("pause", true);
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
