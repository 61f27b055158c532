package io.pgkeel.agent.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.agent.ha.NodeSnapshot;
import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.cluster.LeaderKey;
import io.pgkeel.common.cluster.Member;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ClusterJsonTest {

    @Test
    void membersInPatronisShapeWithRoleLagAndAddress() {
        Member leader = new Member("n1", "postgres://10.0.0.1:5432/postgres", "http://10.0.0.1:8008/patroni", "running",
                "primary", 3, 5000, null, Map.of(), 1);
        Member replica = new Member("n2", "postgres://10.0.0.2:5433/postgres", "http://10.0.0.2:8008/patroni",
                "running", "replica", 3, 4200, "streaming", Map.of("nofailover", true), 1);
        Member garbage = new Member("n3", "not a url at all", null, "stopped", "replica", 0, 0, null, Map.of(), 1);
        DynamicConfig paused = new DynamicConfig(30, 10, 10, 1, true, true, 1800, java.util.Set.of(), true, 300, false,
                false, Map.of(), Map.of("pause", true), 1);
        ClusterView view = new ClusterView(Optional.of("42"), Optional.of(paused), Optional.of(new LeaderKey("n1", 7, 1, 1)),
                List.of(leader, replica, garbage), Optional.of(5000L), Optional.empty(), List.of(), 9);
        NodeSnapshot base = Snapshots.primary();
        NodeSnapshot s = new NodeSnapshot(base.identity(), base.pg(), view, true, true, "x", "y", 0, 0, 30, 10);

        Map<String, Object> json = ClusterJson.of(s);
        assertThat(json).containsEntry("scope", "demo").containsEntry("pause", true);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> members = (List<Map<String, Object>>) json.get("members");
        assertThat(members.get(0)).containsEntry("name", "n1").containsEntry("role", "leader")
                .containsEntry("state", "running").containsEntry("host", "10.0.0.1").containsEntry("port", 5432)
                .doesNotContainKey("lag");
        assertThat(members.get(1)).containsEntry("role", "replica").containsEntry("state", "streaming")
                .containsEntry("lag", 800L).containsEntry("tags", Map.of("nofailover", true));
        assertThat(members.get(2)).containsEntry("lag", "unknown").doesNotContainKey("port");
    }
}
