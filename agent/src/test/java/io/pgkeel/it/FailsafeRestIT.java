package io.pgkeel.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The failsafe_mode REST surfaces on a real cluster, as Patroni 4.1's api.py answers them: GET /failsafe lists the
 * key the leader keeps; POST /failsafe is refused by the primary and accepted (with the lsn header) by a replica;
 * /patroni's failsafe_mode_is_active, the three failsafe metrics and /primary follow the live state while etcd is
 * frozen; with failsafe_mode turned off, both answer 502.
 */
@TestMethodOrder(MethodOrderer.MethodName.class)
class FailsafeRestIT extends ClusterTestBase {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @Override
    protected String scope() {
        return "it-failsafe-rest";
    }

    @Override
    protected TestCluster newCluster() {
        return TestCluster.start(scope(), 2, FailsafeIT.FAILSAFE_MODE_ON);
    }

    private static HttpResponse<String> call(AgentProcess node, String method, String path, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.apiPort + path))
                .timeout(Duration.ofSeconds(10)).method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        try {
            return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new AssertionError(method + " " + path + " on " + node.name + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static String apiUrl(AgentProcess n) {
        return "http://127.0.0.1:" + n.apiPort + "/patroni";
    }

    /** The metric's value on {@code node}, as the text exposition prints it. */
    private static String metric(AgentProcess node, String name) {
        return call(node, "GET", "/metrics", null).body().lines().filter(l -> l.startsWith(name + "{"))
                .map(l -> l.substring(l.lastIndexOf(' ') + 1)).findFirst().orElse("missing");
    }

    private AgentProcess replica() {
        AgentProcess leader = cluster.leader();
        return cluster.nodes.stream().filter(n -> n != leader).findFirst().orElseThrow();
    }

    @Test
    void a_getFailsafeListsTheKeyTheLeaderKeeps() {
        cluster.awaitHealthy(Duration.ofSeconds(90));
        String expected = "{" + cluster.nodes.stream().sorted((x, y) -> x.name.compareTo(y.name))
                .map(n -> "\"" + n.name + "\":\"" + apiUrl(n) + "\"").reduce((x, y) -> x + "," + y).orElseThrow()
                + "}";
        for (AgentProcess n : cluster.nodes) {
            Await.until(Duration.ofSeconds(30), "GET /failsafe on " + n.name, () -> call(n, "GET", "/failsafe", null)
                    .body().equals(expected), () -> call(n, "GET", "/failsafe", null).body());
            assertThat(call(n, "GET", "/failsafe", null).statusCode()).isEqualTo(200);
            assertThat(metric(n, "patroni_failsafe_mode_enabled")).isEqualTo("1.0");
            assertThat(metric(n, "patroni_failsafe_member")).isEqualTo("1.0");
            assertThat(metric(n, "patroni_failsafe_mode_is_active")).isEqualTo("0.0");
            assertThat(call(n, "GET", "/patroni", null).body()).doesNotContain("failsafe_mode_is_active");
        }
    }

    @Test
    void b_postFailsafeIsRefusedByThePrimaryAndAcceptedByAReplica() {
        AgentProcess leader = cluster.leader();
        String fromLeader = "{\"name\": \"" + leader.name + "\", \"conn_url\": \"postgres://127.0.0.1:" + leader.pgPort
                + "/postgres\", \"api_url\": \"" + apiUrl(leader) + "\", \"slots\": null}";
        HttpResponse<String> toPrimary = call(leader, "POST", "/failsafe", fromLeader);
        assertThat(toPrimary.statusCode()).isEqualTo(500);
        assertThat(toPrimary.body()).isEqualTo("Running as a leader");
        HttpResponse<String> toReplica = call(replica(), "POST", "/failsafe", fromLeader);
        assertThat(toReplica.statusCode()).isEqualTo(200);
        assertThat(toReplica.body()).isEqualTo("Accepted");
        assertThat(toReplica.headers().firstValue("lsn")).hasValueSatisfying(l ->
                assertThat(Long.parseLong(l)).as("the replica's received/replayed position").isPositive());
        HttpResponse<String> bad = call(replica(), "POST", "/failsafe", fromLeader.replace("\"conn_url\"", "\"x\""));
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).isEqualTo("Invalid failsafe request: 'conn_url' must be a non-empty string");
    }

    /** {@code GET /patroni} on {@code node}, or "" while its REST API does not answer (an agent starting). */
    private static String patroniOrNothing(AgentProcess node) {
        try {
            return call(node, "GET", "/patroni", null).body();
        } catch (AssertionError e) {
            return "";
        }
    }

    /**
     * A replica's promise is on disk beside its data directory before it answers Accepted, and a kill -9 of its agent
     * does not make it forget: the new agent reads it back and says so in GET /patroni. A switchover to it is refused
     * up front while it runs (it could not promote).
     */
    @Test
    void b2_aPromiseOutlivesTheAgentAndASwitchoverToThePromisedReplicaIsRefused() {
        AgentProcess leader = cluster.leader();
        AgentProcess promised = replica();
        String fromLeader = "{\"name\": \"" + leader.name + "\", \"conn_url\": \"postgres://127.0.0.1:" + leader.pgPort
                + "/postgres\", \"api_url\": \"" + apiUrl(leader) + "\", \"ttl\": 60}";
        assertThat(call(promised, "POST", "/failsafe", fromLeader).body()).isEqualTo("Accepted");
        Path file = promised.dataDir().resolveSibling(promised.dataDir().getFileName() + ".failsafe.json");
        assertThat(file).as("written before Accepted").content().contains("\"name\":\"" + leader.name + "\"");
        promised.kill9();
        promised.start();
        Await.until(Duration.ofSeconds(45), "the restarted agent keeps the promise",
                () -> patroniOrNothing(promised).contains("\"failsafe_mode_is_active\":true"),
                () -> patroniOrNothing(promised));
        HttpResponse<String> switchover = call(leader, "POST", "/switchover", "{\"leader\": \"" + leader.name
                + "\", \"candidate\": \"" + promised.name + "\"}");
        assertThat(switchover.statusCode()).isEqualTo(412);
        assertThat(switchover.body()).isEqualTo("switchover is not possible: candidate '" + promised.name
                + "' promised a primary in failsafe mode not to become primary for now (failsafe_mode_is_active)");
        assertThat(cluster.leader()).isSameAs(leader);
    }

    @Test
    void c_withEtcdFrozenThePrimaryInFailsafeAnswersAsTheLeader() {
        cluster.awaitHealthy(Duration.ofSeconds(90));
        AgentProcess primary = cluster.leader();
        AgentProcess replica = replica();
        cluster.etcd.freeze();
        try {
            // past the lease: only the failsafe rounds keep it the leader
            Await.until(Duration.ofSeconds(TestCluster.TTL * 2L), "failsafe active on the primary",
                    () -> call(primary, "GET", "/patroni", null).body().contains("\"failsafe_mode_is_active\":true"),
                    () -> call(primary, "GET", "/patroni", null).body());
            Await.pause(TestCluster.TTL * 1000L);
            assertThat(call(primary, "GET", "/patroni", null).body()).contains("\"failsafe_mode_is_active\":true");
            assertThat(call(primary, "GET", "/primary", null).statusCode()).isEqualTo(200);
            assertThat(call(primary, "GET", "/leader", null).statusCode()).isEqualTo(200);
            assertThat(call(primary, "GET", "/readiness", null).statusCode()).isEqualTo(200);
            assertThat(metric(primary, "patroni_failsafe_mode_is_active")).isEqualTo("1.0");
            assertThat(metric(primary, "patroni_primary")).isEqualTo("1.0");
            assertThat(call(replica, "GET", "/patroni", null).body()).as("the replica's promise runs")
                    .contains("\"failsafe_mode_is_active\":true");
            assertThat(call(replica, "GET", "/primary", null).statusCode()).isEqualTo(503);
            assertThat(call(replica, "GET", "/replica", null).statusCode()).isEqualTo(200);
        } finally {
            cluster.etcd.thaw();
        }
        cluster.awaitHealthy(Duration.ofSeconds(90));
        assertThat(cluster.leader().name).isEqualTo(primary.name);
        Await.until(Duration.ofSeconds(30), "failsafe inactive with etcd back",
                () -> !call(primary, "GET", "/patroni", null).body().contains("failsafe_mode_is_active"));
    }

    @Test
    void d_failsafeModeTurnedOff_bothAnswer502() {
        AgentProcess leader = cluster.leader();
        HttpResponse<String> patch = call(leader, "PATCH", "/config", "{\"failsafe_mode\": false}");
        assertThat(patch.statusCode()).as(patch.body()).isEqualTo(200);
        for (AgentProcess n : cluster.nodes) {
            Await.until(Duration.ofSeconds(30), "GET /failsafe 502 on " + n.name,
                    () -> call(n, "GET", "/failsafe", null).statusCode() == 502);
            assertThat(call(n, "POST", "/failsafe", "{\"name\": \"x\"}").statusCode()).isEqualTo(502);
            assertThat(metric(n, "patroni_failsafe_mode_enabled")).isEqualTo("0.0");
            assertThat(metric(n, "patroni_failsafe_member")).isEqualTo("0.0");
        }
    }

    /**
     * failsafe_mode: maybe typed into etcd's config key (etcdctl; PATCH /config refuses it): every agent names it in a
     * warning, counts it as off as Patroni's parse_bool does (GET /failsafe 502), and keeps running; the leader stays.
     * The same value under bootstrap.dcs in the YAML is refused at start instead (ConfigLoaderTest).
     */
    @Test
    void e_failsafeModeNotABooleanInTheConfigKey_countsAsOffAndNobodyStops() {
        AgentProcess leader = cluster.leader();
        String key = cluster.key("config");
        String config = cluster.etcd.get(key).orElseThrow();
        String maybe = config.replaceFirst("\"failsafe_mode\"\\s*:\\s*false", "\"failsafe_mode\": \"maybe\"");
        assertThat(maybe).as(config).isNotEqualTo(config);
        cluster.etcd.put(key, maybe);
        for (AgentProcess n : cluster.nodes) {
            Await.until(Duration.ofSeconds(30), n.name + " names the value", () -> n.logText()
                    .contains("config.failsafe_mode: expected true or false (or on/off, yes/no, 1/0), got 'maybe';"
                            + " using false"), n::logText);
            assertThat(call(n, "GET", "/failsafe", null).statusCode()).isEqualTo(502);
            assertThat(metric(n, "patroni_failsafe_mode_enabled")).isEqualTo("0.0");
        }
        Await.pause(3_000);
        for (AgentProcess n : cluster.nodes) {
            assertThat(n.isAlive()).as(n.name + " keeps running\n" + n.logText()).isTrue();
        }
        assertThat(cluster.leader().name).isEqualTo(leader.name);
        cluster.awaitHealthy(Duration.ofSeconds(30));
    }
}
