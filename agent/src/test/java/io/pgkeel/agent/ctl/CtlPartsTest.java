package io.pgkeel.agent.ctl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.cluster.FailoverKey;
import io.pgkeel.common.cluster.LeaderKey;
import io.pgkeel.common.cluster.Member;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The pure parts of pgkeel ctl: the member table, edit-config's KEY=VALUE and its diff. */
class CtlPartsTest {

    private static Member member(String name, String state, String repl, long xlog, Map<String, Object> tags) {
        return new Member(name, "postgres://10.0.0." + name.charAt(name.length() - 1) + ":5432/postgres",
                "http://x:8008/patroni", state, "replica", 3, xlog, repl, tags, 1);
    }

    private static ClusterView cluster(boolean paused, Optional<FailoverKey> failover) {
        DynamicConfig cfg = new DynamicConfig(30, 10, 10, 1048576, true, true, 1800, java.util.Set.of(), paused, 300, false,
                false, io.pgkeel.common.cluster.SyncSettings.OFF, Map.of(), Map.of(), 4);
        return new ClusterView(Optional.of("7713"), Optional.of(cfg), Optional.of(new LeaderKey("n1", 7, 1, 1)),
                List.of(member("n2", "running", "streaming", 10L * 1024 * 1024, Map.of()),
                        member("n1", "running", null, 42L * 1024 * 1024, Map.of()),
                        member("n3", "running", null, 0, Map.of("nofailover", true))),
                Optional.of(42L * 1024 * 1024), failover, List.of(), 9);
    }

    @Test
    void listShowsTheLeaderFirstWithLagInMegabytesAndTags() {
        String out = ClusterList.render("demo", cluster(false, Optional.empty()), Format.pretty, false, false);
        List<String> lines = out.lines().toList();
        assertThat(lines.get(0)).startsWith("+ Cluster: demo (7713) ");
        assertThat(lines.get(1)).matches("\\| Member \\| Host +\\| Role +\\| State +\\| TL \\| Lag in MB \\| Tags +\\|");
        assertThat(lines.get(3)).matches("\\| n1 +\\| 10\\.0\\.0\\.1:5432 \\| Leader +\\| running +\\|  3 \\| +\\| +\\|");
        assertThat(lines.get(4)).matches("\\| n2 .*\\| Replica \\| streaming \\|  3 \\| +32 \\| +\\|");
        assertThat(lines.get(5)).contains(" unknown |").contains("nofailover: true");
    }

    @Test
    void listFooterShowsPauseAndAScheduledSwitchover() {
        String out = ClusterList.render("demo", cluster(true, Optional.of(new FailoverKey("n1", "n2",
                "2026-11-28T12:00:00+00:00", 5))), Format.pretty, false, false);
        assertThat(out).contains(" Maintenance mode: on\n").contains(" Switchover scheduled at: 2026-11-28T12:00:00+00:00")
                .contains("from: n1").contains("to: n2");
    }

    @Test
    void topologyIndentsReplicasUnderTheLeader() {
        String out = ClusterList.render("demo", cluster(false, Optional.empty()), Format.pretty, false, true);
        assertThat(out).contains("| n1 ").contains("| + n2 ").contains("| + n3 ");
    }

    @Test
    void assignmentsNestOnDotsReadValuesAsYamlAndEmptyDeletes() {
        assertThat(EditConfigCmd.assignment("loop_wait=5", "")).isEqualTo(Map.of("loop_wait", 5));
        assertThat(EditConfigCmd.assignment("postgresql.use_pg_rewind=true", ""))
                .isEqualTo(Map.of("postgresql", Map.of("use_pg_rewind", true)));
        assertThat(EditConfigCmd.assignment("work_mem=8MB", "postgresql.parameters."))
                .isEqualTo(Map.of("postgresql", Map.of("parameters", Map.of("work_mem", "8MB"))));
        Map<String, Object> delete = EditConfigCmd.assignment("pause=", "");
        assertThat(delete).containsKey("pause");
        assertThat(delete.get("pause")).isNull();
        assertThatThrownBy(() -> EditConfigCmd.assignment("novalue", ""))
                .hasMessageContaining("'novalue' is not KEY=VALUE");
    }

    @Test
    void diffMarksRemovedAndAddedLines() {
        assertThat(LineDiff.diff("a: 1\nb: 2\nc: 3\n", "a: 1\nb: 5\nc: 3\nd: 4\n")).isEqualTo("""
                ---
                +++
                 a: 1
                -b: 2
                +b: 5
                 c: 3
                +d: 4
                """);
    }
}
