package io.pgkeel.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/** {@code pgkeel ctl} against a real 3-node cluster: every command, and its refusals. */
@TestMethodOrder(MethodOrderer.MethodName.class)
class CtlIT extends ClusterTestBase {

    @Override
    protected String scope() {
        return "it-ctl";
    }

    private CliRun.Result ctl(String... args) {
        return ctlWith(null, Map.of(), args);
    }

    private CliRun.Result ctlWith(String stdin, Map<String, String> env, String... args) {
        String[] full = new String[args.length + 3];
        full[0] = "ctl";
        full[1] = "-c";
        full[2] = cluster.nodes.get(0).config.toString();
        System.arraycopy(args, 0, full, 3, args.length);
        return CliRun.pgkeel(stdin, env, full);
    }

    private List<AgentProcess> replicas() {
        String leader = cluster.leaderName().orElseThrow();
        return cluster.nodes.stream().filter(n -> !n.name.equals(leader)).toList();
    }

    @Test
    void a_listShowsEveryMemberInPatronictlsColumnsAndAsJson() throws Exception {
        CliRun.Result r = ctl("list");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).contains("+ Cluster: it-ctl (").contains("| Member | Host ")
                .contains("| Role ").contains("| TL |").contains("Lag in MB").contains("Leader")
                .contains("streaming");
        for (AgentProcess n : cluster.nodes) {
            assertThat(r.out()).contains("| " + n.name + " ").contains("127.0.0.1:" + n.pgPort);
        }
        CliRun.Result json = ctl("list", "--format", "json");
        JsonNode rows = new ObjectMapper().readTree(json.out());
        assertThat(rows).hasSize(3);
        assertThat(rows.get(0).path("Role").asText()).isEqualTo("Leader");
        assertThat(rows.get(0).path("Member").asText()).isEqualTo(cluster.leaderName().orElseThrow());
        CliRun.Result topology = ctl("topology");
        assertThat(topology.out()).contains("| + " + replicas().get(0).name);
    }

    @Test
    void b_switchoverToANamedCandidate() {
        AgentProcess candidate = replicas().get(0);
        String leader = cluster.leaderName().orElseThrow();
        CliRun.Result r = ctl("switchover", "--leader", leader, "--candidate", candidate.name, "--force");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).contains("Successfully switched over to \"" + candidate.name + "\"");
        assertThat(cluster.leaderName()).contains(candidate.name);
        cluster.awaitHealthy(Duration.ofSeconds(60));
    }

    @Test
    void c_switchoverAndFailoverRefusals() throws Exception {
        String leader = cluster.leaderName().orElseThrow();
        CliRun.Result self = ctl("switchover", "--candidate", leader, "--force");
        assertThat(self.exit()).as(self.toString()).isEqualTo(1);
        assertThat(self.err()).contains("Switchover target and source are the same");

        AgentProcess tagged = replicas().get(0);
        String yaml = Files.readString(tagged.config);
        Files.writeString(tagged.config, yaml + "tags:\n  nofailover: true\n");
        Host.signal(tagged.pid(), "HUP");
        Await.until(Duration.ofSeconds(20), "nofailover in the member key", () -> cluster.etcd
                .get(cluster.key("members/" + tagged.name)).map(v -> v.contains("\"nofailover\":true")).orElse(false));
        CliRun.Result nofailover = ctl("switchover", "--candidate", tagged.name, "--force");
        assertThat(nofailover.exit()).as(nofailover.toString()).isEqualTo(1);
        assertThat(nofailover.err()).contains("Member " + tagged.name + " does not exist in cluster it-ctl or is tagged"
                + " as nofailover");
        CliRun.Result tags = ctl("list");
        assertThat(tags.out()).contains("| Tags").contains("nofailover: true");
        Files.writeString(tagged.config, yaml);
        Host.signal(tagged.pid(), "HUP");

        CliRun.Result noCandidate = ctl("failover", "--force");
        assertThat(noCandidate.exit()).as(noCandidate.toString()).isEqualTo(1);
        assertThat(noCandidate.err()).contains("Failover could be performed only to a specific candidate");
        CliRun.Result toLeader = ctl("failover", "--candidate", leader, "--force");
        assertThat(toLeader.exit()).isEqualTo(1);
        assertThat(toLeader.err()).contains("is already the leader");
        assertThat(cluster.leaderName()).contains(leader);
        Await.until(Duration.ofSeconds(20), "the tag is gone", () -> cluster.etcd
                .get(cluster.key("members/" + tagged.name)).map(v -> !v.contains("nofailover")).orElse(false));
    }

    @Test
    void d_failoverToANamedCandidateAndHistory() {
        AgentProcess candidate = replicas().get(1);
        CliRun.Result r = ctl("failover", "--candidate", candidate.name, "--force");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).contains("Successfully failed over to \"" + candidate.name + "\"");
        cluster.awaitHealthy(Duration.ofSeconds(60));
        CliRun.Result history = ctl("history");
        assertThat(history.exit()).isZero();
        assertThat(history.out()).contains("| TL |").contains("New Leader").contains(candidate.name)
                .contains("no recovery target specified");
        assertThat(history.out().lines().filter(l -> l.matches("\\|\\s+\\d+ \\|.*")).count())
                .as("one line per promotion so far").isEqualTo(2);
    }

    @Test
    void d2_scheduledSwitchoverIsListedAndFlushCancelsIt() {
        String leader = cluster.leaderName().orElseThrow();
        String later = java.time.OffsetDateTime.now(java.time.ZoneOffset.UTC).plusHours(1).withNano(0).toString();
        CliRun.Result r = ctl("switchover", "--candidate", replicas().get(0).name, "--scheduled", later, "--force");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).contains("Switchover scheduled");
        assertThat(ctl("list").out()).contains(" Switchover scheduled at: ").contains("from: " + leader);
        CliRun.Result flush = ctl("flush", "it-ctl", "switchover");
        assertThat(flush.exit()).as(flush.toString()).isZero();
        assertThat(flush.out()).contains("scheduled switchover deleted");
        assertThat(cluster.etcd.get(cluster.key("failover"))).isEmpty();
        assertThat(cluster.leaderName()).contains(leader);
    }

    @Test
    void e_pauseAndResumeWithWait() {
        CliRun.Result p = ctl("pause", "--wait");
        assertThat(p.exit()).as(p.toString()).isZero();
        assertThat(p.out()).contains("Success: cluster management is paused");
        assertThat(cluster.etcd.get(cluster.key("members/" + cluster.nodes.get(2).name)).orElseThrow())
                .contains("\"pause\":true");
        assertThat(ctl("list").out()).contains(" Maintenance mode: on");
        CliRun.Result again = ctl("pause");
        assertThat(again.exit()).isEqualTo(1);
        assertThat(again.err()).contains("Cluster is already paused");
        CliRun.Result r = ctl("resume", "--wait");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).contains("Success: cluster management is resumed");
        assertThat(ctl("list").out()).doesNotContain("Maintenance mode");
    }

    /**
     * Issue 11 §10: ttl 20 with retry_timeout 10 breaks "loop_wait + 2 * retry_timeout <= ttl"; Patroni accepts it and
     * adjusts, so must pgkeel, and pause (a PATCH of the whole key) must still work once it is in etcd. The leader keeps
     * its PostgreSQL: the fence derived from the 20 s lease never fires on a healthy cluster.
     */
    @Test
    void e2_timingPatroniAcceptsIsAcceptedAndPauseStillWorks() {
        AgentProcess leader = cluster.leader();
        long postmaster = leader.postmasterPid().orElseThrow();
        Rest.Answer odd = Rest.call(leader, "PATCH", "/config", "{\"ttl\": 20, \"retry_timeout\": 10}");
        assertThat(odd.status()).as(odd.toString()).isEqualTo(200);
        assertThat(cluster.etcd.get(cluster.key("config")).orElseThrow()).contains("\"ttl\":20")
                .contains("\"retry_timeout\":10");
        CliRun.Result p = ctl("pause", "--wait");
        assertThat(p.exit()).as(p.toString()).isZero();
        assertThat(ctl("list").out()).contains(" Maintenance mode: on");
        CliRun.Result r = ctl("resume", "--wait");
        assertThat(r.exit()).as(r.toString()).isZero();
        Await.pause(3000); // a few cycles on the 20 s lease, adjusted to loop_wait 1 and retry_timeout 9
        cluster.awaitHealthy(Duration.ofSeconds(60));
        assertThat(cluster.leaderName()).hasValue(leader.name);
        assertThat(leader.postmasterPid()).as("the fence did not stop the healthy leader").hasValue(postmaster);
        Rest.Answer back = Rest.call(leader, "PATCH", "/config", "{\"ttl\": 10, \"retry_timeout\": 4}");
        assertThat(back.status()).as(back.toString()).isEqualTo(200);
    }

    @Test
    void f_editConfigSetsKeysShowsADiffAndLosesARaceCleanly() throws Exception {
        CliRun.Result r = ctl("edit-config", "--set", "loop_wait=2", "--pg", "work_mem=8MB", "--force");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).contains("-loop_wait: 1").contains("+loop_wait: 2").contains("+    work_mem: 8MB");
        CliRun.Result show = ctl("show-config");
        assertThat(show.out()).contains("loop_wait: 2").contains("work_mem: 8MB");
        Await.until(Duration.ofSeconds(20), "work_mem applied on the leader",
                () -> "8MB".equals(Sql.queryString(cluster.leader().pgPort, "SHOW work_mem")));
        // a parameter that needs a restart: reloaded, then shown as pending until restart --pending
        assertThat(ctl("edit-config", "--pg", "max_connections=45", "--force").exit()).isZero();
        for (AgentProcess n : cluster.nodes) {
            Await.until(Duration.ofSeconds(20), n.name + " reports a pending restart", () -> cluster.etcd
                    .get(cluster.key("members/" + n.name)).map(v -> v.contains("\"pending_restart\":true")).orElse(false));
        }
        assertThat(ctl("list").out()).contains("| Pending restart |").contains("| *");
        CliRun.Result pending = ctl("restart", "--pending", "--force");
        assertThat(pending.exit()).as(pending.toString()).isZero();
        assertThat(Sql.queryString(cluster.leader().pgPort, "SHOW max_connections")).isEqualTo("45");
        Await.until(Duration.ofSeconds(20), "no pending restart left", () -> !ctl("list").out().contains("Pending"));
        cluster.awaitHealthy(Duration.ofSeconds(60));
        // a value of the wrong type is refused; an odd number is adjusted as Patroni does (RestApiHandlerTest)
        CliRun.Result invalid = ctl("edit-config", "--set", "ttl=thirty", "--force");
        assertThat(invalid.exit()).isEqualTo(1);
        assertThat(invalid.err()).contains("config.ttl");

        // the race: while the operator edits, someone else changes the key; the edit must not overwrite it
        Path editor = cluster.dir.resolve("racing-editor.sh");
        Files.writeString(editor, "#!/bin/sh\ncurl -s -X PATCH -H 'Content-Type: application/json' -d '{\"ttl\": 11}'"
                + " http://127.0.0.1:" + cluster.leader().apiPort + "/config > /dev/null\n"
                + "sed -i 's/^loop_wait: 2/loop_wait: 1/' \"$1\"\n");
        Files.setPosixFilePermissions(editor, PosixFilePermissions.fromString("rwxr-xr-x"));
        CliRun.Result raced = ctlWith(null, Map.of("EDITOR", editor.toString()), "edit-config", "--force");
        assertThat(raced.exit()).as(raced.toString()).isEqualTo(1);
        assertThat(raced.err()).contains("Config modification aborted due to concurrent changes");
        CliRun.Result after = ctl("show-config");
        assertThat(after.out()).contains("ttl: 11").contains("loop_wait: 2");
        assertThat(ctl("edit-config", "--set", "loop_wait=1", "--set", "ttl=10", "--force").exit()).isZero();
    }

    @Test
    void g_restartReloadAndReinit() {
        AgentProcess replica = replicas().get(0);
        CliRun.Result restart = ctl("restart", replica.name, "--force");
        assertThat(restart.exit()).as(restart.toString()).isZero();
        assertThat(restart.out()).contains("Success: restart on member " + replica.name);
        long postmaster = replica.postmasterPid().orElseThrow();
        String soon = java.time.OffsetDateTime.now(java.time.ZoneOffset.UTC).plusSeconds(4).withNano(0).toString();
        CliRun.Result scheduled = ctl("restart", replica.name, "--scheduled", soon, "--force");
        assertThat(scheduled.exit()).as(scheduled.toString()).isZero();
        assertThat(scheduled.out()).contains("Success: restart scheduled on member " + replica.name);
        Await.until(Duration.ofSeconds(30), "the scheduled restart", () -> replica.postmasterPid().isPresent()
                && replica.postmasterPid().getAsLong() != postmaster);
        cluster.awaitHealthy(Duration.ofSeconds(60));
        CliRun.Result reload = ctl("reload", "--force");
        assertThat(reload.exit()).as(reload.toString()).isZero();
        assertThat(reload.out()).contains("Reload request received for member " + replica.name);
        CliRun.Result leaderReinit = ctl("reinit", cluster.leaderName().orElseThrow(), "--force");
        assertThat(leaderReinit.exit()).isEqualTo(1);
        assertThat(leaderReinit.out()).contains("I am the leader, can not reinitialize");
        CliRun.Result reinit = ctl("reinit", replica.name, "--force", "--wait");
        assertThat(reinit.exit()).as(reinit.toString()).isZero();
        assertThat(reinit.out()).contains("Success: reinitialize for member " + replica.name)
                .contains("Reinitialize is completed on: " + replica.name);
        cluster.awaitHealthy(Duration.ofSeconds(60));
    }

    @Test
    void h_helpCompletionVersionAndBadConfig() {
        for (String cmd : List.of("list", "topology", "switchover", "failover", "restart", "reinit", "reload", "pause",
                "resume", "show-config", "edit-config", "history", "flush", "remove", "version")) {
            CliRun.Result help = CliRun.pgkeel(null, Map.of(), "ctl", cmd, "--help");
            assertThat(help.exit()).as(cmd + ": " + help).isZero();
            assertThat(help.out()).contains("Usage: pgkeel ctl " + cmd);
        }
        CliRun.Result completion = CliRun.pgkeel(null, Map.of(), "generate-completion");
        assertThat(completion.exit()).isZero();
        assertThat(completion.out()).contains("complete -F").contains("switchover");
        CliRun.Result version = ctl("version");
        assertThat(version.out()).contains("pgkeel ctl version").contains(cluster.nodes.get(0).name + ": pgkeel");
        CliRun.Result bad = CliRun.pgkeel(null, Map.of(), "ctl", "-c", "/nonexistent.yml", "list");
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.err()).contains("/nonexistent.yml");
    }

    @Test
    void z_removeAsksForTheClusterNameThenDeletesEveryKey() {
        CliRun.Result wrong = ctlWith("other\n", Map.of(), "remove", "it-ctl");
        assertThat(wrong.exit()).isEqualTo(1);
        assertThat(wrong.err()).contains("Cluster names specified do not match");
        for (AgentProcess n : cluster.nodes) {
            n.terminate(Duration.ofSeconds(60));
        }
        CliRun.Result r = ctlWith("it-ctl\nYes I am aware\n", Map.of(), "remove", "it-ctl");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(cluster.etcd.get(cluster.key("config"))).isEmpty();
        assertThat(cluster.etcd.get(cluster.key("initialize"))).isEmpty();
        assertThat(cluster.etcd.get(cluster.key("history"))).isEmpty();
    }
}
