package io.pgkeel.agent.api;

import io.pgkeel.agent.ha.NodeSnapshot;
import io.pgkeel.common.Lsn;
import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.Member;
import io.pgkeel.common.cluster.ScheduledAt;
import java.net.URI;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code GET /cluster}: the members as this node last read them from etcd, field for field as Patroni 4.1's
 * {@code cluster_as_json} (patroni/utils.py) builds them from the member keys, the status key, the config key and the
 * failover key.
 */
final class ClusterJson {
    private ClusterJson() {}

    static Map<String, Object> of(NodeSnapshot s) {
        Map<String, Object> out = new LinkedHashMap<>();
        List<Map<String, Object>> members = new ArrayList<>();
        ClusterView c = s.cluster();
        if (c != null) {
            // Patroni: the status key's last_lsn, 0 when there is none
            long clusterLsn = c.lastLeaderLsn().orElse(0L);
            for (Member m : c.members()) {
                members.add(member(m, role(c, m), clusterLsn));
            }
            members.sort(Comparator.comparing(m -> (String) m.get("name")));
            if (c.config().map(cfg -> cfg.pause()).orElse(false)) {
                out.put("pause", true);
            }
            c.failover().filter(f -> f.scheduledAt() != null).ifPresent(f -> {
                Map<String, Object> sw = new LinkedHashMap<>();
                sw.put("at", isoformat(f.scheduledAt()));
                if (f.leader() != null) {
                    sw.put("from", f.leader());
                }
                if (f.member() != null) {
                    sw.put("to", f.member());
                }
                out.put("scheduled_switchover", sw);
            });
        }
        out.put("members", members);
        out.put("scope", s.identity().scope());
        return out;
    }

    /**
     * Patroni 4.1 cluster_as_json: the leader key's holder is "leader" (pgkeel runs no standby cluster, so never
     * "standby_leader"); a member the current leader's sync key names is "sync_standby" or "quorum_standby"
     * ({@link SyncRole}); any other "replica".
     */
    static String role(ClusterView c, Member m) {
        if (c.isLeader(m.name())) {
            return "leader";
        }
        SyncRole sync = SyncRole.of(c, m.name());
        return sync == SyncRole.NONE ? "replica" : sync.patroniRole();
    }

    /** One member, with its role as {@link #role} gives it. */
    static Map<String, Object> member(Member m, String role, long clusterLsn) {
        boolean leader = role.equals("leader");
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("name", m.name());
        j.put("role", role);
        // a replica shows its replication state (streaming, in archive recovery) when it wrote one
        boolean replicationState = !leader && m.replicationState() != null && !m.replicationState().isEmpty();
        j.put("state", replicationState ? m.replicationState() : m.state() == null ? "" : m.state());
        j.put("api_url", m.apiUrl());
        hostPort(m.connUrl(), j);
        if (m.timeline() > 0) {
            j.put("timeline", m.timeline());
        }
        if (m.pendingRestart()) {
            j.put("pending_restart", true);
        }
        if (!m.pendingRestartReason().isEmpty()) {
            j.put("pending_restart_reason", m.pendingRestartReason());
        }
        if (!m.scheduledRestart().isEmpty()) {
            j.put("scheduled_restart", m.scheduledRestart());
        }
        if (!m.tags().isEmpty()) {
            j.put("tags", m.tags());
        }
        if (!leader) {
            position(j, "receive_", m.receiveLsn(), clusterLsn);
            position(j, "replay_", m.replayLsn(), clusterLsn);
            position(j, "", m.xlogLocation(), clusterLsn);
        }
        return j;
    }

    /** Patroni: "unknown" for a position not written; else its lag behind the cluster's (never negative) and the LSN. */
    private static void position(Map<String, Object> j, String kind, long lsn, long clusterLsn) {
        if (lsn <= 0) {
            j.put(kind + "lsn", "unknown");
            j.put(kind + "lag", "unknown");
            return;
        }
        j.put(kind + "lag", clusterLsn >= lsn ? clusterLsn - lsn : 0L);
        j.put(kind + "lsn", Lsn.format(lsn));
    }

    /** The failover key's scheduled_at as Patroni shows it (parsed, then isoformat); as written if it does not parse. */
    private static String isoformat(String scheduledAt) {
        try {
            return ScheduledAt.isoformat(ScheduledAt.parse(scheduledAt));
        } catch (ScheduledAt.Invalid e) {
            return scheduledAt;
        }
    }

    private static void hostPort(String connUrl, Map<String, Object> j) {
        if (connUrl == null) {
            return;
        }
        try {
            URI u = URI.create(connUrl);
            if (u.getHost() == null) {
                return; // Patroni: no host, no host or port
            }
            // Patroni's urlparse().hostname: an IPv6 host without its brackets; no port is libpq's 5432
            j.put("host", u.getHost().replaceAll("^\\[|\\]$", ""));
            j.put("port", u.getPort() < 0 ? 5432 : u.getPort());
        } catch (IllegalArgumentException e) {
            // a hand-edited member key with a bad conn_url: leave host and port out
        }
    }
}
