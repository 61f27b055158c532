package io.pgkeel.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * Benchmark, not a test (its name does not end in IT, so only bench/failover.sh runs it): on a real 3-node
 * cluster, N times each, kill -9 of the leader's agent and PostgreSQL -> first successful write on another node,
 * SIGTERM of the leader's agent -> first successful write, and the killed node's rejoin; then the agents' RSS
 * and idle CPU. Settings come from -Dbench.ttl, -Dbench.loopWait, -Dbench.retryTimeout, -Dbench.runs,
 * -Dbench.out (a file the Markdown results are appended to).
 */
class FailoverBench {
    @Test
    void failoverAndHandover() throws IOException {
        TestCluster.Timing timing = new TestCluster.Timing(Integer.getInteger("bench.ttl", 10),
                Integer.getInteger("bench.loopWait", 1), Integer.getInteger("bench.retryTimeout", 4));
        int runs = Integer.getInteger("bench.runs", 5);
        List<Double> crash = new ArrayList<>();
        List<Double> rejoin = new ArrayList<>();
        List<Double> handover = new ArrayList<>();
        String footprint;
        try (TestCluster c = TestCluster.start("bench", 3, timing)) {
            Sql.execute(c.leader().pgPort, "CREATE TABLE bench (id bigserial PRIMARY KEY, at timestamptz DEFAULT now())");
            Duration healthy = Duration.ofSeconds(timing.ttl() * 4L + 60);
            for (int i = 0; i < runs; i++) {
                c.awaitHealthy(healthy);
                Await.pause(timing.loopWait() * 1000L + 500);
                AgentProcess old = c.leader();
                long t0 = System.nanoTime();
                old.kill9();
                old.killPostgresTree();
                crash.add(secondsUntilAnotherNodeWrites(c, old, t0));
                long r0 = System.nanoTime();
                c.startAgent(old);
                c.awaitHealthy(healthy);
                rejoin.add((System.nanoTime() - r0) / 1e9);
                System.out.printf(Locale.ROOT, "crash run %d: %.2f s, rejoin %.2f s%n", i + 1, crash.get(i), rejoin.get(i));
            }
            for (int i = 0; i < runs; i++) {
                c.awaitHealthy(healthy);
                Await.pause(timing.loopWait() * 1000L + 500);
                AgentProcess old = c.leader();
                long t0 = System.nanoTime();
                Host.signal(old.pid(), "TERM");
                handover.add(secondsUntilAnotherNodeWrites(c, old, t0));
                old.terminate(Duration.ofSeconds(60));
                c.startAgent(old);
                System.out.printf(Locale.ROOT, "handover run %d: %.2f s%n", i + 1, handover.get(i));
            }
            c.awaitHealthy(healthy);
            Await.pause(30_000); // let the JIT settle: idle means idle, not warm-up
            footprint = footprint(c, Duration.ofSeconds(Integer.getInteger("bench.idleSeconds", 120)));
        }
        String md = String.format(Locale.ROOT, """

                ### ttl %d, loop_wait %d, retry_timeout %d (%d runs each)

                | figure | median | min | max |
                |---|---|---|---|
                | kill -9 of leader agent + PostgreSQL -> first write on another node | %s |
                | that node restarted -> streaming replica again (pg_rewind) | %s |
                | SIGTERM of leader agent -> first write on another node | %s |

                %s
                """, timing.ttl(), timing.loopWait(), timing.retryTimeout(), runs, stats(crash), stats(rejoin),
                stats(handover), footprint);
        report(md);
    }

    private static double secondsUntilAnotherNodeWrites(TestCluster c, AgentProcess old, long t0) {
        c.awaitFirstWriterOtherThan(old, "INSERT INTO bench DEFAULT VALUES", Duration.ofSeconds(c.timing.ttl() * 3L + 30));
        return (System.nanoTime() - t0) / 1e9;
    }

    /** Prints a benchmark's Markdown and appends it to -Dbench.out, when given. */
    static void report(CharSequence md) throws IOException {
        System.out.println(md);
        String out = System.getProperty("bench.out");
        if (out != null && !out.isBlank()) {
            Files.writeString(Path.of(out), md, java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);
        }
    }

    static String stats(List<Double> xs) {
        return stats(xs, "%.2f s");
    }

    /** Median, min and max of {@code xs} as three Markdown cells, each formatted with {@code format}. */
    static String stats(List<Double> xs, String format) {
        List<Double> s = new ArrayList<>(xs);
        Collections.sort(s);
        double median = s.size() % 2 == 1 ? s.get(s.size() / 2) : (s.get(s.size() / 2 - 1) + s.get(s.size() / 2)) / 2;
        return String.format(Locale.ROOT, format + " | " + format + " | " + format, median, s.get(0), s.get(s.size() - 1));
    }

    /** RSS from /proc and CPU over an idle window, per agent (the JVM process itself). */
    private static String footprint(TestCluster c, Duration window) throws IOException {
        long hz = 100; // USER_HZ on Linux
        List<long[]> before = new ArrayList<>();
        for (AgentProcess n : c.nodes) {
            before.add(new long[] {cpuTicks(n.pid()), System.nanoTime()});
        }
        Await.pause(window.toMillis());
        StringBuilder sb = new StringBuilder("| agent | RSS | CPU over " + window.toSeconds() + " s idle |\n|---|---|---|\n");
        for (int i = 0; i < c.nodes.size(); i++) {
            AgentProcess n = c.nodes.get(i);
            long ticks = cpuTicks(n.pid()) - before.get(i)[0];
            double seconds = (System.nanoTime() - before.get(i)[1]) / 1e9;
            double cpu = 100.0 * ticks / hz / seconds;
            sb.append(String.format(Locale.ROOT, "| %s (%s) | %d MB | %.2f %% of a core |%n", n.name,
                    n.name.equals(c.leaderName().orElse("")) ? "leader" : "replica", rssKb(n.pid()) / 1024, cpu));
        }
        return sb.toString();
    }

    static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    static long rssKb(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }
}
