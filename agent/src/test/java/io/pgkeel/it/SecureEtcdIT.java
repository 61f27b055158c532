package io.pgkeel.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.common.Clock;
import io.pgkeel.common.dcs.Dcs;
import io.pgkeel.common.dcs.LeaseRenewal;
import io.pgkeel.dcs.EtcdDcsFactory;
import io.pgkeel.dcs.EtcdSettings;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * pgkeel on production-like etcd: 3 members, TLS for clients and peers (peers with mutual TLS), client certificates
 * required, auth on. The agents present a client certificate in each form (PKCS#8 key, PKCS#1 key, certificate and
 * key in one file), with and without a user and password. Misconfigured agents stay up and say why, once.
 */
@TestMethodOrder(MethodOrderer.MethodName.class)
class SecureEtcdIT extends ClusterTestBase {
    /** etcd's simple tokens expire after this many idle seconds (--auth-token-ttl; etcd's default is 300). */
    private static final int TOKEN_TTL = 3;

    @Override
    protected String scope() {
        return "it-secure-etcd";
    }

    @Override
    protected TestCluster newCluster() {
        return TestCluster.start(scope(), 3, EtcdCluster.Options.secured(3).withClientCertAuth()
                .withAuthTokenTtl(TOKEN_TTL), SecureEtcdIT::etcd3As);
    }

    /**
     * Each node's (or extra agent's) etcd3 section, by member name: node1 with certificate, PKCS#8 key, user and
     * password; node2 with the PKCS#1 key and no user (its certificate's CN is the etcd user); node3 with the
     * certificate and key in one file and the user; then the misconfigured ones.
     */
    private static String etcd3As(String name, String yaml) {
        return switch (name) {
            case "node2" -> yaml.replace("/client.key", "/client-pkcs1.key").replaceAll("  username: .*\n", "")
                    .replaceAll("  password: .*\n", "");
            case "node3" -> yaml.replace("/client.crt", "/client-with-key.pem").replaceAll("  key: .*\n", "");
            case "wrongpass" -> yaml.replaceAll("  password: .*\n", "  password: not-the-password\n");
            case "wrongca" -> yaml.replace("/ca.crt", "/other-ca.crt");
            case "outsider" -> yaml.replace("  username: " + EtcdCluster.USER, "  username: " + EtcdCluster.OUTSIDER);
            case "nocert" -> yaml.replaceAll("  cert: .*\n", "").replaceAll("  key: .*\n", "");
            default -> yaml;
        };
    }

    @Test
    void a_theClusterBootstrapsAndCtlListsItsMembers() {
        assertThat(cluster.etcd.urls()).allMatch(u -> u.startsWith("https://"));
        CliRun.Result list = CliRun.pgkeel(null, Map.of(), "ctl", "-c", cluster.nodes.get(0).config.toString(), "list");
        assertThat(list.exit()).as(list.toString()).isZero();
        assertThat(list.out()).contains("node1", "node2", "node3", "Leader");
    }

    /**
     * A wrong password, a CA that did not sign etcd's certificate, a user without permission on the prefix and no
     * client certificate: each agent stays up, keeps trying, and logs one error line naming the cause and the
     * endpoints (not one per retry).
     */
    @Test
    void b_aMisconfiguredAgentStaysUpAndSaysWhyOnce() {
        Map<String, String> causes = new LinkedHashMap<>();
        causes.put("wrongpass", "authentication failed");
        causes.put("wrongca", "is not trusted");
        causes.put("outsider", "permission denied");
        causes.put("nocert", "refused this client's certificate");
        Map<String, AgentProcess> agents = new LinkedHashMap<>();
        causes.keySet().forEach(name -> agents.put(name, cluster.extraNode(name, name)));
        agents.values().forEach(AgentProcess::start);
        try {
            String endpoints = String.join(", ", cluster.etcd.urls());
            for (Map.Entry<String, String> e : causes.entrySet()) {
                AgentProcess a = agents.get(e.getKey());
                Await.until(Duration.ofSeconds(40), e.getKey() + " to log the cause '" + e.getValue() + "'",
                        () -> errorLines(a, e.getValue()) >= 1, () -> tail(a));
                assertThat(lines(a).filter(l -> l.contains(e.getValue())).findFirst().orElseThrow())
                        .contains(endpoints);
            }
            // several more cycles: every agent has retried, and none has said it again
            Await.pause(6_000);
            for (Map.Entry<String, String> e : causes.entrySet()) {
                AgentProcess a = agents.get(e.getKey());
                assertThat(a.isAlive()).as(e.getKey() + " is up").isTrue();
                assertThat(errorLines(a, e.getValue())).as(e.getKey() + ": " + tail(a)).isEqualTo(1);
            }
            cluster.awaitHealthy(Duration.ofSeconds(30));
        } finally {
            agents.values().forEach(a -> a.terminate(Duration.ofSeconds(30)));
        }
    }

    /**
     * etcd drops every token when auth is switched off and on, and refuses tokens older than a change of its auth
     * store: the agents authenticate again, the leader's lease keeps renewing and nobody demotes.
     */
    @Test
    void c_revokedTokensAreRenewedWithoutALeaderChange() {
        String leader = cluster.leaderName().orElseThrow();
        List<Runnable> revocations = List.of(
                () -> cluster.etcd.etcdctl("role", "grant-permission", EtcdCluster.USER, "read", "/unused/"),
                () -> {
                    cluster.etcd.etcdctl("auth", "disable");
                    cluster.etcd.etcdctl("auth", "enable");
                });
        for (Runnable revoke : revocations) {
            revoke.run();
            long lease = cluster.etcd.leaseOf(cluster.key("leader"));
            // the leader renews every loop (1 s): 4 s after the revocation, a lease with ttl - 2 s or more left has
            // been renewed after it
            Await.pause(4_000);
            Await.until(Duration.ofSeconds(8), "the leader lease renewed after the revocation",
                    () -> cluster.etcd.leaseRemainingSeconds(lease) >= TestCluster.TTL - 2);
            assertThat(cluster.leaderName()).hasValue(leader);
            assertThat(cluster.etcd.leaseOf(cluster.key("leader"))).isEqualTo(lease);
        }
        cluster.awaitHealthy(Duration.ofSeconds(20));
        for (AgentProcess n : cluster.nodes) {
            assertThat(n.logText()).as(n.name).doesNotContain("Demote");
        }
    }

    /**
     * A replica's agent idle for longer than the token ttl (its JVM stopped): its token has expired when it runs
     * again, and its first request of the cycle is the lease renewal. It authenticates again and renews its member
     * key's lease before that lease can run out.
     */
    @Test
    void d_anExpiredTokenIsRenewedBeforeTheLeaseRunsOut() {
        String leader = cluster.leaderName().orElseThrow();
        // node1 and node3 authenticate with a password (node2 by its certificate, without a token)
        AgentProcess replica = cluster.nodes.stream().filter(n -> !n.name.equals(leader) && !n.name.equals("node2"))
                .findFirst().orElseThrow();
        String memberKey = cluster.key("members/" + replica.name);
        Host.signal(replica.pid(), "STOP");
        try {
            Await.pause((TOKEN_TTL + 1) * 1000L);
        } finally {
            Host.signal(replica.pid(), "CONT");
        }
        Await.until(Duration.ofSeconds(8), replica.name + "'s member key lease renewed after its token expired",
                () -> cluster.etcd.leaseRemainingSeconds(cluster.etcd.leaseOf(memberKey)) >= TestCluster.TTL - 2,
                () -> tail(replica));
        assertThat(cluster.leaderName()).hasValue(leader);
        cluster.awaitHealthy(Duration.ofSeconds(20));
    }

    /**
     * The lease renewal is the first request after the token expired (no read before it, as in a leader's cycle that
     * starts with it): jetcd authenticates again only for requests through its retry policy, which a single
     * keep-alive bypasses, so the renewal itself must make it authenticate, and keep the same lease.
     */
    @Test
    void e_aRenewalWhoseTokenExpiredAuthenticatesAgainAndKeepsTheLease() {
        EtcdSettings.Security asUser = new EtcdSettings.Security(Optional.of(cluster.etcd.caCert()),
                Optional.of(cluster.etcd.clientCert()), Optional.of(cluster.etcd.clientKey()),
                Optional.of(EtcdCluster.USER), Optional.of(EtcdCluster.PASSWORD));
        try (Dcs dcs = EtcdDcsFactory.connect(new EtcdSettings(cluster.etcd.urls(), "/service/it-token/", "t",
                Duration.ofSeconds(2), "test", Clock.system(), asUser))) {
            LeaseRenewal first = dcs.keepAlive(TestCluster.TTL);
            Await.pause((TOKEN_TTL + 2) * 1000L);
            LeaseRenewal again = dcs.keepAlive(TestCluster.TTL);
            assertThat(again.leaseId()).isEqualTo(first.leaseId());
            assertThat(again.granted()).as("renewed, not granted anew").isFalse();
        }
    }

    private static java.util.stream.Stream<String> lines(AgentProcess a) {
        return a.logText().lines();
    }

    private static long errorLines(AgentProcess a, String cause) {
        Pattern error = Pattern.compile(".*\\bERROR\\b.*" + Pattern.quote(cause) + ".*");
        return lines(a).filter(l -> error.matcher(l).matches()).count();
    }

    private static String tail(AgentProcess a) {
        List<String> all = lines(a).toList();
        return String.join("\n", all.subList(Math.max(0, all.size() - 15), all.size()));
    }
}
