package io.pgkeel.agent.pg;

import io.pgkeel.config.PgkeelConfig;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's JDBC connection to its own PostgreSQL, as the superuser: opened on first use and kept, so that the
 * probe of every cycle (and slot upkeep, promotion, the CHECKPOINT before a fast stop, role creation) does not
 * connect and authenticate anew. Whoever sees it fail closes it; the next use reconnects.
 */
final class LocalConnection {
    // the lines keep the logger name operators know them by
    private static final Logger log = LoggerFactory.getLogger(PostgresController.class);

    private final Supplier<PgkeelConfig.Postgresql> settings;
    private final Supplier<String> socketDirectories;
    private final ClientKeys keys;
    private Connection connection;

    /**
     * @param settings          {@code postgresql} as configured now: superuser, its connection options, port,
     *                          listen hosts and use_unix_socket are read on connect
     * @param socketDirectories unix_socket_directories as postgresql.conf sets it now
     * @param keys              client keys in the form the driver reads
     */
    LocalConnection(Supplier<PgkeelConfig.Postgresql> settings, Supplier<String> socketDirectories, ClientKeys keys) {
        this.settings = settings;
        this.socketDirectories = socketDirectories;
        this.keys = keys;
    }

    /**
     * The kept connection, or a new one to database postgres (connect and login timeouts 3 s, socket timeout 10 s,
     * application_name pgkeel) as the superuser with its connection options ({@link JdbcSettings}): through the
     * unix socket with {@code use_unix_socket}, as Patroni's {@code resolve_connection_addresses} does, else TCP.
     *
     * @throws SQLException when PostgreSQL cannot be reached or refuses the login, or the superuser's connection
     *                      options cannot be used (the message names the option)
     */
    Connection get() throws SQLException {
        if (connection != null) {
            return connection;
        }
        PgkeelConfig.Postgresql pgc = settings.get();
        String socketFile = pgc.useUnixSocket() ? socketFile(socketDirectories.get(), pgc.port()) : null;
        Properties p;
        try {
            p = JdbcSettings.properties(pgc.superuser(), socketFile, keys::forJdbc);
        } catch (IllegalArgumentException e) {
            throw new SQLException("postgresql.authentication.superuser: " + e.getMessage(), e);
        }
        p.setProperty("connectTimeout", "3");
        p.setProperty("socketTimeout", "10");
        p.setProperty("loginTimeout", "3");
        p.setProperty("ApplicationName", "pgkeel");
        // through the socket factory the host is not used: any will do
        String url = new ConnUrl(socketFile != null ? "localhost" : pgc.localHost(), pgc.port()).jdbcUrl();
        connection = DriverManager.getConnection(url, p);
        return connection;
    }

    /**
     * The socket file in the first absolute directory of {@code unix_socket_directories} (a relative one cannot be
     * connected to: Patroni's {@code _get_unix_local_address}); null when there is none, and TCP is used.
     */
    static String socketFile(String unixSocketDirectories, int port) {
        if (unixSocketDirectories == null) {
            return null;
        }
        for (String d : unixSocketDirectories.split(",")) {
            String dir = d.trim();
            if (dir.startsWith("/")) {
                return (dir.endsWith("/") ? dir : dir + "/") + ".s.PGSQL." + port;
            }
        }
        return null;
    }

    void close() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException e) {
                log.debug("closing connection: {}", e.getMessage());
            }
            connection = null;
        }
    }
}
