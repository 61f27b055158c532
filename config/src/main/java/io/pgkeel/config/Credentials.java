package io.pgkeel.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A PostgreSQL role, its password and the libpq connection options its connections use
 * ({@code postgresql.authentication.<user>} in Patroni's YAML). {@link #toString()} never shows the password or
 * {@code sslpassword}.
 *
 * @param options libpq keyword to value, among {@link #OPTIONS}, in that order; empty when none are set
 */
public record Credentials(String username, String password, Map<String, String> options) {
    /**
     * The connection options Patroni takes from each {@code postgresql.authentication} user, by their libpq
     * keywords (Patroni's {@code ConfigHandler.format_dsn}).
     */
    public static final List<String> OPTIONS = List.of("sslmode", "sslcert", "sslkey", "sslpassword", "sslrootcert",
            "sslcrl", "sslcrldir", "sslnegotiation", "gssencmode", "channel_binding");

    /** The {@link #OPTIONS} whose value is a file or directory, checked as one when the configuration is read. */
    public static final Set<String> PATH_OPTIONS = Set.of("sslcert", "sslkey", "sslrootcert", "sslcrl", "sslcrldir");

    public Credentials {
        Objects.requireNonNull(options, "options");
        Map<String, String> ordered = new LinkedHashMap<>();
        for (String k : OPTIONS) {
            if (options.get(k) != null) {
                ordered.put(k, options.get(k));
            }
        }
        if (ordered.size() != options.size()) {
            throw new IllegalArgumentException("unknown connection options in " + options.keySet() + "; known: "
                    + OPTIONS);
        }
        options = Collections.unmodifiableMap(ordered);
    }

    /** A role with no connection options. */
    public Credentials(String username, String password) {
        this(username, password, Map.of());
    }

    /** The value of libpq option {@code keyword}, or null. */
    public String option(String keyword) {
        return options.get(keyword);
    }

    @Override
    public String toString() {
        Map<String, String> shown = new LinkedHashMap<>(options);
        shown.computeIfPresent("sslpassword", (k, v) -> "***");
        return "Credentials[username=" + username + ", password=" + (password == null ? "none" : "***")
                + (shown.isEmpty() ? "" : ", options=" + shown) + "]";
    }
}
