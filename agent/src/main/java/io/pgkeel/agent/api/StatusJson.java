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
                xlog.put("replayed_timestamp", pg.detail().replayedTimestamp());
                xlog.put("paused", pg.detail().replayPaused());
            } else {
                xlog.put("location", pg.walPosition());
            }
            out.put("xlog", xlog);
            // Patroni's order: right after xlog
            if (isSyncStandby(s)) {
                out.put("sync_standby", true);
            } else if (isQuorumStandby(s)) {
                out.put("quorum_standby", true);
            }
            out.put("timeline", pg.timeline());
            if (pg.replicationState() != null) {
                out.put("replication_state", pg.replicationState());
            }
            if (!pg.detail().replication().isEmpty()) {
                out.put("replication", pg.detail().replication());
            }
        }
        if (isPaused(s)) {
            out.put("pause", true);
        }
        if (isClusterUnlocked(s)) {
            out.put("cluster_unlocked", true);
        }
        if (isFailsafeActive(s)) {
            out.put("failsafe_mode_is_active", true);
        }
        // Patroni sends it always, 0 before the first successful DCS contact
        out.put("dcs_last_seen", s.dcsLastSeenEpochSeconds());
        if (!s.identity().tags().isEmpty()) {
            out.put("tags", s.identity().tags());
        }
        if (pg.systemIdentifier() != null) {
            out.put("database_system_identifier", pg.systemIdentifier());
        }
        if (pg.pendingRestart()) {
            out.put("pending_restart", true);
            if (!pg.detail().pendingRestartReason().isEmpty()) {
                out.put("pending_restart_reason", pg.detail().pendingRestartReason());
            }
        }
        out.put("patroni", Map.of("version", s.identity().version(), "scope", s.identity().scope(),
                "name", s.identity().name()));
        if (s.scheduledRestart() != null) {
            out.put("scheduled_restart", s.scheduledRestart().asPatroni());
        }
        return out;
    }

    /** Maintenance mode, from the config key last read. */
    static boolean isPaused(NodeSnapshot s) {
        // as this node decides: other members wait for a paused leader's answer from outside pause (PausedPolicy)
        return s.paused();
    }

    /**
     * Patroni 4.1 api.py get_postgresql_status: a running replica that the {@code sync} key names while
     * {@code synchronous_mode} is on (not quorum), judged on a cluster view read in the last cycle (Patroni's
     * {@code dcs.cluster} is none once it has expired); the key must be the current leader's ({@link SyncRole}).
     */
    static boolean isSyncStandby(NodeSnapshot s) {
        return syncRole(s) == SyncRole.SYNC_STANDBY;
    }

    /** As {@link #isSyncStandby}, for {@code synchronous_mode: quorum}. */
    static boolean isQuorumStandby(NodeSnapshot s) {
        return syncRole(s) == SyncRole.QUORUM_STANDBY;
    }

    private static SyncRole syncRole(NodeSnapshot s) {
        if (!s.pg().isRunningReplica() || !s.dcsReachable()) {
            return SyncRole.NONE;
        }
        return SyncRole.of(s.cluster(), s.identity().name());
    }

    /** Patroni: no leader key, or no cluster view at all. */
    static boolean isClusterUnlocked(NodeSnapshot s) {
        return s.cluster() == null || s.cluster().isUnlocked();
    }

    /** {@code failsafe_mode} in force: the config key as last read (Patroni's {@code is_failsafe_mode}). */
    static boolean isFailsafeModeEnabled(NodeSnapshot s) {
        return s.failsafe().enabled();
    }

    /**
     * Patroni's {@code failsafe_is_active}: on a primary, its last round of {@code POST /failsafe} was confirmed by
     * every member and the DCS is not accessible; on a replica, a primary in failsafe mode asked it to keep
     * following within the last ttl.
     */
    static boolean isFailsafeActive(NodeSnapshot s) {
        return s.failsafe().active();
    }

    /** Patroni's {@code patroni_failsafe_member}: this node is named in the {@code failsafe} key last read. */
    static boolean isFailsafeMember(NodeSnapshot s) {
        return s.failsafe().topology().containsKey(s.identity().name());
    }
}
