package io.pgkeel.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Benchmark, not a test (bench/etcd.sh runs it): a 3-node cluster on a 3-member etcd while a client writes one row
 * every 20 ms through a primary-seeking connection. -Dbench.runs times each: kill -9 of an etcd follower, kept down
 * for ttl + 5 s (longer than a lease), then restarted; the same for etcd's raft leader; and a raft leader change
 * ({@code etcdctl move-leader}, then 5 s). Reports the longest write gap around each event, the lowest TTL etcd
 * reported for the leader key's lease meanwhile (how close the agent came to losing it: renewals that cannot get
 * through let it run down), and how many times the leader key changed hands. The same on a Patroni 3.0 cluster (Debian's package), same YAML and client, in the same run.
 * The etcd is plain http: Patroni 3.0.2 and pgkeel then read the same {@code etcd3.hosts} list.
 */
class EtcdBench {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The faults, in the order of each run. */
    private enum Fault {
        FOLLOWER_KILLED("kill -9 of an etcd follower (down ttl + 5 s)"),
        LEADER_KILLED("kill -9 of etcd's raft leader (down ttl + 5 s)"),
        LEADER_MOVED("etcd raft leader change (etcdctl move-leader)");

        final String description;

        Fault(String description) {
            this.description = description;
        }
    }

    @org.junit.jupiter.api.Test
    void writeGapOnEtcdMemberLossAndLeaderChange() throws IOException {
        TestCluster.Timing timing = new TestCluster.Timing(Integer.getInteger("bench.ttl", 10),
                Integer.getInteger("bench.loopWait", 1), Integer.getInteger("bench.retryTimeout", 4));
        int runs = Integer.getInteger("bench.runs", 3);
        StringBuilder md = new StringBuilder(String.format(Locale.ROOT, """

                ### etcd member loss and leader change under writes: 3 etcd members, ttl %d, loop_wait %d, retry_timeout %d, %d runs each

                | agent | fault | longest write gap: median | min | max | lowest leader lease TTL left: median | min | max | leader key changed hands |
                |---|---|---|---|---|---|---|---|---|
                """, timing.ttl(), timing.loopWait(), timing.retryTimeout(), runs));
        for (String flavor : System.getProperty("bench.flavors", "PGKEEL,PATRONI").split(",")) {
            md.append(run(AgentProcess.Flavor.valueOf(flavor.trim()), timing, runs));
        }
        FailoverBench.report(md);
    }

    private static String run(AgentProcess.Flavor flavor, TestCluster.Timing timing, int runs) {
        Map<Fault, List<Double>> gaps = new LinkedHashMap<>();
        Map<Fault, List<Double>> leaseLeft = new LinkedHashMap<>();
        Map<Fault, Integer> leaderChanges = new LinkedHashMap<>();
        for (Fault f : Fault.values()) {
            gaps.put(f, new ArrayList<>());
            leaseLeft.put(f, new ArrayList<>());
            leaderChanges.put(f, 0);
        }
        String agent = flavor == AgentProcess.Flavor.PGKEEL ? "pgkeel" : "Patroni 3.0.2";
        try (TestCluster c = TestCluster.start("bench-etcd-" + flavor.name().toLowerCase(Locale.ROOT), 3, timing,
                flavor, EtcdCluster.Options.plain(3));
             Writer w = new Writer(c.nodes, "etcd_rows", 20)) {
            Await.until(Duration.ofSeconds(20), "the writer's first rows", () -> w.count() > 50);
            Duration down = Duration.ofSeconds(timing.ttl() + 5L);
            for (int i = 0; i < runs; i++) {
                for (Fault f : Fault.values()) {
                    c.awaitHealthy(Duration.ofSeconds(90));
                    Await.pause(timing.loopWait() * 1000L + 1000);
                    String holder = c.leaderName().orElseThrow();
                    int leader = raftLeader(c.etcd);
                    LeaseWatch lease = new LeaseWatch(c);
                    long t0 = System.nanoTime();
                    if (f == Fault.LEADER_MOVED) {
                        int to = (leader + 1) % c.etcd.size();
                        c.etcd.etcdctl("move-leader", memberIdHex(c.etcd, to));
                        Await.pause(5_000);
                    } else {
                        int victim = f == Fault.LEADER_KILLED ? leader : (leader + 1) % c.etcd.size();
                        c.etcd.kill(victim);
                        Await.pause(down.toMillis());
                        c.etcd.restart(victim);
                    }
                    long t1 = System.nanoTime();
                    lease.close();
                    leaseLeft.get(f).add((double) lease.lowest());
                    int before = w.count();
                    Await.until(Duration.ofSeconds(60), "writes after the fault", () -> w.count() > before + 25);
                    double gap = w.longestGapMillisAround(t0, t1);
                    gaps.get(f).add(gap);
                    boolean changed = !holder.equals(c.leaderName().orElse(""));
                    if (changed) {
                        leaderChanges.merge(f, 1, Integer::sum);
                    }
                    System.out.printf(Locale.ROOT, "%s run %d, %s: longest write gap %.0f ms, lowest lease TTL left %d s%s%n",
                            agent, i + 1, f.description, gap, lease.lowest(), changed ? ", leader key changed hands" : "");
                }
            }
        }
        StringBuilder rows = new StringBuilder();
        for (Fault f : Fault.values()) {
            rows.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %d of %d |%n", agent, f.description,
                    FailoverBench.stats(gaps.get(f), "%.0f ms"), FailoverBench.stats(leaseLeft.get(f), "%.0f s"),
                    leaderChanges.get(f), runs));
        }
        return rows.toString();
    }

    /** The index (in {@link EtcdCluster#urls()} order) of etcd's raft leader, from {@code etcdctl endpoint status}. */
    static int raftLeader(EtcdCluster etcd) {
        JsonNode statuses = readJson(etcd.etcdctl("endpoint", "status", "-w", "json"));
        for (JsonNode s : statuses) {
            JsonNode status = s.path("Status");
            if (status.path("header").path("member_id").asText().equals(status.path("leader").asText())) {
                return etcd.urls().indexOf(s.path("Endpoint").asText());
            }
        }
        throw new AssertionError("no etcd member says it is the raft leader: " + statuses);
    }

    /** Member {@code i}'s id in hex, as {@code etcdctl move-leader} takes it. */
    static String memberIdHex(EtcdCluster etcd, int i) {
        String url = etcd.urls().get(i);
        for (JsonNode s : readJson(etcd.etcdctl("endpoint", "status", "-w", "json"))) {
            if (s.path("Endpoint").asText().equals(url)) {
                return new BigInteger(s.path("Status").path("header").path("member_id").asText()).toString(16);
            }
        }
        throw new AssertionError("etcd member " + url + " did not answer its status");
    }

    private static JsonNode readJson(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + text, e);
        }
    }

    /**
     * Polls the leader key's lease every 200 ms (etcd's JSON gateway, any running member) on a thread of its own until
     * closed; remembers the lowest TTL left that etcd reported, in whole seconds as etcd rounds it. A poll that etcd
     * does not answer (a member just died, an election) proves nothing and is skipped.
     */
    private static final class LeaseWatch implements AutoCloseable {
        private final Poller poller;
        private volatile long lowest = Long.MAX_VALUE;

        LeaseWatch(TestCluster cluster) {
            this.poller = new Poller("bench-lease-watch", 200, () -> {
                long id = cluster.etcd.leaseOf(cluster.key("leader"));
                long left = id == 0 ? 0 : cluster.etcd.leaseRemainingSeconds(id);
                lowest = Math.min(lowest, Math.max(0, left));
                return true;
            });
        }

        long lowest() {
            return lowest;
        }

        @Override
        public void close() {
            poller.close();
        }
    }
}
