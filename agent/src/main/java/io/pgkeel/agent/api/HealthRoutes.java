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

    /**
     * The status code, without building any body (HEAD, OPTIONS and HAProxy checks need nothing more). Routed as
     * Patroni routes GET: a handler of its own for the path's first segment ({@code /liveness}, {@code /readiness},
     * {@code /patroni}), else the generic health check, which matches words inside the path (api.py {@code do_GET}).
     */
    static Answer answer(String path, Map<String, List<String>> query, NodeSnapshot s, long nowNanos) {
        if (s == null) {
            return new Answer(503, true);
        }
        return switch (firstSegment(path)) {
            case "liveness" -> new Answer(live(s, nowNanos) ? 200 : 503, false);
            case "readiness" -> new Answer(ready(query, s) ? 200 : 503, false);
            case "patroni" -> new Answer(200, true);
            default -> new Answer(healthCheck(path, query, s), true);
        };
    }

    /** {@code /patroni/x} -> "patroni", as Patroni picks its {@code do_GET_<segment>} handler. */
    static String firstSegment(String path) {
        String p = path.startsWith("/") ? path.substring(1) : path;
        int slash = p.indexOf('/');
        return slash < 0 ? p : p.substring(0, slash);
    }

    /**
     * Patroni 4.1 api.py {@code do_GET}: the path is matched by the words it contains, in this order; the tag filter
     * then applies to every 200 except those of the leader paths. Unlike Patroni, the leader paths also need
     * PostgreSQL running (docs/decisions.md).
     */
    private static int healthCheck(String rawPath, Map<String, List<String>> query, NodeSnapshot s) {
        String path = rawPath.equals("/") ? "/primary" : rawPath;
        PgStatus pg = s.pg();
        boolean leader = leads(s) && pg.isRunning();
        int primary = leader && !pg.inRecovery() ? 200 : 503;
        int standbyLeader = 503; // standby clusters are not supported: no node is ever a standby leader
        int replica = replicaStatus(query, s);
        int status = 503;
        boolean tagsApply = true;
        if (path.contains("standby_leader") || path.contains("standby-leader")) {
            status = standbyLeader;
            tagsApply = false;
        } else if (path.contains("leader")) {
            status = leader ? 200 : 503;
            tagsApply = false;
        } else if (path.contains("master") || path.contains("primary") || path.contains("read-write")) {
            status = primary;
            tagsApply = false;
        } else if (path.contains("replica")) {
            status = replica;
        } else if (path.contains("read-only") && !path.contains("sync") && !path.contains("quorum")) {
            status = primary == 200 || standbyLeader == 200 ? 200 : replica;
        } else if (path.contains("health")) {
            status = pg.isRunning() ? 200 : 503;
        } else if (s.cluster() != null && s.dcsReachable()) {
            // Patroni answers these only from a cluster view it holds (elif cluster:)
            boolean sync = StatusJson.isSyncStandby(s);
            boolean quorum = StatusJson.isQuorumStandby(s);
            boolean leaderOk = primary == 200 || standbyLeader == 200;
            status = switch (path) {
                case "/sync", "/synchronous" -> sync ? replica : 503;
                case "/quorum" -> quorum ? replica : 503;
                case "/async", "/asynchronous" -> !sync && !quorum ? replica : 503;
                case "/read-only-quorum" -> leaderOk ? 200 : quorum ? replica : 503;
                case "/read-only-sync", "/read-only-synchronous" -> leaderOk ? 200 : sync ? replica : 503;
                default -> 503;
            };
        }
        return tagsApply && status == 200 && !tagsMatch(query, s.identity().tags()) ? 503 : status;
    }

    /**
     * Whether this node answers as the leader: it holds the leader key, or it is a primary that keeps running in
     * failsafe mode without the DCS because every member confirmed it (Patroni's {@code set_is_leader(True)} in
     * {@code _handle_dcs_error}, which {@code is_leader()} then reports for ttl).
     */
    static boolean leads(NodeSnapshot s) {
        return s.holdsLeaderKey() || s.failsafe().active() && s.pg().isRunningPrimary();
    }

    /** Patroni's replica_status_code: a running standby without noloadbalance, within ?lag and ?replication_state. */
    private static int replicaStatus(Map<String, List<String>> query, NodeSnapshot s) {
        PgStatus pg = s.pg();
        if (!pg.isRunningReplica() || Tags.truthy(s.identity().tags().get("noloadbalance"))) {
            return 503;
        }
        // Patroni: a ?lag it cannot parse sets no limit
        long max = parseSize(first(query, "lag"), Long.MAX_VALUE);
        long leader = leaderOptime(s);
        if (leader > 0 && leader - pg.replayLsn() > max) {
            return 503;
        }
        String state = first(query, "replication_state");
        return state != null && !state.equals(pg.replicationState()) ? 503 : 200;
    }

    /**
     * Every {@code ?tag_<name>=<value>} must match the tag as Patroni's node has it: a tag this node does not have
     * (or a clonefrom/nofailover/noloadbalance/nosync/nostream tag that is false, which Patroni drops) never matches;
     * a string tag matches its value exactly (case counts); any other value as Python prints it, lowercased
     * ({@code true}, {@code 1}).
     */
    static boolean tagsMatch(Map<String, List<String>> query, Map<String, Object> tags) {
        for (Map.Entry<String, List<String>> e : query.entrySet()) {
            String want = firstOf(e.getValue());
            if (!e.getKey().startsWith("tag_") || want == null) {
                continue;
            }
            String name = e.getKey().substring(4);
            Object tag = patroniTags(tags).get(name);
            if (tag == null) {
                return false;
            }
            String have = tag instanceof String str ? str : pythonStr(tag).toLowerCase(java.util.Locale.ROOT);
            if (!have.equals(want)) {
                return false;
            }
        }
        return true;
    }

    /** Patroni's {@code _filter_tags}: its boolean tags are kept only when set (or paired with a priority). */
    private static Map<String, Object> patroniTags(Map<String, Object> tags) {
        Map<String, Object> kept = new java.util.LinkedHashMap<>();
        tags.forEach((k, v) -> {
            boolean flag = List.of("clonefrom", "nofailover", "noloadbalance", "nosync", "nostream").contains(k);
            if (!flag || Tags.truthy(v) || k.equals("nofailover") && tags.containsKey("failover_priority")
                    || k.equals("nosync") && tags.containsKey("sync_priority")) {
                kept.put(k, v);
            }
        });
        return kept;
    }

    /** A YAML/JSON scalar as Python's {@code str()} prints it ({@code True}, {@code 1.5}, {@code 7}). */
    private static String pythonStr(Object v) {
        if (v instanceof Boolean b) {
            return b ? "True" : "False";
        }
        return String.valueOf(v);
    }

    /** Patroni's leader_optime: the leader's position from the status key, or what the WAL receiver last heard. */
    private static long leaderOptime(NodeSnapshot s) {
        long status = s.cluster() == null ? 0 : s.cluster().lastLeaderLsn().orElse(0L);
        return Math.max(status, s.pg().detail().latestEndLsn());
    }

    /** Patroni's {@code parse_int(value, 'B')}, with {@code otherwise} for a value absent or not a size. */
    private static long parseSize(String value, long otherwise) {
        if (value == null) {
            return otherwise;
        }
        try {
            return ByteSize.parse(value);
        } catch (IllegalArgumentException e) {
            return otherwise;
        }
    }

    private static boolean live(NodeSnapshot s, long nowNanos) {
        if (paused(s)) {
            return true; // Patroni: always alive in maintenance mode
        }
        long threshold = TimeUnit.SECONDS.toNanos(leads(s) ? s.ttl() : 2L * s.ttl());
        return nowNanos - s.lastCycleNanos() < threshold;
    }

    /** Patroni 4.1 api.py {@code _readiness}; the leader also needs PostgreSQL running (docs/decisions.md). */
    private static boolean ready(Map<String, List<String>> query, NodeSnapshot s) {
        if (leads(s) && s.pg().isRunning()) {
            return true;
        }
        if (!s.pg().isRunningReplica() || !"streaming".equals(s.pg().replicationState())) {
            return false;
        }
        boolean haveCluster = s.cluster() != null && s.dcsReachable();
        if (!haveCluster && s.pg().detail().latestEndLsn() == 0) {
            // "DCS is not accessible", unless a primary in failsafe mode asked this replica to keep following it
            return s.failsafe().active();
        }
        long max = parseSize(first(query, "lag"), haveCluster ? s.cluster().config()
                .map(DynamicConfig::maximumLagOnFailover).orElse(DynamicConfig.DEFAULT_MAXIMUM_LAG_ON_FAILOVER)
                : DynamicConfig.DEFAULT_MAXIMUM_LAG_ON_FAILOVER);
        // mode=apply (default): what was replayed; mode=write: what was received
        long position = "write".equals(first(query, "mode")) ? s.pg().receiveLsn() : s.pg().replayLsn();
        return leaderOptime(s) - position <= max;
    }

    private static boolean paused(NodeSnapshot s) {
        return s.cluster() != null && s.cluster().config().map(DynamicConfig::pause).orElse(false);
    }

    /** The first non-blank value of a query parameter: Python's parse_qs drops blank values. */
    private static String first(Map<String, List<String>> query, String key) {
        return firstOf(query.get(key));
    }

    private static String firstOf(List<String> values) {
        return values == null ? null : values.stream().filter(v -> !v.isEmpty()).findFirst().orElse(null);
    }
}
