package io.pgkeel.it;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * Asks every node, every {@code periodMillis} on a shared schedule, whether it takes writes, and records the sampler
 * instants (ticks) at which two or more did. A node "takes writes" at a tick when an {@code INSERT} sent to it
 * directly over JDBC at that tick commits and is acknowledged within {@link #PROBE_TIMEOUT_SECONDS} s, with the
 * session's default settings: what an application connected to that node would be told. A node that refuses the
 * write (a replica: read-only transaction), cannot be reached, or has not answered when the tick's time is up does
 * not. Each node has its own thread and connection (kept across ticks, opened again after an error), so a hung node
 * delays only its own samples; a tick its thread missed counts as not taking writes for that node.
 */
final class WriteSampler implements AutoCloseable {
    /** How long a probe may take to be acknowledged, in seconds (JDBC's socketTimeout). */
    static final int PROBE_TIMEOUT_SECONDS = 1;
    /** PostgreSQL's read_only_sql_transaction: the node is in recovery. */
    private static final String READ_ONLY = "25006";

    /** One sampler instant at which more than one node took writes: the tick, its time, and each node's answer. */
    record TwoWriters(long tick, long tickNanos, Map<String, String> serverTimes) {}

    private final long periodMillis;
    private final long startNanos;
    private final List<Thread> threads = new ArrayList<>();
    /** Per tick, the node names (and their server time at the insert) that took writes. Guarded by {@code this}. */
    private final TreeMap<Long, Map<String, String>> writers = new TreeMap<>();
    private long samples;
    /** Per node: probes, probes that took writes, and the last refusal. Guarded by {@code this}. */
    private final Map<String, long[]> counts = new TreeMap<>();
    private final Map<String, String> lastRefusal = new TreeMap<>();
    private volatile boolean running = true;

    WriteSampler(List<AgentProcess> nodes, String table, long periodMillis) {
        this.periodMillis = periodMillis;
        Sql.execute(nodes.stream().filter(n -> Sql.isPrimary(n.pgPort)).findFirst().orElseThrow().pgPort,
                "CREATE TABLE IF NOT EXISTS " + table + " (node text, at timestamptz DEFAULT clock_timestamp())");
        this.startNanos = System.nanoTime();
        for (AgentProcess n : nodes) {
            Thread t = new Thread(() -> sample(n, table), "write-sampler-" + n.name);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
    }

    private void sample(AgentProcess node, String table) {
        Connection c = null;
        long tick = 0;
        String sql = "INSERT INTO " + table + " (node) VALUES ('" + node.name + "') RETURNING at";
        while (running) {
            long due = startNanos + tick * periodMillis * 1_000_000;
            long wait = (due - System.nanoTime()) / 1_000_000;
            if (wait > 0) {
                Await.pause(wait);
            }
            String at = null;
            try {
                if (c == null) {
                    c = connect(node.pgPort);
                }
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
                    rs.next();
                    at = rs.getString(1);
                }
            } catch (SQLException e) {
                synchronized (this) {
                    lastRefusal.put(node.name, e.getSQLState() + " " + e.getMessage());
                }
                // a replica's refusal (read-only transaction) leaves the session usable: keep it, so that a session
                // open when the node leaves recovery shows that at once, as an application's would
                if (!READ_ONLY.equals(e.getSQLState())) {
                    close(c);
                    c = null;
                }
            }
            long answered = System.nanoTime();
            synchronized (this) {
                samples++;
                long[] n = counts.computeIfAbsent(node.name, k -> new long[2]);
                n[0]++;
                n[1] += at != null ? 1 : 0;
                // acknowledged within the probe's time: it took writes at this tick
                if (at != null && answered - due <= PROBE_TIMEOUT_SECONDS * 1_000_000_000L) {
                    writers.computeIfAbsent(tick, k -> new TreeMap<>()).put(node.name, at);
                }
            }
            // the next tick not yet begun: ticks missed while this probe hung are samples with no write
            tick = Math.max(tick + 1, (System.nanoTime() - startNanos) / (periodMillis * 1_000_000) + 1);
        }
        close(c);
    }

    private static Connection connect(int port) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("password", Sql.PASSWORD);
        p.setProperty("connectTimeout", String.valueOf(PROBE_TIMEOUT_SECONDS));
        p.setProperty("socketTimeout", String.valueOf(PROBE_TIMEOUT_SECONDS));
        p.setProperty("loginTimeout", String.valueOf(PROBE_TIMEOUT_SECONDS));
        p.setProperty("sslmode", "disable");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", p);
    }

    private static void close(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // already broken
            }
        }
    }

    /** Every tick, from {@code fromNanos} on, at which two or more nodes took writes. */
    synchronized List<TwoWriters> twoWritersSince(long fromNanos) {
        long fromTick = Math.max(0, (fromNanos - startNanos) / (periodMillis * 1_000_000));
        List<TwoWriters> events = new ArrayList<>();
        writers.tailMap(fromTick, true).forEach((tick, nodes) -> {
            if (nodes.size() > 1) {
                events.add(new TwoWriters(tick, startNanos + tick * periodMillis * 1_000_000, Map.copyOf(nodes)));
            }
        });
        return events;
    }

    /** How many sampler instants had exactly one node taking writes. */
    synchronized long instantsWithOneWriter() {
        return writers.values().stream().filter(nodes -> nodes.size() == 1).count();
    }

    /** Per node: its probes, how many took writes, and its last refusal. */
    synchronized String describe() {
        StringBuilder sb = new StringBuilder();
        counts.forEach((node, n) -> sb.append(String.format("%s: %d probes, %d took writes, last refusal: %s; ", node,
                n[0], n[1], lastRefusal.getOrDefault(node, "none"))));
        return sb.toString();
    }

    /** How many probes were answered or given up on so far, over all nodes. */
    synchronized long samples() {
        return samples;
    }

    @Override
    public void close() {
        running = false;
        for (Thread t : threads) {
            try {
                t.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
