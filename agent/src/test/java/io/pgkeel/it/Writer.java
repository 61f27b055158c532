package io.pgkeel.it;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.stream.Collectors;

/**
 * A client writing one row every {@code periodMillis} to whichever node is primary (libpq-style multi-host URL with
 * targetServerType=primary), recording each acknowledged id and the longest gap between two acknowledgements.
 */
final class Writer implements AutoCloseable {
    private final String url;
    private final long periodMillis;
    private final Thread thread;
    private final List<Long> acked = new ArrayList<>();
    private final List<Long> ackNanos = new ArrayList<>();
    private volatile boolean running = true;

    Writer(List<AgentProcess> nodes, String table, long periodMillis) {
        this("jdbc:postgresql://" + nodes.stream().map(n -> "127.0.0.1:" + n.pgPort).collect(Collectors.joining(","))
                + "/postgres?targetServerType=primary",
                nodes.stream().filter(n -> Sql.isPrimary(n.pgPort)).findFirst().orElseThrow().pgPort, table, periodMillis);
    }

    /**
     * A writer through one address, e.g. HAProxy's write port ({@code jdbc:postgresql://127.0.0.1:PORT/postgres}); the
     * table is created on {@code primaryPort} first.
     */
    Writer(String url, int primaryPort, String table, long periodMillis) {
        this.url = url;
        this.periodMillis = periodMillis;
        Sql.execute(primaryPort, "CREATE TABLE IF NOT EXISTS " + table + " (id bigint PRIMARY KEY)");
        this.thread = new Thread(() -> run(table), "it-writer");
        thread.setDaemon(true);
        thread.start();
    }

    private Connection connect() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("password", Sql.PASSWORD);
        p.setProperty("connectTimeout", "1");
        p.setProperty("socketTimeout", "2");
        p.setProperty("sslmode", "disable");
        return DriverManager.getConnection(url, p);
    }

    private void run(String table) {
        Connection c = null;
        long next = 1;
        while (running) {
            long started = System.nanoTime();
            try {
                if (c == null) {
                    c = connect();
                }
                try (Statement st = c.createStatement()) {
                    st.execute("INSERT INTO " + table + " VALUES (" + next + ")");
                }
                synchronized (this) {
                    acked.add(next);
                    ackNanos.add(System.nanoTime());
                }
                next++;
            } catch (SQLException e) {
                closeQuietly(c);
                c = null;
                next++; // the outcome of a failed insert is unknown: never reuse its id
            }
            long sleep = periodMillis - (System.nanoTime() - started) / 1_000_000;
            if (sleep > 0) {
                Await.pause(sleep);
            }
        }
        closeQuietly(c);
    }

    private static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // already broken
            }
        }
    }

    synchronized List<Long> acknowledged() {
        return List.copyOf(acked);
    }

    /** The longest time between two consecutive acknowledgements, in ms. */
    synchronized long longestGapMillis() {
        long max = 0;
        for (int i = 1; i < ackNanos.size(); i++) {
            max = Math.max(max, ackNanos.get(i) - ackNanos.get(i - 1));
        }
        return max / 1_000_000;
    }

    /**
     * The longest time without an acknowledgement that overlaps [fromNanos, toNanos]: from the last ack before the
     * window to the first one after it, in ms.
     */
    synchronized long longestGapMillisAround(long fromNanos, long toNanos) {
        long max = 0;
        for (int i = 1; i < ackNanos.size(); i++) {
            long a = ackNanos.get(i - 1);
            long b = ackNanos.get(i);
            if (b - fromNanos >= 0 && a - toNanos <= 0) {
                max = Math.max(max, b - a);
            }
        }
        return max / 1_000_000;
    }

    synchronized int count() {
        return acked.size();
    }

    @Override
    public void close() {
        running = false;
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
