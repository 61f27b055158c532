package io.pgkeel.agent.api;

import io.pgkeel.agent.ha.NodeSnapshot;
import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.Member;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code GET /cluster}: the members as this node last read them from etcd, in Patroni's shape. */
final class ClusterJson {
    private ClusterJson() {}

    static Map<String, Object> of(NodeSnapshot s) {
        Map<String, Object> out = new LinkedHashMap<>();
        List<Map<String, Object>> members = new ArrayList<>();
        ClusterView c = s.cluster();
        if (c != null) {
            long leaderLsn = c.lastLeaderLsn().orElse(0L);
            for (Member m : c.members()) {
                Map<String, Object> j = new LinkedHashMap<>();
                boolean leader = c.isLeader(m.name());
                j.put("name", m.name());
                j.put("role", leader ? "leader" : "replica");
                j.put("state", !leader && "streaming".equals(m.replicationState()) ? "streaming" : m.state());
                j.put("api_url", m.apiUrl());
                hostPort(m.connUrl(), j);
                if (m.timeline() > 0) {
                    j.put("timeline", m.timeline());
                }
                if (!m.tags().isEmpty()) {
                    j.put("tags", m.tags());
                }
                if (!leader) {
                    j.put("lag", m.xlogLocation() > 0 ? Math.max(0, leaderLsn - m.xlogLocation()) : "unknown");
                }
                members.add(j);
            }
            if (c.config().map(cfg -> cfg.pause()).orElse(false)) {
                out.put("pause", true);
            }
            c.failover().filter(f -> f.scheduledAt() != null).ifPresent(f -> {
                Map<String, Object> sw = new LinkedHashMap<>();
                sw.put("at", f.scheduledAt());
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

    private static void hostPort(String connUrl, Map<String, Object> j) {
        if (connUrl == null) {
            return;
        }
        try {
            URI u = URI.create(connUrl);
            // Patroni's urlparse().hostname: an IPv6 host without its brackets; no port is libpq's 5432
            j.put("host", u.getHost() == null ? null : u.getHost().replaceAll("^\\[|\\]$", ""));
            j.put("port", u.getPort() < 0 ? 5432 : u.getPort());
        } catch (IllegalArgumentException e) {
            // a hand-edited member key with a bad conn_url: leave host and port out
        }
    }
}
