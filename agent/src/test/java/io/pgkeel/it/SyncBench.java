package io.pgkeel.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Benchmark, not a test (bench/sync.sh runs it): synchronous replication, pgkeel and Patroni 3.0 (Debian's package)
 * on the same YAML. For each agent of -Dbench.flavors and each {@code synchronous_mode} of -Dbench.modes (default
 * off,on), a fresh 3-node cluster whose bootstrap.dcs sets that mode: PostgreSQL's pgbench (built-in simple-update,
 * -Dbench.clients connections, -Dbench.seconds long, -Dbench.rounds times, the modes' clusters in turn) against the
 * primary, its tps and the transaction latency (average, and the 95th percentile from pgbench's per-transaction log),
 * medians and min/max over the rounds. Then, in each mode of -Dbench.failoverModes (default on),
 * -Dbench.runs crashes of the primary (kill -9 of its agent and of its PostgreSQL) under a client that writes a row every
 * 20 ms and records the acknowledged ids: seconds until another node commits a write, whether that node is the one the
 * sync key named just before the crash, and the acknowledged rows missing at the end (Patroni's promise: none).
 * What goes wrong (no synchronous standby appears, commits block, no node takes over) is written into the results as
 * what was seen, not retried.
 */
class SyncBench {
    private static final Pattern SYNC_STANDBY = Pattern.compile("\"sync_standby\"\\s*:\\s*\"([^\"]*)\"");
    private static final Pattern SYNC_LEADER = Pattern.compile("\"leader\"\\s*:\\s*\"([^\"]*)\"");
    private static final Pattern TPS = Pattern.compile("tps = ([0-9.]+) \\(without initial connection time\\)");
    private static final Pattern LATENCY = Pattern.compile("latency average = ([0-9.]+) ms");
    private static final Pattern PROCESSED = Pattern.compile("number of transactions actually processed: (\\d+)");
    private static final Duration SYNC_WAIT = Duration.ofSeconds(60);

    /** What one cluster's run is measured with. */
    private record Settings(TestCluster.Timing timing, int clients, int seconds, int rounds, int runs,
                            Set<String> failoverModes) {}

    @Test
    void syncOnVsOff() throws IOException {
        Settings s = new Settings(new TestCluster.Timing(Integer.getInteger("bench.ttl", 10),
                Integer.getInteger("bench.loopWait", 2), Integer.getInteger("bench.retryTimeout", 4)),
                Integer.getInteger("bench.clients", 4), Integer.getInteger("bench.seconds", 15),
                Integer.getInteger("bench.rounds", 3), Integer.getInteger("bench.runs", 3),
                Set.copyOf(list("bench.failoverModes", "on")));
        StringBuilder md = new StringBuilder();
        for (String flavor : list("bench.flavors", "PGKEEL,PATRONI")) {
            md.append(measure(AgentProcess.Flavor.valueOf(flavor), list("bench.modes", "off,on"), s));
        }
        FailoverBench.report(md);
    }

    /**
     * One fresh cluster of {@code f} agents per mode, all started first; pgbench rounds alternate between them (off,
     * on, off, on, ...), so that a busy moment of this shared machine falls on both; then the crash runs, one cluster
     * at a time. Its two Markdown tables.
     */
    private static String measure(AgentProcess.Flavor f, List<String> modes, Settings s) throws IOException {
        StringBuilder load = new StringBuilder(String.format(Locale.ROOT, """

                ### %s: pgbench -b simple-update -c %d -j 2 -T %d (scale 1) against the primary, %d rounds per mode \
                taken in turn; ttl %d, loop_wait %d, retry_timeout %d

                | synchronous_mode | tps: median | min | max | latency average: median (min – max) | latency p95: median \
                (min – max) | transactions | tps per round (samples with a sync walsender / samples) | synchronous \
                standby at the start |
                |---|---|---|---|---|---|---|---|---|
                """, agentName(f), s.clients(), s.seconds(), s.rounds(), s.timing().ttl(), s.timing().loopWait(),
                s.timing().retryTimeout()));
        StringBuilder crash = new StringBuilder(String.format(Locale.ROOT, """

                %s: kill -9 of the primary's agent and PostgreSQL -> first write committed on another node, %d runs

                | synchronous_mode | median | min | max | another node out of recovery: median (min – max) | new primary was \
                the one the sync key named | rows acknowledged, then missing |
                |---|---|---|---|---|---|---|
                """, agentName(f), s.runs()));
        Map<String, TestCluster> clusters = new LinkedHashMap<>();
        Map<String, String> standby = new HashMap<>();
        Map<String, List<Round>> rounds = new HashMap<>();
        Map<String, String> failed = new HashMap<>();
        try {
            for (String mode : modes) {
                try {
                    clusters.put(mode, TestCluster.start("bench-sync-" + f.name().toLowerCase(Locale.ROOT) + "-" + mode,
                            3, s.timing(), f, (name, yaml) -> yaml.replace("    maximum_lag_on_failover: 1048576\n",
                                    "    maximum_lag_on_failover: 1048576\n    synchronous_mode: " + mode + "\n")));
                } catch (RuntimeException | AssertionError e) {
                    // TestCluster printed the agents' logs before deleting them (bench/sync.sh keeps that output)
                    failed.put(mode, "the cluster did not start: " + oneLine(e) + " (agent logs in the run's output)");
                }
            }
            for (Map.Entry<String, TestCluster> e : clusters.entrySet()) {
                standby.put(e.getKey(), standbyAtStart(e.getValue(), e.getKey()));
                try {
                    pgbenchInit(e.getValue(), e.getKey());
                } catch (IOException | RuntimeException | AssertionError x) {
                    failed.put(e.getKey(), "pgbench -i: " + oneLine(x) + "; " + standby.get(e.getKey()));
                }
            }
            for (int r = 1; r <= s.rounds(); r++) {
                for (Map.Entry<String, TestCluster> e : clusters.entrySet()) {
                    String mode = e.getKey();
                    if (failed.containsKey(mode)) {
                        continue;
                    }
                    try {
                        Round round = pgbench(e.getValue(), mode, r, s);
                        rounds.computeIfAbsent(mode, m -> new ArrayList<>()).add(round);
                        System.out.printf(Locale.ROOT, "%s %s round %d: %s%n", agentName(f), mode, r, round);
                    } catch (IOException | RuntimeException | AssertionError x) {
                        failed.put(mode, "pgbench round " + r + ": " + oneLine(x) + "; " + standby.get(mode));
                    }
                }
            }
            for (String mode : modes) {
                load.append(failed.containsKey(mode) && !rounds.containsKey(mode) ? failureRow(mode, failed.get(mode), 8)
                        : loadRow(mode, rounds.get(mode), standby.get(mode))
                        + (failed.containsKey(mode) ? failureRow("", "then " + failed.get(mode), 8) : ""));
            }
            for (String mode : modes) {
                if (!s.failoverModes().contains(mode)) {
                    continue;
                }
                TestCluster c = clusters.get(mode);
                if (c == null) {
                    crash.append(failureRow(mode, failed.get(mode), 6));
                    continue;
                }
                clusters.values().stream().filter(o -> o != c).forEach(TestCluster::close); // one cluster at a time
                clusters.values().removeIf(o -> o != c);
                crash.append(crashes(c, mode, s, !"off".equals(mode)));
            }
        } finally {
            clusters.values().forEach(TestCluster::close);
        }
        return load.append(crash).toString();
    }

    /** The sync key's standby once PostgreSQL reports it synchronous (or what was seen instead), and the primary's view. */
    private static String standbyAtStart(TestCluster c, String mode) {
        if ("off".equals(mode)) {
            return "none (synchronous_mode off): " + replicationState(c);
        }
        try {
            return awaitSyncStandby(c, SYNC_WAIT) + " in the sync key; " + replicationState(c);
        } catch (AssertionError e) {
            // measured anyway: what a missing synchronous standby does to commits and failover is the point
            return "**none within " + SYNC_WAIT.toSeconds() + " s**: " + oneLine(e);
        }
    }

    /** One pgbench run's figures: tps, latency average and 95th percentile (ms), transactions. */
    /**
     * One pgbench run's figures: tps, latency average and 95th percentile (ms), transactions; and how many of the
     * primary's pg_stat_replication samples taken while it ran (every 0.5 s) showed a synchronous walsender.
     */
    private record Round(double tps, double averageMs, double p95Ms, long transactions, int syncSamples, int samples) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%.0f tps, average %.3f ms, p95 %.2f ms, %d transactions, a sync walsender"
                    + " in %d of %d samples", tps, averageMs, p95Ms, transactions, syncSamples, samples);
        }
    }

    private static String loadRow(String mode, List<Round> rs, String standby) {
        List<Double> tps = rs.stream().map(Round::tps).toList();
        String each = rs.stream().map(r -> String.format(Locale.ROOT, "%.0f (%d/%d)", r.tps(), r.syncSamples(),
                r.samples())).collect(Collectors.joining(", "));
        return String.format(Locale.ROOT, "| %s | %.0f | %.0f | %.0f | %s | %s | %d | %s | %s |%n", mode, median(tps),
                Collections.min(tps), Collections.max(tps), spread(rs.stream().map(Round::averageMs).toList()),
                spread(rs.stream().map(Round::p95Ms).toList()), rs.stream().mapToLong(Round::transactions).sum(), each,
                standby.replace("|", "/"));
    }

    private static String spread(List<Double> xs) {
        return String.format(Locale.ROOT, "%.2f ms (%.2f – %.2f)", median(xs), Collections.min(xs), Collections.max(xs));
    }

    private static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        Collections.sort(s);
        return s.size() % 2 == 1 ? s.get(s.size() / 2) : (s.get(s.size() / 2 - 1) + s.get(s.size() / 2)) / 2;
    }

    private static String pgbenchBinary() {
        return Host.pgBinDir().resolve("pgbench").toString();
    }

    private static List<String> pgbenchConnection(TestCluster c) {
        return List.of("-h", "127.0.0.1", "-p", Integer.toString(c.leader().pgPort), "-U", "postgres");
    }

    private static void pgbenchInit(TestCluster c, String mode) throws IOException {
        Path dir = Files.createDirectories(c.dir.resolve("pgbench-" + mode));
        run(concat(List.of(pgbenchBinary(), "-i", "-q", "-s", "1"), pgbenchConnection(c), List.of("postgres")), dir, 120);
    }

    /** One pgbench simple-update run through the primary; the latency p95 from its per-transaction log. */
    private static Round pgbench(TestCluster c, String mode, int round, Settings s) throws IOException {
        Path dir = Files.createDirectories(c.dir.resolve("pgbench-" + mode + "-" + round));
        int port = c.leader().pgPort;
        int[] sampled = new int[2]; // samples with a synchronous walsender, samples
        // whether commits waited for a standby all along: a round without one would pass for a fast sync round
        Thread sampler = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    String n = Sql.queryString(port, "SELECT count(*) FROM pg_stat_replication"
                            + " WHERE sync_state IN ('sync', 'quorum')");
                    synchronized (sampled) {
                        sampled[0] += "0".equals(n) ? 0 : 1;
                        sampled[1]++;
                    }
                    Thread.sleep(500);
                } catch (RuntimeException e) {
                    synchronized (sampled) {
                        sampled[1]++;
                    }
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "sync-sampler");
        sampler.setDaemon(true);
        sampler.start();
        String out;
        try {
            out = run(concat(List.of(pgbenchBinary(), "-n", "-b", "simple-update", "-c", Integer.toString(s.clients()),
                    "-j", "2", "-T", Integer.toString(s.seconds()), "-l", "--log-prefix=" + dir.resolve("tx")),
                    pgbenchConnection(c), List.of("postgres")), dir, s.seconds() + 60);
        } finally {
            sampler.interrupt();
        }
        try {
            sampler.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        List<Long> micros = new ArrayList<>();
        try (Stream<Path> logs = Files.list(dir)) {
            for (Path log : logs.filter(p -> p.getFileName().toString().startsWith("tx")).toList()) {
                for (String line : Files.readAllLines(log)) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length >= 3 && f[2].matches("\\d+")) { // "failed"/"skipped" transactions have no time
                        micros.add(Long.parseLong(f[2]));
                    }
                }
            }
        }
        if (micros.isEmpty() || find(TPS, out).isEmpty()) {
            throw new AssertionError("no transactions: " + out);
        }
        micros.sort(null);
        return new Round(Double.parseDouble(find(TPS, out)), Double.parseDouble(find(LATENCY, out)),
                micros.get((int) Math.ceil(micros.size() * 0.95) - 1) / 1000.0, Long.parseLong(find(PROCESSED, out)),
                sampled[0], sampled[1]);
    }

    /**
     * {@link Settings#runs()} crashes of the primary under a writer; the failover times, whether the new primary was
     * the one the sync key named, and the acknowledged rows missing from the last primary.
     */
    private static String crashes(TestCluster c, String mode, Settings s, boolean sync) {
        Duration healthy = Duration.ofSeconds(s.timing().ttl() * 4L + 60);
        List<Double> seconds = new ArrayList<>();
        List<Double> promoted = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        int fromKey = 0;
        Sql.execute(c.leader().pgPort, "CREATE TABLE IF NOT EXISTS sync_probe (id bigserial PRIMARY KEY)");
        Writer w = new Writer(c.nodes, "sync_acked", 20);
        try {
            Await.until(Duration.ofSeconds(30), "the writer's first rows", () -> w.count() > 50);
            for (int i = 1; i <= s.runs(); i++) {
                c.awaitHealthy(healthy);
                String named = "";
                if (sync) {
                    try {
                        named = awaitSyncStandby(c, SYNC_WAIT);
                    } catch (AssertionError e) {
                        notes.add("run " + i + ": no synchronous standby before the crash: " + oneLine(e));
                    }
                }
                Await.pause(s.timing().loopWait() * 1000L + 500);
                AgentProcess old = c.leader();
                long t0 = System.nanoTime();
                old.kill9();
                old.killPostgresTree();
                AgentProcess next;
                // when another node left recovery, apart from when it first committed: a commit that waits for a
                // synchronous standby after the promotion shows as the difference
                long[] promotedAt = {0};
                Thread watcher = new Thread(() -> {
                    while (promotedAt[0] == 0 && !Thread.currentThread().isInterrupted()) {
                        if (c.nodes.stream().anyMatch(n -> n != old && Sql.isPrimary(n.pgPort))) {
                            promotedAt[0] = System.nanoTime();
                            return;
                        }
                        try {
                            Thread.sleep(20);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }, "promotion-watcher");
                watcher.setDaemon(true);
                watcher.start();
                try {
                    next = c.awaitFirstWriterOtherThan(old, "INSERT INTO sync_probe DEFAULT VALUES",
                            Duration.ofSeconds(s.timing().ttl() * 3L + 30));
                } finally {
                    c.startAgent(old);
                }
                seconds.add((System.nanoTime() - t0) / 1e9);
                try {
                    watcher.join(5_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                watcher.interrupt();
                if (promotedAt[0] != 0) {
                    promoted.add((promotedAt[0] - t0) / 1e9);
                }
                if (Arrays.asList(named.split(",")).contains(next.name)) {
                    fromKey++;
                } else if (sync) {
                    notes.add("run " + i + ": " + next.name + " took over, the sync key named '" + named + "'");
                }
                System.out.printf(Locale.ROOT, "%s crash %d: %.2f s, new primary %s (sync key: %s)%n", mode, i,
                        seconds.get(i - 1), next.name, named);
            }
        } catch (RuntimeException | AssertionError e) {
            notes.add("stopped after " + seconds.size() + " runs: " + oneLine(e));
        } finally {
            w.close();
        }
        String missing = missing(c, w.acknowledged(), healthy);
        String times = seconds.isEmpty() ? "– | – | –" : FailoverBench.stats(seconds);
        String out = promoted.isEmpty() ? "–" : String.format(Locale.ROOT, "%.2f s (%.2f – %.2f)", median(promoted),
                Collections.min(promoted), Collections.max(promoted));
        return String.format(Locale.ROOT, "| %s | %s | %s | %s | %s |%n", mode, times, out,
                sync ? fromKey + " of " + seconds.size() : "– (off)", missing)
                + (notes.isEmpty() ? "" : "|  | " + String.join("; ", notes).replace("|", "/") + " | | | | | |\n");
    }

    /** "N of M" acknowledged ids absent from the primary once the cluster is whole again. */
    private static String missing(TestCluster c, List<Long> acked, Duration healthy) {
        try {
            c.awaitHealthy(healthy);
            Set<Long> present = new HashSet<>();
            String ids = Sql.queryString(c.leader().pgPort, "SELECT coalesce(string_agg(id::text, ','), '') FROM sync_acked");
            for (String id : ids.split(",")) {
                if (!id.isEmpty()) {
                    present.add(Long.parseLong(id));
                }
            }
            long gone = acked.stream().filter(id -> !present.contains(id)).count();
            return (gone == 0 ? "0" : "**" + gone + "**") + " of " + acked.size();
        } catch (RuntimeException | AssertionError e) {
            return "not checked (" + acked.size() + " acknowledged): " + oneLine(e);
        }
    }

    /**
     * Waits until the sync key names the current leader and a standby whose walsender PostgreSQL reports as
     * synchronous (pg_stat_replication.sync_state sync or quorum); returns the key's sync_standby ("a,b").
     */
    private static String awaitSyncStandby(TestCluster c, Duration timeout) {
        String[] named = {""};
        Await.until(timeout, "a synchronous standby in the sync key that PostgreSQL reports as sync", () -> {
            String leader = c.leaderName().orElse("");
            String key = c.etcd.get(c.key("sync")).orElse("");
            String standbys = find(SYNC_STANDBY, key);
            if (leader.isEmpty() || !leader.equals(find(SYNC_LEADER, key)) || standbys.isEmpty()) {
                return false;
            }
            String syncing = Sql.queryString(c.leader().pgPort, "SELECT coalesce(string_agg(application_name, ','), '')"
                    + " FROM pg_stat_replication WHERE sync_state IN ('sync', 'quorum')");
            named[0] = standbys;
            return Arrays.stream(standbys.split(",")).anyMatch(n -> Arrays.asList(syncing.split(",")).contains(n));
        }, () -> "sync key " + c.etcd.get(c.key("sync")).orElse("absent") + ", leader key "
                + c.leaderName().orElse("absent") + ", " + replicationState(c));
        return named[0];
    }

    /** The primary's synchronous_standby_names and its walsenders' sync_state, for the results. */
    private static String replicationState(TestCluster c) {
        try {
            int port = c.leader().pgPort;
            return "synchronous_standby_names '" + Sql.queryString(port, "SHOW synchronous_standby_names")
                    + "', walsenders " + Sql.queryString(port, "SELECT coalesce(string_agg(application_name || ' '"
                    + " || sync_state, ', ' ORDER BY application_name), 'none') FROM pg_stat_replication");
        } catch (RuntimeException e) {
            return "primary not readable: " + oneLine(e);
        }
    }

    /** Runs a client program in {@code dir}; its output, or an AssertionError naming the exit or the timeout. */
    private static String run(List<String> cmd, Path dir, int timeoutSeconds) throws IOException {
        Path out = Files.createTempFile(dir, "out", ".txt");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(out.toFile());
        pb.environment().put("PGPASSWORD", Sql.PASSWORD);
        pb.environment().put("PGSSLMODE", "disable");
        Process p = pb.start();
        try {
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(Path.of(cmd.get(0)).getFileName() + " did not finish within " + timeoutSeconds
                        + " s (commits blocked?): " + Files.readString(out));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        String text = Files.readString(out);
        if (p.exitValue() != 0) {
            throw new AssertionError(String.join(" ", cmd) + " exited with " + p.exitValue() + ": " + text);
        }
        return text;
    }

    private static String failureRow(String mode, String why, int emptyColumns) {
        return "| " + mode + " | " + why.replace("|", "/") + " |" + " |".repeat(emptyColumns - 1) + "\n";
    }

    private static String find(Pattern p, String text) {
        Matcher m = p.matcher(text);
        return m.find() ? m.group(1) : "";
    }

    /** An exception's message on one line, shortened for a table cell. */
    private static String oneLine(Throwable e) {
        String m = String.valueOf(e.getMessage()).replaceAll("\\s+", " ");
        return m.length() > 400 ? m.substring(0, 400) + " ..." : m;
    }

    private static String agentName(AgentProcess.Flavor f) {
        return f == AgentProcess.Flavor.PGKEEL ? "pgkeel" : "Patroni 3.0.2";
    }

    private static List<String> list(String property, String fallback) {
        return Arrays.stream(System.getProperty(property, fallback).split(",")).map(String::trim)
                .filter(x -> !x.isEmpty()).toList();
    }

    @SafeVarargs
    private static List<String> concat(List<String>... parts) {
        return Arrays.stream(parts).flatMap(List::stream).toList();
    }
}
