package io.pgkeel.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * One agent cut from etcd while everything else keeps it: each agent reaches etcd through its own {@link FaultProxy},
 * and the test cuts the primary's. PostgreSQL replication stays up; only that agent's DCS is gone. Each agent's REST
 * API is also advertised (restapi.connect_address, hence the member key's api_url and the failsafe key) through a
 * proxy of its own, so a test can make one member unreachable to its peers while the tests still reach it.
 */
@TestMethodOrder(MethodOrderer.MethodName.class)
class EtcdPartitionIT extends ClusterTestBase {
    private static final Pattern HOSTS = Pattern.compile("(?m)^  hosts: (\\S+)$");
    private static final Pattern REST = Pattern.compile("(?m)^restapi:\n  listen: (\\S+)\n  connect_address: \\S+$");
    /** Each member's proxy to etcd, by member name. */
    private final Map<String, FaultProxy> toEtcd = new ConcurrentHashMap<>();
    /** Each member's proxy in front of its REST API (what its peers call), by member name. */
    private final Map<String, FaultProxy> toRest = new ConcurrentHashMap<>();

    @Override
    protected String scope() {
        return "it-partition";
    }

    @Override
    protected TestCluster newCluster() {
        return TestCluster.start(scope(), 3, (name, yaml) -> {
            Matcher hosts = HOSTS.matcher(yaml);
            assertThat(hosts.find()).as("the standard YAML names one etcd under etcd3.hosts").isTrue();
            FaultProxy etcd = FaultProxy.start(hosts.group(1));
            toEtcd.put(name, etcd);
            String edited = hosts.replaceFirst("  hosts: " + etcd.endpoint());
            Matcher rest = REST.matcher(edited);
            assertThat(rest.find()).as("the standard YAML's restapi section").isTrue();
            FaultProxy api = FaultProxy.start(rest.group(1));
            toRest.put(name, api);
            return rest.replaceFirst("restapi:\n  listen: " + rest.group(1) + "\n  connect_address: " + api.endpoint());
        });
    }

    @AfterAll
    @Override
    void stopCluster() {
        healAll(); // the agents stop cleanly, releasing their keys
        super.stopCluster();
        toEtcd.values().forEach(FaultProxy::close);
        toRest.values().forEach(FaultProxy::close);
    }

    private void healAll() {
        toEtcd.values().forEach(FaultProxy::pass);
        toRest.values().forEach(FaultProxy::pass);
    }

    /**
     * Failsafe off: the cut primary stops taking writes before any replica can take the leader key, and a replica
     * then becomes the one primary.
     */
    @Test
    void a_primaryCutFromEtcdStopsWritesBeforeAReplicaTakesTheLeaderKey_failsafeOff() {
        cluster.awaitHealthy(Duration.ofSeconds(90));
        AgentProcess old = cluster.leader();
        Sql.execute(old.pgPort, "CREATE TABLE IF NOT EXISTS partition_check (id serial PRIMARY KEY)");
        String next;
        try (LeaderSampler sampler = new LeaderSampler(old.name)) {
            long cutAt = System.nanoTime();
            toEtcd.get(old.name).cut();
            next = assertOldStopsBeforeANewLeader(old, sampler, cutAt, "etcd cut from " + old.name);
        }
        assertThat(old.logText()).contains("demoting self because the leader lease could not be renewed");

        healAll();
        cluster.awaitHealthy(Duration.ofSeconds(90));
        assertThat(cluster.writablePrimaries()).extracting(n -> n.name).containsExactly(next);
    }

    /**
     * Failsafe on: the primary cut from etcd keeps taking writes for 2.5 x ttl (its peers confirm it; its lease and
     * leader key are gone meanwhile) and nobody takes the leader key; then one replica stops answering the REST API
     * and the primary stops taking writes before anyone takes the key.
     */
    @Test
    void b_primaryCutFromEtcdKeepsWritingWhileEveryPeerConfirmsIt_andStopsBeforeANewLeaderWhenOneDoesNot_failsafeOn() {
        cluster.awaitHealthy(Duration.ofSeconds(90));
        AgentProcess old = cluster.leader();
        DcsOutage.switchFailsafeModeOn(cluster, old, n -> "http://" + toRest.get(n.name).endpoint() + "/patroni");
        Sql.execute(old.pgPort, "CREATE TABLE IF NOT EXISTS partition_check (id serial PRIMARY KEY)");
        AgentProcess unreachable = cluster.nodes.stream().filter(n -> n != old).findFirst().orElseThrow();
        String next;
        try (LeaderSampler sampler = new LeaderSampler(old.name)) {
            long cutAt = System.nanoTime();
            toEtcd.get(old.name).cut();
            long until = cutAt + Duration.ofMillis(TestCluster.TTL * 2500L).toNanos();
            long lastAck = cutAt;
            long longestGap = 0;
            while (System.nanoTime() - until < 0) {
                if (Sql.tryExecute(old.pgPort, "INSERT INTO partition_check DEFAULT VALUES")) {
                    long now = System.nanoTime();
                    longestGap = Math.max(longestGap, now - lastAck);
                    lastAck = now;
                }
                assertThat(sampler.taken()).as("nobody takes the leader key while every member confirms the primary")
                        .isEmpty();
                Await.pause(50);
            }
            longestGap = Math.max(longestGap, System.nanoTime() - lastAck);
            System.out.printf("failsafe: %s cut from etcd for %.1f s, longest write gap %.2f s%n", old.name,
                    (System.nanoTime() - cutAt) / 1e9, longestGap / 1e9);
            assertThat(Duration.ofNanos(longestGap)).as("the primary keeps taking writes through the cut")
                    .isLessThan(Duration.ofSeconds(1));
            assertThat(cluster.leaderName()).as("the leader key expired meanwhile: failsafe, not the lease, kept"
                    + " the primary").isEmpty();
            assertThat(cluster.writablePrimaries()).containsExactly(old);
            assertThat(old.logText())
                    .contains("continue to run as a leader because failsafe mode is enabled and all members are accessible");

            long restCutAt = System.nanoTime();
            toRest.get(unreachable.name).cut();
            next = assertOldStopsBeforeANewLeader(old, sampler, restCutAt,
                    "failsafe: REST of " + unreachable.name + " cut while " + old.name + " is cut from etcd");
        }

        healAll();
        cluster.awaitHealthy(Duration.ofSeconds(90));
        assertThat(cluster.writablePrimaries()).extracting(n -> n.name).containsExactly(next);
        DcsOutage.switchFailsafeMode(cluster.leader(), false);
    }

    /**
     * Keeps writing to {@code old} (every 50 ms, a new connection each) from {@code faultAt} until another member
     * holds the leader key and takes writes, and 3 s longer: any late acknowledgement counts, not only those before
     * the first refusal. Asserts that the last write {@code old} acknowledged precedes the start of the last poll
     * of etcd that still saw no other leader (the new key was created after that poll began), prints the margin,
     * and that the new leader is then the one primary. Returns the new leader's name.
     */
    private String assertOldStopsBeforeANewLeader(AgentProcess old, LeaderSampler sampler, long faultAt, String what) {
        long lastAck = 0;
        long deadline = faultAt + Duration.ofSeconds(TestCluster.TTL * 4L).toNanos();
        long quietUntil = Long.MAX_VALUE;
        while (System.nanoTime() - Math.min(deadline, quietUntil) < 0) {
            if (Sql.tryExecute(old.pgPort, "INSERT INTO partition_check DEFAULT VALUES")) {
                lastAck = System.nanoTime();
            }
            if (quietUntil == Long.MAX_VALUE && sampler.taken().isPresent()
                    && Sql.isPrimary(cluster.node(sampler.taken().get()).pgPort)) {
                quietUntil = System.nanoTime() + Duration.ofSeconds(3).toNanos();
            }
            Await.pause(50);
        }
        assertThat(quietUntil).as("a replica took the leader key and writes within %d s; %s", TestCluster.TTL * 4,
                cluster.describe()).isNotEqualTo(Long.MAX_VALUE);
        assertThat(lastAck).as("the old primary took writes after the fault began").isGreaterThan(faultAt);
        String next = sampler.taken().orElseThrow();
        long margin = sampler.lastFreeNanos() - lastAck;
        System.out.printf("%s: its last write %.2f s after the fault; leader key taken by %s %.2f s after the fault;"
                + " margin >= %.2f s%n", what, (lastAck - faultAt) / 1e9, next, (sampler.takenNanos() - faultAt) / 1e9,
                margin / 1e9);
        assertThat(margin).as("the old primary's last write precedes the new leader key").isPositive();
        assertThat(cluster.writablePrimaries()).as("one primary").extracting(n -> n.name).containsExactly(next);
        return next;
    }

    /**
     * Polls etcd (directly, never through a proxy) every 20 ms for the leader key, until it names another member than
     * {@code old}: remembers when the last poll that did not see that began, and when the first that did ended.
     */
    private final class LeaderSampler implements AutoCloseable {
        private final String old;
        private final Poller poller;
        private volatile long lastFreeNanos;
        private volatile long takenNanos;
        private volatile String taken;

        LeaderSampler(String old) {
            this.old = old;
            this.poller = new Poller("it-leader-sampler", 20, this::poll);
        }

        /** One look at the leader key; false (stop) once another member holds it. */
        private boolean poll() {
            long startedAt = System.nanoTime();
            Optional<String> leader = cluster.leaderName();
            if (leader.isPresent() && !leader.get().equals(old)) {
                takenNanos = System.nanoTime();
                taken = leader.get();
                return false;
            }
            lastFreeNanos = startedAt;
            return true;
        }

        Optional<String> taken() {
            return Optional.ofNullable(taken);
        }

        long takenNanos() {
            return takenNanos;
        }

        long lastFreeNanos() {
            return lastFreeNanos;
        }

        @Override
        public void close() {
            poller.close();
        }
    }
}
