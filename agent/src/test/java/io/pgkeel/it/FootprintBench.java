package io.pgkeel.it;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * Benchmark, not a test (bench/footprint.sh runs it): a pgkeel cluster and a Patroni 3.0 cluster (Debian's package),
 * same YAML and settings (Patroni's defaults 30/10/10 unless -Dbench.ttl etc.), side by side and idle. After
 * -Dbench.minutes (default 10): each agent's RSS, and its CPU over the last minute.
 */
class FootprintBench {
    @Test
    void idleFootprintAfterTenMinutes() throws IOException {
        TestCluster.Timing timing = new TestCluster.Timing(Integer.getInteger("bench.ttl", 30),
                Integer.getInteger("bench.loopWait", 10), Integer.getInteger("bench.retryTimeout", 10));
        int minutes = Integer.getInteger("bench.minutes", 10);
        StringBuilder md = new StringBuilder(String.format(Locale.ROOT, """

                ### Idle footprint after %d minutes: ttl %d, loop_wait %d, retry_timeout %d (both clusters side by side)

                | agent | node | role | RSS | CPU over the last 60 s |
                |---|---|---|---|---|
                """, minutes, timing.ttl(), timing.loopWait(), timing.retryTimeout()));
        boolean withPatroni = System.getProperty("bench.flavors", "PGKEEL,PATRONI").contains("PATRONI");
        try (TestCluster pgkeel = TestCluster.start("bench-fp-pgkeel", 3, timing, AgentProcess.Flavor.PGKEEL);
             TestCluster patroni = withPatroni
                     ? TestCluster.start("bench-fp-patroni", 3, timing, AgentProcess.Flavor.PATRONI) : null) {
            Await.pause(Duration.ofMinutes(minutes).minusSeconds(60).toMillis());
            List<long[]> before = new ArrayList<>();
            List<AgentProcess> all = new ArrayList<>(pgkeel.nodes);
            if (patroni != null) {
                all.addAll(patroni.nodes);
            }
            for (AgentProcess n : all) {
                before.add(new long[] {FailoverBench.cpuTicks(n.pid()), System.nanoTime()});
            }
            Await.pause(60_000);
            for (int i = 0; i < all.size(); i++) {
                AgentProcess n = all.get(i);
                TestCluster c = i < pgkeel.nodes.size() ? pgkeel : patroni;
                double seconds = (System.nanoTime() - before.get(i)[1]) / 1e9;
                double cpu = 100.0 * (FailoverBench.cpuTicks(n.pid()) - before.get(i)[0]) / 100 / seconds;
                md.append(String.format(Locale.ROOT, "| %s | %s | %s | %d MB | %.2f %% |%n",
                        n.flavor == AgentProcess.Flavor.PGKEEL ? "pgkeel" : "Patroni 3.0.2", n.name,
                        n.name.equals(c.leaderName().orElse("")) ? "leader" : "replica", FailoverBench.rssKb(n.pid()) / 1024,
                        cpu));
            }
        }
        FailoverBench.report(md);
    }
}
