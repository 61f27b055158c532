package io.pgkeel.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Benchmark, not a test (bench/sync.sh runs it): synchronous replication, pgkeel and Patroni 3.0 (Debian's package)
 * on the same YAML. For each agent of -Dbench.flavors and each {@code synchronous_mode} of -Dbench.modes (default
 * off,on), a fresh 3-node cluster whose bootstrap.dcs sets that mode: PostgreSQL's pgbench (built-in simple-update,
 * -Dbench.clients connections, -Dbench.seconds long) against the primary, its tps and the transaction latency (average,
 * and the 95th percentile from pgbench's per-transaction log). Then, in each mode of -Dbench.failoverModes (default on),
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
    private record Settings(TestCluster.Timing timing, int clients, int seconds, int runs, Set<String> failoverModes) {}

    @Test
    void syncOnVsOff() throws IOException {
        Settings s = new Settings(new TestCluster.Timing(Integer.getInteger("bench.ttl", 10),
                Integer.getInteger("bench.loopWait", 2), Integer.getInteger("bench.retryTimeout", 4)),
                Integer.getInteger("bench.clients", 4), Integer.getInteger("bench.seconds", 20),
                Integer.getInteger("bench.runs", 3), Set.copyOf(list("bench.failoverModes", "on")));
        StringBuilder md = new StringBuilder();
        for (String flavor : list("bench.flavors", "PGKEEL,PATRONI")) {
            AgentProcess.Flavor f = AgentProcess.Flavor.valueOf(flavor);
            StringBuilder load = new StringBuilder(String.format(Locale.ROOT, """

                    ### %s: pgbench -b simple-update -c %d -j 2 -T %d (scale 1) against the primary; ttl %d, loop_wait \
                    %d, retry_timeout %d

                    | synchronous_mode | tps | latency average | latency p95 | transactions | synchronous standby at the start |
                    |---|---|---|---|---|---|
                    """, agentName(f), s.clients(), s.seconds(), s.timing().ttl(), s.timing().loopWait(),
                    s.timing().retryTimeout()));
            StringBuilder crash = new StringBuilder(String.format(Locale.ROOT, """

                    %s: kill -9 of the primary's agent and PostgreSQL -> first write committed on another node, %d runs

                    | synchronous_mode | median | min | max | new primary was the one the sync key named | rows acknowledged, then missing |
                    |---|---|---|---|---|---|
                    """, agentName(f), s.runs()));
            for (String mode : list("bench.modes", "off,on")) {
                measure(f, mode, s, load, crash);
            }
            md.append(load).append(crash);
        }
        FailoverBench.report(md);
    }

    /** One fresh cluster of {@code f} agents in {@code mode}: its pgbench row, and its crash row when asked for. */
    private static void measure(AgentProcess.Flavor f, String mode, Settings s, StringBuilder load, StringBuilder crash) {
        boolean crashes = s.failoverModes().contains(mode);
        TestCluster c;
        try {
            c = TestCluster.start("bench-sync-" + f.name().toLowerCase(Locale.ROOT) + "-" + mode, 3, s.timing(), f,
                    (name, yaml) -> yaml.replace("    maximum_lag_on_failover: 1048576\n",
                            "    maximum_lag_on_failover: 1048576\n    synchronous_mode: " + mode + "\n"));
        } catch (RuntimeException | AssertionError e) {
            // TestCluster printed the agents' logs before deleting them (bench/sync.sh keeps that output)
            String why = "the cluster did not start: " + oneLine(e) + " (agent logs in the run's output)";
            load.append(failureRow(mode, why, 5));
            if (crashes) {
                crash.append(failureRow(mode, why, 5));
            }
            return;
        }
        try (c) {
            boolean sync = !"off".equals(mode);
            String standby = "none (synchronous_mode off): " + replicationState(c);
            if (sync) {
                try {
                    standby = awaitSyncStandby(c, SYNC_WAIT) + " in the sync key; " + replicationState(c);
                } catch (AssertionError e) {
                    // measured anyway: what a missing synchronous standby does to commits and failover is the point
                    standby = "**none within " + SYNC_WAIT.toSeconds() + " s**: " + oneLine(e);
                }
            }
            try {
                load.append(pgbench(c, mode, s, standby));
            } catch (IOException | RuntimeException | AssertionError e) {
                load.append(failureRow(mode, "pgbench: " + oneLine(e) + "; " + standby, 5));
            }
            if (crashes) {
                crash.append(crashes(c, mode, s, sync));
            }
        } catch (RuntimeException | AssertionError e) {
            load.append(failureRow(mode, oneLine(e), 5));
        }
    }

    /** pgbench's simple-update through the primary, after pgbench -i; tps, latency average and p95. */
    private static String pgbench(TestCluster c, String mode, Settings s, String standby) throws IOException {
        AgentProcess primary = c.leader();
        String pgbench = Host.pgBinDir().resolve("pgbench").toString();
        List<String> conn = List.of("-h", "127.0.0.1", "-p", Integer.toString(primary.pgPort), "-U", "postgres");
        Path dir = Files.createDirectories(c.dir.resolve("pgbench-" + mode));
        run(concat(List.of(pgbench, "-i", "-q", "-s", "1"), conn, List.of("postgres")), dir, 120);
        String out = run(concat(List.of(pgbench, "-n", "-b", "simple-update", "-c", Integer.toString(s.clients()), "-j",
                "2", "-T", Integer.toString(s.seconds()), "-l", "--log-prefix=" + dir.resolve("tx")), conn,
                List.of("postgres")), dir, s.seconds() + 60);
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
        micros.sort(null);
        String p95 = micros.isEmpty() ? "?" : String.format(Locale.ROOT, "%.2f ms",
                micros.get((int) Math.ceil(micros.size() * 0.95) - 1) / 1000.0);
        String tps = find(TPS, out);
        return String.format(Locale.ROOT, "| %s | %s | %s ms | %s | %s | %s |%n", mode,
                tps.isEmpty() ? "?" : String.format(Locale.ROOT, "%.0f", Double.parseDouble(tps)),
                find(LATENCY, out), p95, find(PROCESSED, out), standby);
    }

    /**
     * {@link Settings#runs()} crashes of the primary under a writer; the failover times, whether the new primary was
     * the one the sync key named, and the acknowledged rows missing from the last primary.
     */
    private static String crashes(TestCluster c, String mode, Settings s, boolean sync) {
        Duration healthy = Duration.ofSeconds(s.timing().ttl() * 4L + 60);
        List<Double> seconds = new ArrayList<>();
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
                try {
                    next = c.awaitFirstWriterOtherThan(old, "INSERT INTO sync_probe DEFAULT VALUES",
                            Duration.ofSeconds(s.timing().ttl() * 3L + 30));
                } finally {
                    c.startAgent(old);
                }
                seconds.add((System.nanoTime() - t0) / 1e9);
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
        return String.format(Locale.ROOT, "| %s | %s | %s | %s |%n", mode, times,
                sync ? fromKey + " of " + seconds.size() : "– (off)", missing)
                + (notes.isEmpty() ? "" : "|  | " + String.join("; ", notes).replace("|", "/") + " | | | | |\n");
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
