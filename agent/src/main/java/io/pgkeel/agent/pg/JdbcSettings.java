package io.pgkeel.agent.pg;

import io.pgkeel.config.Credentials;
import java.util.Map;
import java.util.Properties;
import java.util.function.UnaryOperator;

/**
 * The JDBC driver's properties for a connection as one of the configured roles, from its libpq connection options
 * ({@code postgresql.authentication.<user>}): what Patroni hands libpq, in the names of the PostgreSQL JDBC
 * driver (pgjdbc 42.7). Pure: the one file-dependent step, a client key the driver cannot read as written, is
 * the caller's {@code keyForJdbc}.
 */
final class JdbcSettings {
    /** libpq keyword to the driver's property, for the options the driver has under another name. */
    private static final Map<String, String> DRIVER_NAMES = Map.of("sslnegotiation", "sslNegotiation",
            "gssencmode", "gssEncMode", "channel_binding", "channelBinding");

    private JdbcSettings() {}

    /**
     * The properties that authenticate {@code who}: user, password and its connection options. Over TCP sslmode is
     * the configured one, else libpq's default {@code prefer}; over a unix socket (a non-null {@code socketFile}),
     * as libpq does there, no SSL or GSS encryption is tried and the SSL options have nothing to apply to.
     *
     * @param socketFile the server's socket file ({@code <dir>/.s.PGSQL.<port>}) for {@link UnixSocketFactory}, or
     *                   null for TCP
     * @param keyForJdbc the file the driver is to read for an {@code sslkey} (the driver reads PKCS-8 DER, or
     *                   PKCS-12 by the file's extension)
     * @throws IllegalArgumentException for an option the driver cannot honour ({@code sslcrl}, {@code sslcrldir}),
     *                                  naming it
     */
    static Properties properties(Credentials who, String socketFile, UnaryOperator<String> keyForJdbc) {
        Properties p = new Properties();
        p.setProperty("user", who.username());
        if (who.password() != null) {
            p.setProperty("password", who.password());
        }
        if (socketFile != null) {
            p.setProperty("socketFactory", UnixSocketFactory.class.getName());
            p.setProperty("socketFactoryArg", socketFile);
            p.setProperty("sslmode", "disable");
            p.setProperty("gssEncMode", "disable");
            return p;
        }
        p.setProperty("sslmode", "prefer");
        who.options().forEach((k, v) -> {
            switch (k) {
                case "sslcrl", "sslcrldir" -> throw new IllegalArgumentException("postgresql.authentication: "
                        + who.username() + "'s " + k + " cannot be checked by the JDBC driver the agent connects with");
                case "sslkey" -> p.setProperty(k, keyForJdbc.apply(v));
                default -> p.setProperty(DRIVER_NAMES.getOrDefault(k, k), v);
            }
        });
        return p;
    }
}
