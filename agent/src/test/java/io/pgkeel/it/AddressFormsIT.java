package io.pgkeel.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Issue 11 §1 on a real cluster: {@code restapi.listen: '*:port'} answers on IPv4 and IPv6; PostgreSQL listens on
 * {@code [::1]} and {@code ::1} forms (listen_addresses without brackets), and a replica streams from a primary whose
 * connect_address is IPv6, through a conn_url with brackets.
 */
class AddressFormsIT extends ClusterTestBase {

    /** node1 writes IPv6 in brackets, node2 without; both listen on IPv4 too, where the test's SQL connects. */
    private static String ipv6Forms(String name, String yaml) {
        boolean brackets = name.equals("node1");
        yaml = yaml.replaceFirst("  listen: 127\\.0\\.0\\.1:(\\d+)", "  listen: '*:$1'");
        yaml = yaml.replaceFirst("  listen: 127\\.0\\.0\\.1:(\\d+)\n  connect_address: 127\\.0\\.0\\.1:(\\d+)",
                brackets ? "  listen: '127.0.0.1,[::1]:$1'\n  connect_address: '[::1]:$2'"
                        : "  listen: '127.0.0.1, ::1:$1'\n  connect_address: '::1:$2'");
        return yaml.replace("    - local all all trust\n", """
                    - local all all trust
                    - host all all ::1/128 scram-sha-256
                    - host replication replicator ::1/128 scram-sha-256
                """);
    }

    @Override
    protected String scope() {
        return "it-addresses";
    }

    @Override
    protected TestCluster newCluster() {
        return TestCluster.start(scope(), 2, AddressFormsIT::ipv6Forms);
    }

    @Test
    void restApiOnStarAnswersOnIpv4AndIpv6() throws IOException {
        for (AgentProcess n : cluster.nodes) {
            for (String address : new String[] {"127.0.0.1", "::1"}) {
                assertThat(health(address, n.apiPort)).as(n.name + " on " + address).startsWith("HTTP/1.1 200");
            }
        }
    }

    @Test
    void postgresqlListensOnTheIpv6FormsWithoutBrackets() {
        for (AgentProcess n : cluster.nodes) {
            assertThat(Sql.queryString(n.pgPort, "SHOW listen_addresses")).as(n.name).isEqualTo("127.0.0.1,::1");
            assertThat(Sql.queryString(n.pgPort, "SHOW port")).isEqualTo(String.valueOf(n.pgPort));
            assertThat(cluster.etcd.get(cluster.key("members/" + n.name)).orElseThrow())
                    .contains("\"conn_url\":\"postgres://[::1]:" + n.pgPort + "/postgres\"");
        }
    }

    @Test
    void theReplicaStreamsOverIpv6() {
        cluster.awaitHealthy(Duration.ofSeconds(90));
        AgentProcess primary = cluster.leader();
        assertThat(Sql.queryString(primary.pgPort,
                "SELECT string_agg(host(client_addr), ',') FROM pg_stat_replication")).isEqualTo("::1");
    }

    private static String health(String address, int port) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getByName(address), port), 2000);
            s.setSoTimeout(5000);
            s.getOutputStream().write("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.ISO_8859_1));
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }
}
