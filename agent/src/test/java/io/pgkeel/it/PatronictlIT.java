package io.pgkeel.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Debian's patronictl (Patroni 3.0) driving a pgkeel cluster: it reads our etcd keys and calls our REST API, so
 * this is the compatibility check that matters to operators who keep their tooling.
 */
@TestMethodOrder(MethodOrderer.MethodName.class)
class PatronictlIT extends ClusterTestBase {
    private static final Path PATRONICTL = Path.of("/usr/bin/patronictl");
    private Path config;

    @Override
    protected String scope() {
        return "it-patronictl";
    }

    @BeforeAll
    void writePatronictlConfig() throws Exception {
        Host.requireExecutable(PATRONICTL, "patroni");
        config = cluster.dir.resolve("patronictl.yml");
        Files.writeString(config, "scope: it-patronictl\nnamespace: /service/\netcd3:\n  hosts: "
                + cluster.etcd.endpoint() + "\n");
    }

    private CliRun.Result patronictl(String... args) {
        List<String> cmd = new ArrayList<>(List.of(PATRONICTL.toString(), "-c", config.toString()));
        cmd.addAll(List.of(args));
        return CliRun.run(cmd, null, Map.of("HOME", cluster.dir.toString()));
    }

    private List<AgentProcess> replicas() {
        String leader = cluster.leaderName().orElseThrow();
        return cluster.nodes.stream().filter(n -> !n.name.equals(leader)).toList();
    }

    @Test
    void a_list() {
        CliRun.Result r = patronictl("list");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).contains("Cluster: it-patronictl").contains("Leader").contains("Replica");
        for (AgentProcess n : cluster.nodes) {
            assertThat(r.out()).contains(n.name).contains("127.0.0.1:" + n.pgPort);
        }
        assertThat(r.out().lines().filter(l -> l.contains("| Replica")).filter(l -> l.contains("running")
                || l.contains("streaming")).count()).isEqualTo(2);
    }

    @Test
    void b_switchoverForce() {
        String leader = cluster.leaderName().orElseThrow();
        String candidate = replicas().get(0).name;
        CliRun.Result r = patronictl("switchover", "--leader", leader, "--candidate", candidate, "--force");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).contains("Successfully switched over to \"" + candidate + "\"");
        assertThat(cluster.leaderName()).contains(candidate);
        cluster.awaitHealthy(Duration.ofSeconds(60));
        assertThat(patronictl("list").out()).containsPattern("\\| " + candidate + "\\s+\\|[^\\n]*\\| Leader");
    }

    @Test
    void c_failoverToACandidate() {
        String candidate = replicas().get(1).name;
        CliRun.Result r = patronictl("failover", "--candidate", candidate, "--force");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).contains("over to \"" + candidate + "\"");
        assertThat(cluster.leaderName()).contains(candidate);
        cluster.awaitHealthy(Duration.ofSeconds(60));
    }

    @Test
    void d_pauseAndResume() {
        CliRun.Result p = patronictl("pause", "--wait");
        assertThat(p.exit()).as(p.toString()).isZero();
        assertThat(p.out()).contains("Success: cluster management is paused");
        assertThat(patronictl("list").out()).contains("Maintenance mode: on");
        CliRun.Result r = patronictl("resume", "--wait");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).contains("Success: cluster management is resumed");
        assertThat(patronictl("list").out()).doesNotContain("Maintenance mode");
    }

    @Test
    void e_editConfigSet() {
        CliRun.Result r = patronictl("edit-config", "--set", "maximum_lag_on_failover=2097152", "--force");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(cluster.etcd.get(cluster.key("config")).orElseThrow())
                .containsPattern("\"maximum_lag_on_failover\":\\s*2097152");
        CliRun.Result show = patronictl("show-config");
        assertThat(show.out()).contains("maximum_lag_on_failover: 2097152");
    }

    @Test
    void f_history() {
        CliRun.Result r = patronictl("history");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).contains("TL").contains("New Leader").contains("no recovery target specified");
        assertThat(r.out().lines().filter(l -> l.matches("\\|\\s+\\d+ \\|.*")).count()).isEqualTo(2);
    }
}
