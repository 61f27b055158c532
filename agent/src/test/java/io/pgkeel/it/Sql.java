package io.pgkeel.it;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.function.IntFunction;

/** Short-lived JDBC connections to one test node as the superuser. */
final class Sql {
    static final String PASSWORD = "it-secret";
    /** The replication role's: a backslash, a quote and a colon, each quoted differently in SQL, YAML and pgpass. */
    static final String REPLICATION_PASSWORD = "rep\\se'c:ret";

    /**
     * Properties that replace the password login for a port (a client certificate, a unix socket), for a class
     * whose pg_hba refuses it; null: the password over TCP. Set and reset by that class.
     */
    static volatile IntFunction<Properties> loginOverride;

    private Sql() {}

    static Connection connect(int port) throws SQLException {
        return connect(port, 5);
    }

    /** A connection whose statements may take up to {@code socketTimeoutSeconds} (a commit waiting for a standby). */
    static Connection connect(int port, int socketTimeoutSeconds) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("password", PASSWORD);
        p.setProperty("connectTimeout", "2");
        p.setProperty("socketTimeout", String.valueOf(socketTimeoutSeconds));
        p.setProperty("sslmode", "disable");
        IntFunction<Properties> override = loginOverride;
        if (override != null) {
            p.putAll(override.apply(port));
        }
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", p);
    }

    static String queryString(int port, String sql) {
        try (Connection c = connect(port); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        } catch (SQLException e) {
            throw new IllegalStateException("port " + port + ": " + e.getMessage(), e);
        }
    }

    /** True when the statement committed (the node accepts writes). */
    static boolean tryExecute(int port, String sql) {
        try (Connection c = connect(port); Statement st = c.createStatement()) {
            st.execute(sql);
            return true;
        } catch (SQLException e) {
            return false;
        }
    }

    /**
     * Commits {@code sql} every 50 ms until the node refuses it; returns how long after {@code sinceNanos} that was.
     * Fails when it still commits {@code bound} after {@code sinceNanos}.
     */
    static long writeUntilRefused(int port, String sql, long sinceNanos, java.time.Duration bound, String what) {
        while (tryExecute(port, sql)) {
            if (System.nanoTime() - sinceNanos >= bound.toNanos()) {
                throw new AssertionError("still writable " + bound.toSeconds() + " s after " + what);
            }
            Await.pause(50);
        }
        return System.nanoTime() - sinceNanos;
    }

    static void execute(int port, String sql) {
        try (Connection c = connect(port); Statement st = c.createStatement()) {
            st.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException("port " + port + ": " + e.getMessage(), e);
        }
    }

    static boolean isPrimary(int port) {
        try {
            return "f".equals(queryString(port, "SELECT pg_is_in_recovery()"));
        } catch (IllegalStateException e) {
            return false;
        }
    }
}
