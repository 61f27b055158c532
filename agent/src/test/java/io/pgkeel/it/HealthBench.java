package io.pgkeel.it;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Benchmark, not a test (bench/health.sh runs it): wrk against the health endpoints HAProxy polls, GET /primary on
 * the leader and GET /replica on a replica, with keep-alive, for pgkeel and for Patroni 3.0 (Debian's package) on
 * their own clusters in the same run; then a 60 s run on pgkeel's leader with its RSS before and after.
 */
class HealthBench {
    private static final Path WRK = Path.of("/usr/bin/wrk");

    record Wrk(double requestsPerSecond, double p50Ms, double p99Ms, long non2xx) {}

    @Test
    void healthEndpoints() throws IOException {
        Host.requireExecutable(WRK, "wrk");
        int seconds = Integer.getInteger("bench.seconds", 10);
        TestCluster.Timing timing = new TestCluster.Timing(10, 2, 4);
        StringBuilder md = new StringBuilder(String.format(Locale.ROOT, """

                ### Health checks: wrk -t1 -c8 -d%ds --latency, keep-alive, after a 5 s warm-up (saturating: wrk and
                the server each take a core of two; the paced row offers ~1,000 req/s instead)

                | agent | endpoint | requests/s | p50 | p99 | non-2xx |
                |---|---|---|---|---|---|
                """, seconds));
        Map<String, Wrk> primary = new java.util.HashMap<>();
        String soak = "";
        for (String flavor : System.getProperty("bench.flavors", "PGKEEL,PATRONI").split(",")) {
            AgentProcess.Flavor f = AgentProcess.Flavor.valueOf(flavor.trim());
            String name = f == AgentProcess.Flavor.PGKEEL ? "pgkeel" : "Patroni 3.0.2";
            try (TestCluster c = TestCluster.start("bench-hc-" + f.name().toLowerCase(Locale.ROOT), 3, timing, f)) {
                c.awaitHealthy(Duration.ofSeconds(90));
                AgentProcess leader = c.leader();
                AgentProcess replica = c.nodes.stream().filter(n -> n != leader).findFirst().orElseThrow();
                wrk(leader, "/primary", 5);
                Wrk p = wrk(leader, "/primary", seconds);
                wrk(replica, "/replica", 5);
                Wrk r = wrk(replica, "/replica", seconds);
                Wrk paced = wrk(leader, "/primary", seconds, PACE_MS);
                primary.put(name, p);
                md.append(row(name, "GET /primary on the leader", p)).append(row(name, "GET /replica on a replica", r))
                        .append(row(name, "GET /primary, paced (8 connections, 8 ms apart: ~1,000 req/s offered)",
                                paced));
                if (f == AgentProcess.Flavor.PGKEEL) {
                    long before = FailoverBench.rssKb(leader.pid());
                    // RSS every 10 s while wrk runs: growth shows as a rising series, warm-up as an early step
                    List<Long> series = new java.util.concurrent.CopyOnWriteArrayList<>();
                    Thread sampler = new Thread(() -> {
                        try {
                            while (!Thread.currentThread().isInterrupted()) {
                                Thread.sleep(10_000);
                                series.add(FailoverBench.rssKb(leader.pid()) / 1024);
                            }
                        } catch (InterruptedException | IOException e) {
                            // done
                        }
                    });
                    sampler.setDaemon(true);
                    sampler.start();
                    Wrk long60 = wrk(leader, "/primary", Integer.getInteger("bench.soakSeconds", 60));
                    sampler.interrupt();
                    long after = FailoverBench.rssKb(leader.pid());
                    soak = String.format(Locale.ROOT, "%nSoak: pgkeel leader, GET /primary for %d s: %.0f req/s, p99 %.2f"
                            + " ms; agent RSS %d MB before, every 10 s %s MB, %d MB after.%n",
                            Integer.getInteger("bench.soakSeconds", 60), long60.requestsPerSecond(), long60.p99Ms(),
                            before / 1024, series, after / 1024);
                }
            }
        }
        md.append(soak);
        if (primary.size() == 2) {
            md.append(String.format(Locale.ROOT, "%nRatio (GET /primary requests/s): pgkeel / Patroni = %.1fx%n",
                    primary.get("pgkeel").requestsPerSecond() / primary.get("Patroni 3.0.2").requestsPerSecond()));
        }
        FailoverBench.report(md);
    }

    private static String row(String agent, String endpoint, Wrk w) {
        return String.format(Locale.ROOT, "| %s | %s | %.0f | %.2f ms | %.2f ms | %d |%n", agent, endpoint,
                w.requestsPerSecond(), w.p50Ms(), w.p99Ms(), w.non2xx());
    }

    /** The paced run: each connection waits this long between requests (wrk's Lua delay()). */
    private static final int PACE_MS = 8;

    static Wrk wrk(AgentProcess node, String path, int seconds) {
        return wrk(node, path, seconds, 0);
    }

    /**
     * @param paceMillis 0: as fast as the server answers (closed loop, saturating two cores); otherwise each
     *                   connection waits this long between requests, so latency is measured below saturation
     */
    static Wrk wrk(AgentProcess node, String path, int seconds, int paceMillis) {
        List<String> cmd = new java.util.ArrayList<>(List.of(WRK.toString(), "-t1", "-c8", "-d" + seconds + "s",
                "--latency"));
        if (paceMillis > 0) {
            try {
                Path script = java.nio.file.Files.createTempFile("pgkeel-wrk-", ".lua");
                script.toFile().deleteOnExit();
                java.nio.file.Files.writeString(script, "function delay()\n  return " + paceMillis + "\nend\n");
                cmd.addAll(List.of("-s", script.toString()));
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        }
        cmd.add("http://127.0.0.1:" + node.apiPort + path);
        CliRun.Result r = CliRun.run(cmd, null, Map.of());
        if (r.exit() != 0) {
            throw new AssertionError("wrk failed: " + r);
        }
        return parse(r.out());
    }

    static Wrk parse(String out) {
        Matcher rps = Pattern.compile("Requests/sec:\\s+([0-9.]+)").matcher(out);
        Matcher p50 = Pattern.compile("\\s50%\\s+([0-9.]+)(us|ms|s)").matcher(out);
        Matcher p99 = Pattern.compile("\\s99%\\s+([0-9.]+)(us|ms|s)").matcher(out);
        Matcher bad = Pattern.compile("Non-2xx or 3xx responses:\\s+(\\d+)").matcher(out);
        if (!rps.find() || !p50.find() || !p99.find()) {
            throw new AssertionError("cannot read wrk's output:\n" + out);
        }
        return new Wrk(Double.parseDouble(rps.group(1)), millis(p50), millis(p99),
                bad.find() ? Long.parseLong(bad.group(1)) : 0);
    }

    private static double millis(Matcher m) {
        double v = Double.parseDouble(m.group(1));
        return switch (m.group(2)) {
            case "us" -> v / 1000;
            case "s" -> v * 1000;
            default -> v;
        };
    }
}
