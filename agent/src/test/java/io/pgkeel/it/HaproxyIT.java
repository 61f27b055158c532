package io.pgkeel.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Real HAProxy with deploy/haproxy/haproxy.cfg in front of a real 3-node cluster. */
class HaproxyIT extends ClusterTestBase {
    private Process haproxy;
    private int primaryPort;
    private int replicaPort;
    private int statsPort;

    @Override
    protected String scope() {
        return "it-haproxy";
    }

    @BeforeAll
    void startHaproxy() throws IOException {
        Path config = Path.of(System.getProperty("pgkeel.deploy"), "haproxy", "haproxy.cfg");
        Path binary = Host.requireExecutable(Path.of("/usr/sbin/haproxy"), "haproxy");
        primaryPort = Host.freePort();
        replicaPort = Host.freePort();
        statsPort = Host.freePort();
        ProcessBuilder pb = new ProcessBuilder(binary.toString(), "-db", "-f", config.toString())
                .redirectErrorStream(true).redirectOutput(cluster.dir.resolve("haproxy.log").toFile());
        var env = pb.environment();
        env.put("PGKEEL_BIND", "127.0.0.1");
        env.put("PGKEEL_PRIMARY_PORT", String.valueOf(primaryPort));
        env.put("PGKEEL_REPLICA_PORT", String.valueOf(replicaPort));
        env.put("PGKEEL_STATS_PORT", String.valueOf(statsPort));
        for (int i = 0; i < 3; i++) {
            AgentProcess n = cluster.nodes.get(i);
            env.put("PGKEEL_NODE" + (i + 1), "127.0.0.1:" + n.pgPort);
            env.put("PGKEEL_NODE" + (i + 1) + "_API", String.valueOf(n.apiPort));
        }
        haproxy = pb.start();
        // HAProxy starts every server as UP until its checks say otherwise: wait for them to settle
        String leader = cluster.leader().name;
        Await.until(Duration.ofSeconds(20), "HAProxy to mark only the leader up for writes and only replicas for reads",
                () -> cluster.nodes.stream().allMatch(n -> status("primary", n.name)
                        .startsWith(n.name.equals(leader) ? "UP" : "DOWN")
                        && status("replicas", n.name).startsWith(n.name.equals(leader) ? "DOWN" : "UP")),
                () -> cluster.nodes.stream().map(n -> n.name + "=" + status("primary", n.name) + "/"
                        + status("replicas", n.name)).toList().toString());
    }

    @AfterAll
    void stopHaproxy() throws InterruptedException {
        if (haproxy != null) {
            haproxy.destroy();
            if (!haproxy.waitFor(10, TimeUnit.SECONDS)) {
                haproxy.destroyForcibly();
            }
        }
    }

    private String serverPort(int port) {
        return Sql.queryString(port, "SELECT inet_server_port()");
    }

    @Test
    void writesGoToThePrimaryReadsToReplicas_andAfterAPrimaryCrashWritesReachTheNewPrimary() throws Exception {
        AgentProcess primary = cluster.leader();
        assertThat(serverPort(primaryPort)).isEqualTo(String.valueOf(primary.pgPort));
        Sql.execute(primaryPort, "CREATE TABLE haproxy_check (id serial PRIMARY KEY)");
        assertThat(Sql.tryExecute(primaryPort, "INSERT INTO haproxy_check DEFAULT VALUES")).isTrue();

        Set<String> readPorts = new HashSet<>();
        Await.until(Duration.ofSeconds(20), "reads spread over both replicas", () -> {
            readPorts.clear();
            for (int i = 0; i < 6; i++) {
                readPorts.add(serverPort(replicaPort));
            }
            return readPorts.size() == 2;
        }, readPorts::toString);
        Set<String> replicaPorts = new HashSet<>();
        cluster.nodes.stream().filter(n -> n != primary).forEach(n -> replicaPorts.add(String.valueOf(n.pgPort)));
        assertThat(readPorts).isEqualTo(replicaPorts);
        assertThat(Sql.queryString(replicaPort, "SELECT pg_is_in_recovery()")).isEqualTo("t");

        long killedAt = System.nanoTime();
        primary.kill9();
        primary.killPostgresTree();
        Await.until(Duration.ofSeconds(TestCluster.TTL + 20), "a write through HAProxy on the new primary",
                () -> Sql.tryExecute(primaryPort, "INSERT INTO haproxy_check DEFAULT VALUES"));
        System.out.printf("kill -9 of %s -> first write through HAProxy: %.2f s%n", primary.name,
                (System.nanoTime() - killedAt) / 1e9);
        AgentProcess next = cluster.leader();
        assertThat(next).isNotEqualTo(primary);
        assertThat(serverPort(primaryPort)).isEqualTo(String.valueOf(next.pgPort));
        assertThat(status("primary", primary.name)).startsWith("DOWN");

        cluster.startAgent(primary);
        cluster.awaitHealthy(Duration.ofSeconds(90));
        Await.until(Duration.ofSeconds(20), "the rejoined node up for reads and still down for writes",
                () -> status("replicas", primary.name).startsWith("UP") && status("primary", primary.name).startsWith("DOWN"),
                () -> status("primary", primary.name) + " / " + status("replicas", primary.name));
    }

    /** The status column of one server in HAProxy's CSV stats. */
    private String status(String proxy, String server) {
        try {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + statsPort + "/;csv")).timeout(Duration.ofSeconds(3)).build(),
                    HttpResponse.BodyHandlers.ofString());
            List<String> lines = r.body().lines().toList();
            List<String> header = List.of(lines.get(0).replaceFirst("^# ", "").split(","));
            int status = header.indexOf("status");
            return lines.stream().map(l -> l.split(",")).filter(f -> f.length > status && f[0].equals(proxy)
                    && f[1].equals(server)).map(f -> f[status]).findFirst().orElse("missing");
        } catch (IOException e) {
            return "unreachable: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }
}
