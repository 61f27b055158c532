package io.pgkeel.agent.api;

import io.pgkeel.agent.ha.NodeSnapshot;
import io.pgkeel.common.ByteSize;
import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.cluster.Tags;
import io.pgkeel.common.pg.PgStatus;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Patroni's health-check answers as a pure function of (path, query, snapshot, now). 200 means "route traffic
 * here", 503 means "don't"; the body is the status JSON unless the route is status-only.
 */
final class HealthRoutes {
    private HealthRoutes() {}

    /** @param withBody false for status-only answers (/liveness, /readiness) */
    record Answer(int status, boolean withBody) {}

    /** The status code, without building any body (HEAD, OPTIONS and HAProxy checks need nothing more). */
    static Answer answer(String path, Map<String, List<String>> query, NodeSnapshot s, long nowNanos) {
        if (s == null) {
            return new Answer(503, true);
        }
        PgStatus pg = s.pg();
        boolean primary = s.holdsLeaderKey() && pg.isRunningPrimary();
        boolean replica = pg.isRunningReplica();
        return switch (path) {
            case "/", "/primary", "/read-write", "/master" -> new Answer(primary ? 200 : 503, true);
            case "/leader" -> new Answer(s.holdsLeaderKey() && pg.isRunning() ? 200 : 503, true);
            case "/standby-leader", "/standby_leader" -> new Answer(503, true);
            case "/replica" -> new Answer(replicaOk(query, s) ? 200 : 503, true);
            case "/read-only" -> new Answer(primary || replicaOk(query, s) ? 200 : 503, true);
            case "/async", "/asynchronous" -> new Answer(replicaOk(query, s) ? 200 : 503, true);
            case "/sync", "/synchronous", "/quorum" -> new Answer(503, true);
            case "/read-only-sync", "/read-only-synchronous", "/read-only-quorum" -> new Answer(primary ? 200 : 503, true);
            case "/health" -> new Answer(pg.isRunning() ? 200 : 503, true);
            case "/liveness" -> new Answer(live(s, nowNanos) ? 200 : 503, false);
            case "/readiness" -> new Answer(ready(query, s) ? 200 : 503, false);
            case "/patroni" -> new Answer(200, true);
            default -> new Answer(503, true);
        };
    }

    private static boolean replicaOk(Map<String, List<String>> query, NodeSnapshot s) {
        PgStatus pg = s.pg();
        if (!pg.isRunningReplica() || Tags.truthy(s.identity().tags().get("noloadbalance"))) {
            return false;
        }
        String lag = first(query, "lag");
        if (lag != null) {
            long max;
            try {
                max = ByteSize.parse(lag);
            } catch (IllegalArgumentException e) {
                return false;
            }
            if (lagBytes(s) > max) {
                return false;
            }
        }
        String state = first(query, "replication_state");
        if (state != null && !state.equals(pg.replicationState())) {
            return false;
        }
        for (Map.Entry<String, List<String>> e : query.entrySet()) {
            if (e.getKey().startsWith("tag_")) {
                Object tag = s.identity().tags().get(e.getKey().substring(4));
                String want = e.getValue().isEmpty() ? "" : e.getValue().get(0);
                if (tag == null || !String.valueOf(tag).toLowerCase(java.util.Locale.ROOT)
                        .equals(want.toLowerCase(java.util.Locale.ROOT))) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Lag = max(leader's last published position, what this replica received) - what it replayed. */
    static long lagBytes(NodeSnapshot s) {
        long leader = s.cluster() == null ? 0 : s.cluster().lastLeaderLsn().orElse(0L);
        return Math.max(0, Math.max(leader, s.pg().receiveLsn()) - s.pg().replayLsn());
    }

    private static boolean live(NodeSnapshot s, long nowNanos) {
        if (paused(s)) {
            return true; // Patroni: always alive in maintenance mode
        }
        long threshold = TimeUnit.SECONDS.toNanos(s.holdsLeaderKey() ? s.ttl() : 2L * s.ttl());
        return nowNanos - s.lastCycleNanos() < threshold;
    }

    private static boolean ready(Map<String, List<String>> query, NodeSnapshot s) {
        if (s.holdsLeaderKey() && s.pg().isRunning()) {
            return true;
        }
        if (!s.dcsReachable() || !s.pg().isRunningReplica() || !"streaming".equals(s.pg().replicationState())) {
            return false;
        }
        String lag = first(query, "lag");
        long max;
        try {
            max = lag == null ? s.cluster() == null ? DynamicConfig.DEFAULT_MAXIMUM_LAG_ON_FAILOVER
                    : s.cluster().config().map(DynamicConfig::maximumLagOnFailover)
                            .orElse(DynamicConfig.DEFAULT_MAXIMUM_LAG_ON_FAILOVER) : ByteSize.parse(lag);
        } catch (IllegalArgumentException e) {
            return false;
        }
        // mode=apply (default): what was replayed; mode=write: what was received
        String mode = first(query, "mode");
        long leader = s.cluster() == null ? 0 : s.cluster().lastLeaderLsn().orElse(0L);
        long position = "write".equals(mode) ? s.pg().receiveLsn() : s.pg().replayLsn();
        return Math.max(0, Math.max(leader, s.pg().receiveLsn()) - position) <= max;
    }

    private static boolean paused(NodeSnapshot s) {
        return s.cluster() != null && s.cluster().config().map(DynamicConfig::pause).orElse(false);
    }

    private static String first(Map<String, List<String>> query, String key) {
        List<String> v = query.get(key);
        return v == null || v.isEmpty() ? null : v.get(0);
    }
}
