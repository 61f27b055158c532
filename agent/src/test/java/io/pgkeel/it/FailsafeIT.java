package io.pgkeel.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.function.BinaryOperator;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * failsafe_mode (issue 13) on a real cluster: etcd frozen (SIGSTOP: it answers nothing, as etcd without quorum) with
 * failsafe_mode on. While every member confirms the primary (POST /failsafe between real agents), writes go on and
 * nobody promotes; once one member stops answering, the primary stops taking writes within ttl.
 */
@TestMethodOrder(MethodOrderer.MethodName.class)
class FailsafeIT extends ClusterTestBase {
    private static final Duration TTL = Duration.ofSeconds(TestCluster.TTL);

    @Override
    protected String scope() {
        return "it-failsafe";
    }

    /** The standard YAML with failsafe_mode on in bootstrap.dcs. */
    static final BinaryOperator<String> FAILSAFE_MODE_ON = (name, yaml) -> yaml.replace("    retry_timeout: "
            + TestCluster.RETRY_TIMEOUT, "    retry_timeout: " + TestCluster.RETRY_TIMEOUT + "\n    failsafe_mode: true");

    @Override
    protected TestCluster newCluster() {
        return TestCluster.start(scope(), 3, FAILSAFE_MODE_ON);
    }

    /** The leader keeps the failsafe key naming every member's REST API. */
    private void awaitFailsafeKey() {
        Await.until(Duration.ofSeconds(30), "the failsafe key names every member", () -> cluster.etcd
                .get(cluster.key("failsafe")).map(v -> cluster.nodes.stream()
                        .allMatch(n -> v.contains("\"" + n.name + "\":\"http://127.0.0.1:" + n.apiPort + "/patroni\"")))
                .orElse(false), () -> cluster.etcd.get(cluster.key("failsafe")).orElse("none"));
    }

    @Test
    void a_etcdFrozenForTwoAndAHalfTtl_writesGoOnNobodyPromotes_thenOnePrimaryAgain() {
        cluster.awaitHealthy(Duration.ofSeconds(90));
        awaitFailsafeKey();
        AgentProcess primary = cluster.leader();
        try (Writer writer = new Writer(cluster.nodes, "failsafe_writes", 50)) {
            Await.pause(2000);
            int before = writer.count();
            long frozenAt = System.nanoTime();
            cluster.etcd.freeze();
            try {
                long until = frozenAt + TTL.multipliedBy(5).dividedBy(2).toNanos();
                while (System.nanoTime() - until < 0) {
                    assertThat(cluster.writablePrimaries()).as("only the primary takes writes while etcd is frozen")
                            .extracting(n -> n.name).containsExactly(primary.name);
                    Await.pause(200);
                }
            } finally {
                cluster.etcd.thaw();
            }
            long thawedAt = System.nanoTime();
            long gap = writer.longestGapMillisAround(frozenAt, thawedAt);
            System.out.printf("etcd frozen %.1f s with failsafe_mode on: %d writes acknowledged meanwhile, longest gap"
                    + " %d ms%n", (thawedAt - frozenAt) / 1e9, writer.count() - before, gap);
            assertThat(writer.count() - before).as("writes went on").isGreaterThan(100);
            assertThat(gap).as("no write gap over 1 s").isLessThan(1000);
            assertThat(primary.logText()).contains("continue to run as a leader because failsafe mode is enabled and"
                    + " all members are accessible");
            cluster.awaitHealthy(Duration.ofSeconds(90));
            assertThat(cluster.leader().name).as("the same primary leads after the outage").isEqualTo(primary.name);
            assertThat(cluster.nodes.stream().filter(n -> n != primary)
                    .noneMatch(n -> n.logText().contains("promoted self"))).isTrue();
        }
    }

    @Test
    void b_etcdFrozenAndOneReplicaSilent_thePrimaryStopsWithinTtlAndNobodyPromotes() {
        cluster.awaitHealthy(Duration.ofSeconds(90));
        awaitFailsafeKey();
        AgentProcess primary = cluster.leader();
        AgentProcess silent = cluster.nodes.stream().filter(n -> n != primary).findFirst().orElseThrow();
        Sql.execute(primary.pgPort, "CREATE TABLE IF NOT EXISTS failsafe_check (id serial PRIMARY KEY)");
        cluster.etcd.freeze();
        long silentAt;
        try {
            // past the lease deadline (ttl - margin after the last renewal): only the failsafe rounds keep it running
            Await.pause(TTL.toMillis() + 2000);
            assertThat(Sql.tryExecute(primary.pgPort, "INSERT INTO failsafe_check DEFAULT VALUES"))
                    .as("the primary runs on failsafe past its lease").isTrue();
            Host.signal(silent.pid(), "STOP");
            silentAt = System.nanoTime();
            try {
                long stoppedAfter = Sql.writeUntilRefused(primary.pgPort, "INSERT INTO failsafe_check DEFAULT VALUES",
                        silentAt, TTL.multipliedBy(3), "a member went silent");
                System.out.printf("etcd frozen, %s silent: primary %s stopped taking writes %.2f s later (ttl %d s)%n",
                        silent.name, primary.name, stoppedAfter / 1e9, TestCluster.TTL);
                assertThat(stoppedAfter).as("within ttl of the last round every member confirmed")
                        .isLessThan(TTL.toNanos());
                long until = System.nanoTime() + Duration.ofSeconds(5).toNanos();
                while (System.nanoTime() - until < 0) {
                    assertThat(cluster.writablePrimaries()).as("nobody takes writes while etcd is frozen").isEmpty();
                    Await.pause(200);
                }
            } finally {
                Host.signal(silent.pid(), "CONT");
            }
        } finally {
            cluster.etcd.thaw();
        }
        // the fence stops it at the last confirmed round's deadline (the loop would demote just after it)
        assertThat(primary.logText()).contains("failsafe: not every member confirmed this primary: " + silent.name)
                .contains("demoting self because DCS is not accessible and not every member in the failsafe key"
                        + " confirmed this primary before its deadline: stopping postgres now");
        cluster.awaitHealthy(Duration.ofSeconds(120));
        assertThat(cluster.writablePrimaries()).hasSize(1);
    }
}
