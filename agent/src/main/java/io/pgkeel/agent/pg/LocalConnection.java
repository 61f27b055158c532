package io.pgkeel.agent.pg;

import io.pgkeel.config.HostPort;
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
    private Connection connection;

    /** @param settings {@code postgresql} as configured now: superuser, port and listen hosts are read on connect */
    LocalConnection(Supplier<PgkeelConfig.Postgresql> settings) {
        this.settings = settings;
    }

    /**
     * The kept connection, or a new one to database postgres (connect and login timeouts 3 s, socket timeout 10 s,
     * no TLS, application_name pgkeel).
     *
     * @throws SQLException when PostgreSQL cannot be reached or refuses the login
     */
    Connection get() throws SQLException {
        if (connection != null) {
            return connection;
        }
        PgkeelConfig.Postgresql pgc = settings.get();
        Properties p = new Properties();
        p.setProperty("user", pgc.superuser().username());
        if (pgc.superuser().password() != null) {
            p.setProperty("password", pgc.superuser().password());
        }
        p.setProperty("connectTimeout", "3");
        p.setProperty("socketTimeout", "10");
        p.setProperty("loginTimeout", "3");
        p.setProperty("ApplicationName", "pgkeel");
        p.setProperty("sslmode", "disable");
        String url = "jdbc:postgresql://" + HostPort.uriHost(pgc.localHost()) + ":" + pgc.port() + "/postgres";
        connection = DriverManager.getConnection(url, p);
        return connection;
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
