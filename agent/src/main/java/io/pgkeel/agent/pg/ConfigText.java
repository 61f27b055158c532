package io.pgkeel.agent.pg;

import io.pgkeel.common.cluster.Member;
import io.pgkeel.config.Credentials;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
    /**
     * Starts the line of postgresql.conf that says its synchronous_standby_names is the agent's own (synchronous
     * mode), followed by the member name that wrote it: a file copied from another member (pg_basebackup and
     * pg_rewind copy postgresql.conf) does not pass for this member's.
     */
    static final String SYNC_MARKER = "# pgkeel: synchronous_standby_names managed by member ";
    static final String SYNCHRONOUS_STANDBY_NAMES = "synchronous_standby_names";

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
     * @param majorVersion        the PostgreSQL major version of the data directory (12, 13, ...): parameters
     *                            renamed or removed between versions are written as this version knows them
     *                            ({@link #serverParameters}); 0 when unknown: written as given
     * @param member              this member's name, in the marker of a managed synchronous_standby_names
     * @param synchronousStandbyNames the agent's own synchronous_standby_names (synchronous mode), written over any
     *                            configured value and marked as the agent's ({@link #SYNC_MARKER}); null: not
     *                            managed, the configured value (or none) is written
     */
    record Conf(boolean asPrimary, Standby standby, String following, Map<String, String> configKeyParameters,
                Map<String, String> localParameters, boolean usePgRewind, String listenAddresses, int port,
                String clusterName, String socketDirectory, boolean includeBaseConf, int majorVersion, String member,
                String synchronousStandbyNames) {
        Conf {
            Objects.requireNonNull(standby, "standby");
            Objects.requireNonNull(configKeyParameters, "configKeyParameters");
            Objects.requireNonNull(localParameters, "localParameters");
        }
    }

    /**
     * The member a standby streams from and how it authenticates.
     *
     * @param host         the upstream's host, from its conn_url
     * @param port         the upstream's port
     * @param replication  the role that streams, with its connection options
     * @param passfile     the pgpass file, an absolute path (a relative one would be read from the data directory)
     * @param memberName   this member: its application_name and, with slots, its slot's name
     * @param useSlots     the config key's {@code use_slots}: stream through this member's physical slot
     * @param majorVersion this PostgreSQL's major version: its libpq reads primary_conninfo, and knows only the
     *                     options of its version ({@link #libpqOptions}); 0 when unknown
     */
    record Upstream(String host, int port, Credentials replication, Path passfile, String memberName,
                    boolean useSlots, int majorVersion) {}

    /** primary_conninfo and primary_slot_name as they stand in postgresql.conf, unquoted; "" when unset. */
    record Standby(String primaryConninfo, String primarySlotName) {
        /** A primary's, or a standby's that follows nobody. */
        static final Standby NONE = new Standby("", "");
    }

    /**
     * The standby settings for streaming from {@code u} (the slot name is Patroni's, {@link Member#slotName}):
     * the replication role's connection options in primary_conninfo, sslmode {@code prefer} unless given (Patroni's
     * {@code primary_conninfo_params}).
     */
    static Standby standby(Upstream u) {
        Map<String, String> kw = new LinkedHashMap<>();
        kw.put("host", u.host());
        kw.put("port", String.valueOf(u.port()));
        kw.put("user", u.replication().username());
        kw.put("passfile", u.passfile().toString());
        kw.put("application_name", u.memberName());
        kw.put("sslmode", "prefer");
        kw.putAll(libpqOptions(u.replication(), u.majorVersion()));
        kw.put("connect_timeout", "3");
        return new Standby(conninfo(kw), u.useSlots() ? Member.slotName(u.memberName()) : "");
    }

    /**
     * The libpq version that brought each connection option newer than PostgreSQL 12 (Patroni's
     * {@code AUTH_ALLOWED_PARAMETERS_VERSIONS}): an older libpq refuses a connection string that names it.
     */
    private static final Map<String, Integer> OPTION_SINCE = Map.of("sslpassword", 13, "channel_binding", 13,
            "sslcrldir", 14, "sslnegotiation", 17);

    /**
     * {@code who}'s connection options ({@link Credentials#OPTIONS}) that the libpq of major version {@code major}
     * knows, as libpq keywords; all of them when the version is unknown (0).
     */
    static Map<String, String> libpqOptions(Credentials who, int major) {
        Map<String, String> out = new LinkedHashMap<>();
        who.options().forEach((k, v) -> {
            if (major <= 0 || major >= OPTION_SINCE.getOrDefault(k, 0)) {
                out.put(k, v);
            }
        });
        return out;
    }

    /**
     * A libpq connection string, {@code keyword=value} separated by spaces, each value with {@code '}, {@code \}
     * and spaces escaped by a backslash (Patroni's {@code format_dsn}); null values are left out.
     */
    static String conninfo(Map<String, String> keywords) {
        StringBuilder sb = new StringBuilder();
        keywords.forEach((k, v) -> {
            if (v != null) {
                if (!sb.isEmpty()) {
                    sb.append(' ');
                }
                sb.append(k).append('=').append(v.replaceAll("(['\\\\ ])", "\\\\$1"));
            }
        });
        return sb.toString();
    }

    /** postgresql.conf: one {@code name = 'value'} line per setting, later sources overriding earlier ones in place. */
    static String postgresqlConf(Conf c) {
        // insertion order decides the line order: an overridden setting keeps its first place, with the last value
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("wal_level", "replica");
        settings.put("hot_standby", "on");
        settings.put("max_wal_senders", "10");
        settings.put("max_replication_slots", "10");
        // Patroni's default, 8 segments of 16MB, under the name this version knows
        if (c.majorVersion() > 0 && c.majorVersion() < 13) {
            settings.put("wal_keep_segments", "8");
        } else {
            settings.put("wal_keep_size", "128MB");
        }
        // a standby refused by a new primary (its slot is being created) retries after 1 s, not PostgreSQL's 5 s
        settings.put("wal_retrieve_retry_interval", "1s");
        settings.put("unix_socket_directories", c.socketDirectory());
        if (c.usePgRewind()) {
            settings.put("wal_log_hints", "on");
        }
        settings.putAll(configuredParameters(c).parameters());
        if (c.synchronousStandbyNames() != null) {
            // the agent's value replaces the configured one, whatever its spelling: one line, not two to order
            settings.keySet().removeIf(SYNCHRONOUS_STANDBY_NAMES::equalsIgnoreCase);
            settings.put(SYNCHRONOUS_STANDBY_NAMES, c.synchronousStandbyNames());
        }
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
        if (c.synchronousStandbyNames() != null) {
            conf.append(SYNC_MARKER).append(c.member()).append('\n');
        }
        if (!c.asPrimary() && c.following() != null) {
            conf.append(FOLLOW_MARKER).append(c.following()).append('\n');
        }
        return conf.toString();
    }

    /**
     * The configured parameters as they go into postgresql.conf: the config key's, overridden by the local ones,
     * then {@link #serverParameters} for the version. The notes say what was renamed or left out.
     */
    static ServerParameters configuredParameters(Conf c) {
        Map<String, String> merged = new LinkedHashMap<>(c.configKeyParameters());
        merged.putAll(c.localParameters());
        return serverParameters(c.majorVersion(), merged);
    }

    /**
     * Parameters after {@link #serverParameters}, and a sentence for each one renamed or left out.
     *
     * @param parameters in the order given, a renamed one in the place of its old name
     */
    record ServerParameters(Map<String, String> parameters, List<String> notes) {}

    /** A parameter PostgreSQL renamed: {@code oldName} up to major version {@code newSince} - 1. */
    private record Rename(String oldName, String newName, int newSince) {}

    private static final List<Rename> RENAMED = List.of(
            new Rename("wal_keep_segments", "wal_keep_size", 13),
            new Rename("force_parallel_mode", "debug_parallel_query", 16));

    /** trigger_file was recovery.conf's name of promote_trigger_file (a setting from 12), which 16 removed. */
    private static final String TRIGGER_FILE = "trigger_file";

    /** Parameters gone from PostgreSQL, by the first major version without them (release notes of each). */
    private static final Map<String, Integer> REMOVED = Map.ofEntries(
            Map.entry("checkpoint_segments", 10), // 9.5: max_wal_size
            Map.entry("standby_mode", 12), // standby.signal, which pgkeel writes
            Map.entry("operator_precedence_warning", 14),
            Map.entry("vacuum_cleanup_index_scale_factor", 14),
            Map.entry("stats_temp_directory", 15),
            Map.entry("promote_trigger_file", 16),
            Map.entry(TRIGGER_FILE, 16),
            Map.entry("vacuum_defer_cleanup_age", 16),
            Map.entry("db_user_namespace", 17),
            Map.entry("old_snapshot_threshold", 17),
            Map.entry("trace_recovery_messages", 17));

    /**
     * {@code parameters} as PostgreSQL {@code major} knows them, so that a configuration written for one version
     * starts every other (Patroni's {@code ConfigHandler.get_server_parameters} and the version ranges of its
     * parameter validator): wal_keep_segments and wal_keep_size converted into each other at 16MB a segment (the
     * usual segment size; the one given wins when both are), force_parallel_mode and debug_parallel_query renamed
     * either way, trigger_file named promote_trigger_file, wal_level hot_standby and archive written as replica, and
     * parameters that version no longer has left out (PostgreSQL refuses to start on an unknown one). Names are
     * matched case-insensitively, as PostgreSQL does; an extension's (with a dot) is never touched.
     *
     * @param major the major version (12, 13, ...); 0 when unknown: {@code parameters} unchanged
     */
    static ServerParameters serverParameters(int major, Map<String, String> parameters) {
        if (major <= 0) {
            return new ServerParameters(new LinkedHashMap<>(parameters), List.of());
        }
        Map<String, String> lower = new LinkedHashMap<>();
        parameters.forEach((k, v) -> lower.put(k.toLowerCase(Locale.ROOT), v));
        Map<String, String> out = new LinkedHashMap<>();
        List<String> notes = new ArrayList<>();
        parameters.forEach((name, value) -> {
            String key = name.toLowerCase(Locale.ROOT);
            for (Rename r : RENAMED) {
                boolean newHere = major >= r.newSince();
                String from = newHere ? r.oldName() : r.newName();
                String to = newHere ? r.newName() : r.oldName();
                if (key.equals(from)) {
                    if (lower.containsKey(to)) {
                        notes.add(name + " = '" + value + "' left out: PostgreSQL " + major + " has " + to
                                + ", which is set too");
                    } else {
                        String converted = convertRenamed(from, value);
                        notes.add(name + " = '" + value + "' written as " + to + " = '" + converted
                                + "', its name in PostgreSQL " + major);
                        out.put(to, converted);
                    }
                    return;
                }
            }
            if (key.equals(TRIGGER_FILE) && major < REMOVED.get(TRIGGER_FILE)) {
                if (!lower.containsKey("promote_trigger_file")) {
                    notes.add(name + " written as promote_trigger_file, its name in PostgreSQL " + major);
                    out.put("promote_trigger_file", value);
                } else {
                    notes.add(name + " left out: promote_trigger_file is set too");
                }
                return;
            }
            Integer removedIn = REMOVED.get(key);
            if (removedIn != null && major >= removedIn) {
                notes.add(name + " = '" + value + "' left out: PostgreSQL " + major + " has no such parameter");
                return;
            }
            if (key.equals("wal_level") && (value.equalsIgnoreCase("hot_standby") || value.equalsIgnoreCase("archive"))) {
                notes.add(name + " = '" + value + "' written as 'replica', its name since PostgreSQL 9.6");
                out.put(name, "replica");
                return;
            }
            out.put(name, value);
        });
        return new ServerParameters(out, List.copyOf(notes));
    }

    /** The value of renamed parameter {@code from} under its other name. */
    private static String convertRenamed(String from, String value) {
        return switch (from) {
            case "wal_keep_segments" -> {
                if (!value.trim().matches("\\d{1,12}")) {
                    throw new IllegalArgumentException("postgresql.parameters.wal_keep_segments: '" + value
                            + "' is not a whole number of segments");
                }
                yield Long.parseLong(value.trim()) * 16 + "MB";
            }
            case "wal_keep_size" -> {
                try {
                    yield String.valueOf((megabytes(value) + 8) / 16);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("postgresql.parameters.wal_keep_size: " + e.getMessage(), e);
                }
            }
            default -> value;
        };
    }

    /**
     * A size setting in MB, its unit when none is given (wal_keep_size's): {@code 1GB}, {@code 16384kB}, {@code 100}.
     *
     * @throws IllegalArgumentException when it is not a size PostgreSQL accepts
     */
    static long megabytes(String value) {
        Matcher m = SIZE.matcher(value.trim());
        if (!m.matches() || m.group(1).length() > 12) {
            throw new IllegalArgumentException("'" + value + "' is not a size (a number with kB, MB, GB or TB)");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "MB" : m.group(2);
        return switch (unit) {
            case "B" -> n / (1024 * 1024);
            case "kB" -> n / 1024;
            case "MB" -> n;
            case "GB" -> n * 1024;
            default -> n * 1024 * 1024;
        };
    }

    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(B|kB|MB|GB|TB)?");

    /**
     * The standby settings of a postgresql.conf written by {@link #postgresqlConf}, from its lines; "" for a setting
     * it does not hold.
     */
    static Standby standbyOf(List<String> confLines) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : confLines) {
            for (String key : List.of("primary_conninfo", "primary_slot_name")) {
                if (line.startsWith(key + " = '") && line.endsWith("'")) {
                    out.put(key, unliteral(line.substring(key.length() + 3)));
                }
            }
        }
        return new Standby(out.getOrDefault("primary_conninfo", ""), out.getOrDefault("primary_slot_name", ""));
    }

    /**
     * The synchronous_standby_names that {@code member} wrote as its own into a postgresql.conf written by
     * {@link #postgresqlConf} (its {@link #SYNC_MARKER} present), from its lines; null when the file holds no managed
     * value of this member's (none, or another member's: a copy from pg_basebackup or pg_rewind).
     */
    static String managedSynchronousStandbyNames(List<String> confLines, String member) {
        if (!confLines.contains(SYNC_MARKER + member)) {
            return null;
        }
        String start = SYNCHRONOUS_STANDBY_NAMES + " = '";
        return confLines.stream().filter(l -> l.startsWith(start) && l.endsWith("'") && l.length() > start.length())
                .map(l -> unliteral(l.substring(start.length() - 1))).findFirst().orElse(null);
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

    /** The value of a {@link #literal}, from its text with the quotes. */
    private static String unliteral(String quoted) {
        return quoted.substring(1, quoted.length() - 1).replace("''", "'").replace("\\\\", "\\");
    }
}
