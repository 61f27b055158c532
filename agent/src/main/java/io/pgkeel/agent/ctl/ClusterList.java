package io.pgkeel.agent.ctl;

import io.pgkeel.agent.api.SyncRole;
import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.Member;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** The member table of {@code list} and {@code topology}, in patronictl's columns. Pure. */
final class ClusterList {
    private ClusterList() {}

    static String render(String scope, ClusterView c, Format format, boolean extended, boolean topology) {
        boolean tagsColumn = extended || c.members().stream().anyMatch(m -> !m.tags().isEmpty());
        boolean pendingColumn = extended || c.members().stream().anyMatch(Member::pendingRestart);
        List<String> headers = new ArrayList<>(List.of("Member", "Host", "Role", "State", "TL", "Lag in MB"));
        if (pendingColumn) {
            headers.add("Pending restart");
        }
        if (tagsColumn) {
            headers.add("Tags");
        }
        long leaderLsn = c.lastLeaderLsn().orElse(c.leaderMember().map(Member::xlogLocation).orElse(0L));
        List<Member> ordered = new ArrayList<>();
        c.leaderMember().ifPresent(ordered::add);
        c.members().stream().filter(m -> !c.isLeader(m.name())).sorted((a, b) -> a.name().compareTo(b.name()))
                .forEach(ordered::add);
        List<List<String>> rows = new ArrayList<>();
        List<Map<String, Object>> objects = new ArrayList<>();
        for (Member m : ordered) {
            boolean leader = c.isLeader(m.name());
            String name = topology && !leader && c.leader().isPresent() ? "+ " + m.name() : m.name();
            String role = role(c, m);
            String state = "streaming".equals(m.replicationState()) ? "streaming" : String.valueOf(m.state());
            String lag = leader ? "" : lagMb(leaderLsn, m);
            List<String> row = new ArrayList<>(List.of(name, host(m), role, state,
                    m.timeline() > 0 ? String.valueOf(m.timeline()) : "", lag));
            Map<String, Object> obj = new LinkedHashMap<>();
            obj.put("Cluster", scope);
            obj.put("Member", m.name());
            obj.put("Host", host(m));
            obj.put("Role", role);
            obj.put("State", state);
            obj.put("TL", m.timeline());
            if (!leader) {
                obj.put("Lag in MB", lag.equals("unknown") ? lag : (Object) Long.parseLong(lag));
            }
            if (pendingColumn) {
                row.add(m.pendingRestart() ? "*" : "");
                if (m.pendingRestart()) {
                    obj.put("Pending restart", "*");
                }
            }
            if (tagsColumn) {
                row.add(m.tags().isEmpty() ? "" : new TreeMap<>(m.tags()).entrySet().stream()
                        .map(e -> e.getKey() + ": " + e.getValue()).collect(Collectors.joining(", ")));
                if (!m.tags().isEmpty()) {
                    obj.put("Tags", m.tags());
                }
            }
            rows.add(row);
            objects.add(obj);
        }
        String title = "Cluster: " + scope + c.initialize().filter(s -> !s.isEmpty()).map(s -> " (" + s + ")").orElse("");
        StringBuilder out = new StringBuilder();
        switch (format) {
            case pretty -> {
                out.append(Table.render(title, headers, rows, Set.of("TL", "Lag in MB")));
                if (c.config().map(cfg -> cfg.pause()).orElse(false)) {
                    out.append(" Maintenance mode: on\n");
                }
                c.failover().filter(f -> f.scheduledAt() != null).ifPresent(f -> {
                    out.append(" Switchover scheduled at: ").append(f.scheduledAt()).append('\n');
                    if (f.leader() != null) {
                        out.append("                    from: ").append(f.leader()).append('\n');
                    }
                    if (f.member() != null) {
                        out.append("                      to: ").append(f.member()).append('\n');
                    }
                });
            }
            case tsv -> {
                List<String> h = new ArrayList<>(headers);
                h.add(0, "Cluster");
                List<List<String>> r = rows.stream().map(x -> {
                    List<String> y = new ArrayList<>(x);
                    y.add(0, scope);
                    return y;
                }).toList();
                out.append(Table.tsv(h, r));
            }
            case json -> out.append(Format.json(objects)).append('\n');
            case yaml -> out.append(Format.yaml(objects));
        }
        return out.toString();
    }

    /**
     * patronictl 4.1's Role column: cluster_as_json's role with spaces for underscores, in title case (Leader, Sync
     * Standby, Quorum Standby, Replica).
     */
    static String role(ClusterView c, Member m) {
        if (c.isLeader(m.name())) {
            return "Leader";
        }
        return switch (SyncRole.of(c, m.name())) {
            case SYNC_STANDBY -> "Sync Standby";
            case QUORUM_STANDBY -> "Quorum Standby";
            case NONE -> "Replica";
        };
    }

    /** The lag of a member behind the leader in MB, as patronictl shows it; "unknown" without both positions. */
    static String lagMb(long leaderLsn, Member m) {
        if (m.xlogLocation() <= 0 || leaderLsn <= 0) {
            return "unknown";
        }
        return String.valueOf(Math.max(0, (leaderLsn - m.xlogLocation()) / (1024 * 1024)));
    }

    private static String host(Member m) {
        if (m.connUrl() == null) {
            return "";
        }
        try {
            URI u = URI.create(m.connUrl());
            return u.getHost() + (u.getPort() > 0 ? ":" + u.getPort() : "");
        } catch (IllegalArgumentException e) {
            return "";
        }
    }
}
