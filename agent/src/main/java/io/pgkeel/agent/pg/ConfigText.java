package io.pgkeel.agent.pg;

import io.pgkeel.common.cluster.Member;
import io.pgkeel.config.Credentials;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The text of the files pgkeel writes for its PostgreSQL, as pure functions of explicit inputs: postgresql.conf
 * (the managed settings after {@code include 'postgresql.base.conf'}, the layout of Patroni's
 * {@code postgresql/config.py}), pg_hba.conf, the pgpass file and the standby settings. Nothing here reads a file,
 * the clock or the environment: what depends on the machine (the socket directory, whether initdb's file was kept)
 * arrives in the inputs, decided by {@link ConfigFiles}.
 */
final class ConfigText {
    /** Starts the line of postgresql.conf that names the member primary_conninfo points at. */
    static final String FOLLOW_MARKER = "# pgkeel: following ";

    private ConfigText() {}

    /**
     * Everything postgresql.conf is rendered from.
     *
     * @param asPrimary           a primary gets empty standby settings and no follow marker
     * @param standby             primary_conninfo and primary_slot_name for a standby ({@link Standby#NONE}: nobody)
     * @param following           the member name for the follow marker; null: no marker
     * @param configKeyParameters the config key's {@code postgresql.parameters} (etcd), in their iteration order
     * @param localParameters     the YAML file's {@code postgresql.parameters}; they override the config key's
     * @param usePgRewind         {@code use_pg_rewind}, the local value if set, else the config key's: adds
     *                            {@code wal_log_hints = 'on'} (pg_rewind needs it without data checksums)
     * @param listenAddresses     {@code postgresql.listen}'s hosts, as written into listen_addresses
     * @param port                the TCP port
     * @param clusterName         the scope, as cluster_name
     * @param socketDirectory     the default unix_socket_directories (a parameter may override it)
     * @param includeBaseConf     initdb's file was kept as postgresql.base.conf: include it first
     */
    record Conf(boolean asPrimary, Standby standby, String following, Map<String, String> configKeyParameters,
                Map<String, String> localParameters, boolean usePgRewind, String listenAddresses, int port,
                String clusterName, String socketDirectory, boolean includeBaseConf) {
        Conf {
            Objects.requireNonNull(standby, "standby");
            Objects.requireNonNull(configKeyParameters, "configKeyParameters");
            Objects.requireNonNull(localParameters, "localParameters");
        }
    }

    /**
     * The member a standby streams from and how it authenticates.
     *
     * @param host           the upstream's host, from its conn_url
     * @param port           the upstream's port
     * @param replicationUser the role that streams
     * @param passfile       the pgpass file, an absolute path (a relative one would be read from the data directory)
     * @param memberName     this member: its application_name and, with slots, its slot's name
     * @param useSlots       the config key's {@code use_slots}: stream through this member's physical slot
     */
    record Upstream(String host, int port, String replicationUser, Path passfile, String memberName,
                    boolean useSlots) {}

    /** primary_conninfo and primary_slot_name as they stand in postgresql.conf, unquoted; "" when unset. */
    record Standby(String primaryConninfo, String primarySlotName) {
        /** A primary's, or a standby's that follows nobody. */
        static final Standby NONE = new Standby("", "");
    }

    /** The standby settings for streaming from {@code u} (the slot name is Patroni's, {@link Member#slotName}). */
    static Standby standby(Upstream u) {
        return new Standby("host=" + u.host() + " port=" + u.port() + " user=" + u.replicationUser() + " passfile="
                + u.passfile() + " application_name=" + u.memberName() + " sslmode=prefer connect_timeout=3",
                u.useSlots() ? Member.slotName(u.memberName()) : "");
    }

    /** postgresql.conf: one {@code name = 'value'} line per setting, later sources overriding earlier ones in place. */
    static String postgresqlConf(Conf c) {
        // insertion order decides the line order: an overridden setting keeps its first place, with the last value
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("wal_level", "replica");
        settings.put("hot_standby", "on");
        settings.put("max_wal_senders", "10");
        settings.put("max_replication_slots", "10");
        settings.put("wal_keep_size", "128MB");
        // a standby refused by a new primary (its slot is being created) retries after 1 s, not PostgreSQL's 5 s
        settings.put("wal_retrieve_retry_interval", "1s");
        settings.put("unix_socket_directories", c.socketDirectory());
        if (c.usePgRewind()) {
            settings.put("wal_log_hints", "on");
        }
        settings.putAll(c.configKeyParameters());
        settings.putAll(c.localParameters());
        settings.put("listen_addresses", c.listenAddresses());
        settings.put("port", String.valueOf(c.port()));
        settings.put("cluster_name", c.clusterName());
        settings.put("recovery_target_timeline", "latest");
        settings.put("primary_conninfo", c.asPrimary() ? "" : c.standby().primaryConninfo());
        settings.put("primary_slot_name", c.asPrimary() ? "" : c.standby().primarySlotName());
        StringBuilder conf = new StringBuilder();
        conf.append("# Written by pgkeel before every start: edit postgresql.parameters in the YAML file or the\n")
                .append("# config key in etcd instead (changes here are overwritten).\n");
        if (c.includeBaseConf()) {
            conf.append("include 'postgresql.base.conf'\n");
        }
        settings.forEach((k, v) -> conf.append(k).append(" = ").append(literal(v)).append('\n'));
        if (!c.asPrimary() && c.following() != null) {
            conf.append(FOLLOW_MARKER).append(c.following()).append('\n');
        }
        return conf.toString();
    }

    /**
     * The standby settings of a postgresql.conf written by {@link #postgresqlConf}, from its lines; "" for a setting
     * it does not hold.
     */
    static Standby standbyOf(List<String> confLines) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : confLines) {
            for (String key : List.of("primary_conninfo", "primary_slot_name")) {
                if (line.startsWith(key + " = '") && line.endsWith("'")) {
                    String quoted = line.substring(key.length() + 4, line.length() - 1);
                    out.put(key, quoted.replace("''", "'").replace("\\\\", "\\"));
                }
            }
        }
        return new Standby(out.getOrDefault("primary_conninfo", ""), out.getOrDefault("primary_slot_name", ""));
    }

    /** The member named by the first non-empty follow marker among these postgresql.conf lines, or null. */
    static String followedMember(Stream<String> confLines) {
        return confLines.filter(l -> l.startsWith(FOLLOW_MARKER)).map(l -> l.substring(FOLLOW_MARKER.length()).trim())
                .filter(s -> !s.isEmpty()).findFirst().orElse(null);
    }

    /** pg_hba.conf: the configured lines, each ended by a newline; empty when none are configured (keep initdb's). */
    static Optional<String> pgHba(List<String> lines) {
        return lines.isEmpty() ? Optional.empty() : Optional.of(String.join("\n", lines) + "\n");
    }

    /**
     * The pgpass file: a {@code *:*:*:user:password} line for each role with a password, in the given order (libpq
     * takes the first line that matches); {@code :} and {@code \} escaped as libpq's pgpass format wants.
     */
    static String pgpass(List<Credentials> roles) {
        StringBuilder sb = new StringBuilder();
        for (Credentials c : roles) {
            if (c.password() != null) {
                sb.append("*:*:*:").append(escapePgpass(c.username())).append(':').append(escapePgpass(c.password()))
                        .append('\n');
            }
        }
        return sb.toString();
    }

    static String escapePgpass(String s) {
        return s.replace("\\", "\\\\").replace(":", "\\:");
    }

    /** A quoted value as postgresql.conf reads it: {@code '} doubled, {@code \} escaped. */
    static String literal(String v) {
        return "'" + v.replace("\\", "\\\\").replace("'", "''") + "'";
    }
}
