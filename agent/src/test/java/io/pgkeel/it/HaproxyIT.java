package io.pgkeel.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Real HAProxy with deploy/haproxy/haproxy.cfg in front of a real 3-node cluster. */
class HaproxyIT extends ClusterTestBase {
    private Haproxy haproxy;
    private int primaryPort;
    private int replicaPort;

    @Override
    protected String scope() {
        return "it-haproxy";
    }

    @BeforeAll
    void startHaproxy() {
        haproxy = Haproxy.start(cluster);
        primaryPort = haproxy.primaryPort;
        replicaPort = haproxy.replicaPort;
    }

    @AfterAll
    void stopHaproxy() {
        if (haproxy != null) {
            haproxy.close();
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

    private String status(String proxy, String server) {
        return haproxy.status(proxy, server);
    }
}
