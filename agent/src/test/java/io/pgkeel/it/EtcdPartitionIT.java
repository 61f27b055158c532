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
 * and the test cuts the primary's. PostgreSQL replication and the REST API stay up; only that agent's DCS is gone.
 */
@TestMethodOrder(MethodOrderer.MethodName.class)
class EtcdPartitionIT extends ClusterTestBase {
    private static final Pattern HOSTS = Pattern.compile("(?m)^  hosts: (\\S+)$");
    private final Map<String, FaultProxy> proxies = new ConcurrentHashMap<>();

    @Override
    protected String scope() {
        return "it-partition";
    }

    @Override
    protected TestCluster newCluster() {
        return TestCluster.start(scope(), 3, (name, yaml) -> {
            Matcher m = HOSTS.matcher(yaml);
            assertThat(m.find()).as("the standard YAML names one etcd under etcd3.hosts").isTrue();
            FaultProxy proxy = FaultProxy.start(m.group(1));
            proxies.put(name, proxy);
            return m.replaceFirst("  hosts: " + proxy.endpoint());
        });
    }

    @AfterAll
    @Override
    void stopCluster() {
        proxies.values().forEach(FaultProxy::pass); // the agents stop cleanly, releasing their keys
        super.stopCluster();
        proxies.values().forEach(FaultProxy::close);
    }

    /**
     * The cut primary stops taking writes before any replica can take the leader key, and a replica then becomes the
     * one primary. The bound is strict: the last write the old primary acknowledged is compared with the start of
     * the last poll of etcd that still saw no other leader (the new key was created after that poll began).
     */
    @Test
    void a_primaryCutFromEtcdStopsWritesBeforeAReplicaTakesTheLeaderKey_failsafeOff() {
        cluster.awaitHealthy(Duration.ofSeconds(90));
        AgentProcess old = cluster.leader();
        Sql.execute(old.pgPort, "CREATE TABLE IF NOT EXISTS partition_check (id serial PRIMARY KEY)");
        LeaderSampler sampler = new LeaderSampler(old.name);
        long lastAck = 0;
        long cutAt;
        try {
            cutAt = System.nanoTime();
            proxies.get(old.name).cut();
            // keep writing to the old primary until a new leader takes writes and a little longer: any late
            // acknowledgement counts, not only those before the first refusal
            long deadline = cutAt + Duration.ofSeconds(TestCluster.TTL * 4L).toNanos();
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
            assertThat(quietUntil).as("a replica took the leader key and writes within %d s of the cut; %s",
                    TestCluster.TTL * 4, cluster.describe()).isNotEqualTo(Long.MAX_VALUE);
        } finally {
            sampler.close();
        }
        assertThat(lastAck).as("the old primary took writes after the cut began").isGreaterThan(cutAt);
        long margin = sampler.lastFreeNanos() - lastAck;
        System.out.printf("etcd cut from %s: its last write %.2f s after the cut; leader key taken by %s %.2f s after"
                        + " the cut; margin >= %.2f s%n", old.name, (lastAck - cutAt) / 1e9, sampler.taken().orElseThrow(),
                (sampler.takenNanos() - cutAt) / 1e9, margin / 1e9);
        assertThat(margin).as("the old primary's last write precedes the new leader key").isPositive();
        assertThat(cluster.writablePrimaries()).as("one primary").extracting(n -> n.name)
                .containsExactly(sampler.taken().orElseThrow());
        assertThat(old.logText()).contains("demoting self because the leader lease could not be renewed");

        proxies.get(old.name).pass();
        cluster.awaitHealthy(Duration.ofSeconds(90));
        assertThat(cluster.writablePrimaries()).extracting(n -> n.name).containsExactly(sampler.taken().orElseThrow());
    }

    /**
     * Polls etcd (directly, never through a proxy) every 20 ms for the leader key, until it names another member than
     * {@code old}: remembers when the last poll that did not see that began, and when the first that did ended.
     */
    private final class LeaderSampler implements AutoCloseable {
        private final String old;
        private final Thread thread;
        private volatile boolean running = true;
        private volatile long lastFreeNanos;
        private volatile long takenNanos;
        private volatile String taken;

        LeaderSampler(String old) {
            this.old = old;
            this.thread = new Thread(this::run, "it-leader-sampler");
            thread.setDaemon(true);
            thread.start();
        }

        private void run() {
            while (running && taken == null) {
                long startedAt = System.nanoTime();
                Optional<String> leader;
                try {
                    leader = cluster.leaderName();
                } catch (IllegalStateException e) {
                    Await.pause(20);
                    continue; // etcd did not answer this poll: it proves nothing either way
                }
                if (leader.isPresent() && !leader.get().equals(old)) {
                    takenNanos = System.nanoTime();
                    taken = leader.get();
                } else {
                    lastFreeNanos = startedAt;
                    Await.pause(20);
                }
            }
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
            running = false;
            try {
                thread.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
