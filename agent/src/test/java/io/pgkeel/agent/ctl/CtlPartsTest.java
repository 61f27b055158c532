package io.pgkeel.agent.ctl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.cluster.FailoverKey;
import io.pgkeel.common.cluster.LeaderKey;
import io.pgkeel.common.cluster.Member;
import io.pgkeel.common.cluster.SyncKey;
import io.pgkeel.common.cluster.SyncMode;
import io.pgkeel.common.cluster.SyncSettings;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

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

    /** The cluster of {@link #cluster} with synchronous_mode {@code mode}, the sync key {@code sync} and leader n1. */
    private static ClusterView inSyncMode(String mode, SyncKey sync, String leader) {
        ClusterView c = cluster(false, Optional.empty());
        DynamicConfig cfg = new DynamicConfig(30, 10, 10, 1048576, true, true, 1800, java.util.Set.of(), false, 300,
                false, false, new SyncSettings(SyncMode.parse(mode), false, 1, -1), Map.of(),
                Map.of("synchronous_mode", mode), 4);
        return new ClusterView(c.initialize(), Optional.of(cfg),
                Optional.ofNullable(leader).map(l -> new LeaderKey(l, 7, 1, 1)), c.members(), c.lastLeaderLsn(),
                c.failover(), c.history(), c.revision()).withSync(Optional.ofNullable(sync));
    }

    private static SyncKey key(String leader, String voters) {
        return new SyncKey(leader, SyncKey.splitNames(voters), 0, 3);
    }

    /** patronictl 4.1 list: the role of cluster_as_json, its underscores as spaces, title case; n2 and n3 are replicas. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "off, n2 named     | off    | n1 | n2    | n1 | Replica      | Replica",
            "on, n2 named      | on     | n1 | n2    | n1 | Sync Standby | Replica",
            "on, both named    | on     | n1 | n2,n3 | n1 | Sync Standby | Sync Standby",
            "on, no sync key   | on     |    |       | n1 | Replica      | Replica",
            "on, stale key     | on     | n3 | n2    | n1 | Replica      | Replica",
            "quorum, n3 named  | quorum | n1 | n3    | n1 | Replica      | Quorum Standby",
            "quorum, stale key | quorum | n3 | n2    | n1 | Replica      | Replica"})
    void listShowsSyncAndQuorumStandbys(String name, String mode, String keyLeader, String voters, String leader,
                                        String n2, String n3) {
        ClusterView c = inSyncMode(mode, keyLeader == null ? null : key(keyLeader, voters), leader);
        String pretty = ClusterList.render("demo", c, Format.pretty, false, false);
        assertThat(pretty.lines().filter(l -> l.startsWith("| n2 ")).findFirst().orElseThrow())
                .contains("| " + n2 + " ");
        assertThat(pretty.lines().filter(l -> l.startsWith("| n3 ")).findFirst().orElseThrow())
                .contains("| " + n3 + " ");
        assertThat(ClusterList.render("demo", c, Format.json, false, false))
                .contains("\"Member\":\"n2\",\"Host\":\"10.0.0.2:5432\",\"Role\":\"" + n2 + "\"");
    }

    /**
     * patronictl 4.1 _do_failover_or_switchover: without --force, a failover in synchronous mode (on or quorum) to a
     * member the sync key does not name (as a standby or as its leader) asks first; none when there is no sync key.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "off: no question                  | off    | n1 | n2 | n3 | ",
            "on, async candidate               | on     | n1 | n2 | n3 | Are you sure you want to failover to the asynchronous node n3?",
            "on, sync candidate                | on     | n1 | n2 | n2 | ",
            "on, the key's leader              | on     | n1 | n2 | n1 | ",
            "on, named in capitals             | on     | n1 | N3 | n3 | ",
            "on, no sync key                   | on     |    |    | n3 | ",
            "quorum, async candidate           | quorum | n1 | n2 | n3 | Are you sure you want to failover to the asynchronous node n3?",
            "quorum, quorum candidate          | quorum | n1 | n3 | n3 | "})
    void failoverToAnAsynchronousMemberAsksFirst(String name, String mode, String keyLeader, String voters,
                                                 String candidate, String question) {
        ClusterView c = inSyncMode(mode, keyLeader == null ? null : key(keyLeader, voters), null);
        assertThat(FailoverCmd.asyncCandidateQuestion(c, candidate)).isEqualTo(Optional.ofNullable(question));
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
