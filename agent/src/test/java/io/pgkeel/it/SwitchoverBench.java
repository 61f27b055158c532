package io.pgkeel.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Benchmark, not a test (bench/switchover.sh runs it): a client writes one row every 20 ms through a
 * primary-seeking connection (targetServerType=primary over the three nodes) while the cluster is switched over
 * -Dbench.runs times through the REST API (POST /switchover, as patronictl does). Reports the longest write gap
 * around each switchover, and the rows acknowledged but missing afterwards. The same on a Patroni 3.0 cluster
 * (Debian's package) with the same YAML, settings and client, in the same run.
 */
class SwitchoverBench {
    @Test
    void writeGapDuringSwitchovers() throws IOException {
        TestCluster.Timing timing = new TestCluster.Timing(Integer.getInteger("bench.ttl", 10),
                Integer.getInteger("bench.loopWait", 2), Integer.getInteger("bench.retryTimeout", 4));
        int runs = Integer.getInteger("bench.runs", 5);
        StringBuilder md = new StringBuilder(String.format(Locale.ROOT, """

                ### Switchover under writes: ttl %d, loop_wait %d, retry_timeout %d, %d switchovers each

                | agent | longest write gap per switchover: median | min | max | POST /switchover answered after (median) | rows acknowledged, then missing |
                |---|---|---|---|---|---|
                """, timing.ttl(), timing.loopWait(), timing.retryTimeout(), runs));
        for (String flavor : System.getProperty("bench.flavors", "PGKEEL,PATRONI").split(",")) {
            md.append(run(AgentProcess.Flavor.valueOf(flavor.trim()), timing, runs));
        }
        FailoverBench.report(md);
    }

    private static String run(AgentProcess.Flavor flavor, TestCluster.Timing timing, int runs) {
        List<Double> gaps = new ArrayList<>();
        List<Double> answered = new ArrayList<>();
        long missing;
        int acknowledged;
        try (TestCluster c = TestCluster.start("bench-so-" + flavor.name().toLowerCase(Locale.ROOT), 3, timing, flavor)) {
            Duration healthy = Duration.ofSeconds(90);
            List<Long> acked;
            try (Writer w = new Writer(c.nodes, "so_rows", 20)) {
                Await.until(Duration.ofSeconds(20), "the writer's first rows", () -> w.count() > 50);
                for (int i = 0; i < runs; i++) {
                    c.awaitHealthy(healthy);
                    Await.pause(timing.loopWait() * 1000L + 1000);
                    AgentProcess leader = c.leader();
                    AgentProcess candidate = c.nodes.stream().filter(n -> n != leader).toList().get(i % 2);
                    long t0 = System.nanoTime();
                    Rest.Answer a = Rest.post(leader, "/switchover",
                            "{\"leader\": \"" + leader.name + "\", \"candidate\": \"" + candidate.name + "\"}");
                    long t1 = System.nanoTime();
                    assertThat(a.status()).as(flavor + " switchover " + (i + 1) + ": " + a).isEqualTo(200);
                    int before = w.count();
                    Await.until(Duration.ofSeconds(30), "writes after the switchover", () -> w.count() > before + 25);
                    gaps.add(w.longestGapMillisAround(t0, System.nanoTime()) / 1000.0);
                    answered.add((t1 - t0) / 1e9);
                    System.out.printf(Locale.ROOT, "%s switchover %d: longest gap %.3f s, answered after %.3f s%n",
                            flavor, i + 1, gaps.get(i), answered.get(i));
                }
                acked = w.acknowledged();
            }
            c.awaitHealthy(healthy);
            Set<Long> present = new HashSet<>();
            String ids = Sql.queryString(c.leader().pgPort, "SELECT string_agg(id::text, ',') FROM so_rows");
            for (String id : ids.split(",")) {
                present.add(Long.parseLong(id));
            }
            missing = acked.stream().filter(id -> !present.contains(id)).count();
            acknowledged = acked.size();
        }
        return String.format(Locale.ROOT, "| %s | %s | %s | %d of %d |%n", flavor == AgentProcess.Flavor.PGKEEL
                ? "pgkeel" : "Patroni 3.0.2", FailoverBench.stats(gaps), FailoverBench.stats(answered).split(" \\|")[0],
                missing, acknowledged);
    }
}
