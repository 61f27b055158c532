package io.pgkeel.agent.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.pgkeel.config.Credentials;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The configuration files as exact text, from explicit inputs. Parameter maps are LinkedHashMaps: the renderer keeps
 * their iteration order, so the expected line order is the one written here.
 */
class ConfigTextTest {
    private static final String HEADER = """
            # Written by pgkeel before every start: edit postgresql.parameters in the YAML file or the
            # config key in etcd instead (changes here are overwritten).
            include 'postgresql.base.conf'
            """;
    private static final String DEFAULTS = """
            wal_level = 'replica'
            hot_standby = 'on'
            max_wal_senders = '10'
            max_replication_slots = '10'
            wal_keep_size = '128MB'
            wal_retrieve_retry_interval = '1s'
            unix_socket_directories = '/var/run/postgresql'
            """;
    private static final String MANAGED = """
            listen_addresses = '10.0.0.1'
            port = '5432'
            cluster_name = 'demo'
            recovery_target_timeline = 'latest'
            """;
    private static final String NO_UPSTREAM = """
            primary_conninfo = ''
            primary_slot_name = ''
            """;
    private static final String SYNC_MARKER = "# pgkeel: synchronous_standby_names managed by member node1\n";
    private static final String CONNINFO = "host=10.0.0.2 port=5433 user=replicator passfile=/etc/pgkeel/pgpass"
            + " application_name=Node-1.a sslmode=prefer connect_timeout=3";
    private static final Credentials REPLICATOR = new Credentials("replicator", "r");
    private static final ConfigText.Upstream NODE2 = new ConfigText.Upstream("10.0.0.2", 5433, REPLICATOR,
            Path.of("/etc/pgkeel/pgpass"), "Node-1.a", true, 15);
    private static final ConfigText.Upstream NODE2_NO_SLOTS = new ConfigText.Upstream("10.0.0.2", 5433, REPLICATOR,
            Path.of("/etc/pgkeel/pgpass"), "Node-1.a", false, 15);

    /** The inputs of one row: a primary with defaults, changed by the row. */
    private static final class In {
        boolean asPrimary = true;
        ConfigText.Standby standby = ConfigText.Standby.NONE;
        String following;
        Map<String, String> configKey = new LinkedHashMap<>();
        Map<String, String> local = new LinkedHashMap<>();
        boolean usePgRewind;
        String socketDirectory = "/var/run/postgresql";
        boolean includeBaseConf = true;
        int majorVersion = 15;
        String synchronousStandbyNames;

        In replicaOf(String member, ConfigText.Upstream upstream) {
            asPrimary = false;
            following = member;
            standby = ConfigText.standby(upstream);
            return this;
        }
    }

    private static Arguments row(String name, Consumer<In> change, String expected) {
        In in = new In();
        change.accept(in);
        return arguments(name, new ConfigText.Conf(in.asPrimary, in.standby, in.following, in.configKey, in.local,
                in.usePgRewind, "10.0.0.1", 5432, "demo", in.socketDirectory, in.includeBaseConf, in.majorVersion,
                "node1", in.synchronousStandbyNames), expected);
    }

    private static Map<String, String> params(String... keysAndValues) {
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            out.put(keysAndValues[i], keysAndValues[i + 1]);
        }
        return out;
    }

    static Stream<Arguments> confRows() {
        return Stream.of(
                row("a primary", in -> {}, HEADER + DEFAULTS + MANAGED + NO_UPSTREAM),
                row("a replica streaming through its slot, with the follow marker",
                        in -> in.replicaOf("node2", NODE2),
                        HEADER + DEFAULTS + MANAGED + "primary_conninfo = '" + CONNINFO + "'\n"
                                + "primary_slot_name = 'node_1_a'\n"
                                + "# pgkeel: following node2\n"),
                row("a replica without slots", in -> in.replicaOf("node2", NODE2_NO_SLOTS),
                        HEADER + DEFAULTS + MANAGED + "primary_conninfo = '" + CONNINFO + "'\n"
                                + "primary_slot_name = ''\n"
                                + "# pgkeel: following node2\n"),
                row("a replica of nobody yet: no upstream, no marker",
                        in -> in.asPrimary = false, HEADER + DEFAULTS + MANAGED + NO_UPSTREAM),
                row("a primary keeps no standby settings and no marker, whatever it is given",
                        in -> in.replicaOf("node2", NODE2).asPrimary = true, HEADER + DEFAULTS + MANAGED + NO_UPSTREAM),
                row("use_pg_rewind on -> wal_log_hints after the defaults", in -> in.usePgRewind = true,
                        HEADER + DEFAULTS + "wal_log_hints = 'on'\n" + MANAGED + NO_UPSTREAM),
                row("use_pg_rewind on, a replica -> wal_log_hints too", in -> {
                    in.replicaOf("node2", NODE2);
                    in.usePgRewind = true;
                }, HEADER + DEFAULTS + "wal_log_hints = 'on'\n" + MANAGED + "primary_conninfo = '" + CONNINFO + "'\n"
                        + "primary_slot_name = 'node_1_a'\n" + "# pgkeel: following node2\n"),
                row("the config key's parameters, overridden by the local ones in place", in -> {
                    in.configKey = params("work_mem", "8MB", "max_connections", "200");
                    in.local = params("work_mem", "16MB", "shared_buffers", "1GB");
                }, HEADER + DEFAULTS + """
                        work_mem = '16MB'
                        max_connections = '200'
                        shared_buffers = '1GB'
                        """ + MANAGED + NO_UPSTREAM),
                row("a parameter overriding a default keeps the default's place", in -> {
                    in.configKey = params("wal_keep_size", "1GB", "hot_standby", "off");
                    in.usePgRewind = true;
                    in.local = params("wal_log_hints", "off");
                }, HEADER + """
                        wal_level = 'replica'
                        hot_standby = 'off'
                        max_wal_senders = '10'
                        max_replication_slots = '10'
                        wal_keep_size = '1GB'
                        wal_retrieve_retry_interval = '1s'
                        unix_socket_directories = '/var/run/postgresql'
                        wal_log_hints = 'off'
                        """ + MANAGED + NO_UPSTREAM),
                row("a managed setting given as a parameter: the parameter's place, pgkeel's value", in -> {
                    in.configKey = params("port", "6000", "work_mem", "8MB");
                    in.local = params("cluster_name", "other", "primary_conninfo", "host=elsewhere");
                }, HEADER + DEFAULTS + """
                        port = '5432'
                        work_mem = '8MB'
                        cluster_name = 'demo'
                        primary_conninfo = ''
                        listen_addresses = '10.0.0.1'
                        recovery_target_timeline = 'latest'
                        primary_slot_name = ''
                        """),
                row("' doubled and \\ escaped in values; ', \\ and space escaped in conninfo values first", in -> {
                    in.local = params("log_line_prefix", "it's %m \\ ");
                    in.socketDirectory = "/run/o'neil\\s";
                    in.replicaOf("node2", new ConfigText.Upstream("10.0.0.2", 5433, new Credentials("re'pl", null),
                            Path.of("/home/o'neil/pg\\pass"), "node3", false, 15));
                }, HEADER + DEFAULTS.replace("'/var/run/postgresql'", "'/run/o''neil\\\\s'")
                        + "log_line_prefix = 'it''s %m \\\\ '\n" + MANAGED
                        // conninfo user=re\'pl passfile=/home/o\'neil/pg\\pass, then quoted for postgresql.conf
                        + "primary_conninfo = 'host=10.0.0.2 port=5433 user=re\\\\''pl"
                        + " passfile=/home/o\\\\''neil/pg\\\\\\\\pass"
                        + " application_name=node3 sslmode=prefer connect_timeout=3'\n"
                        + "primary_slot_name = ''\n# pgkeel: following node2\n"),
                row("PostgreSQL 12: the default keeps WAL as wal_keep_segments (8 x 16MB), its name there", in -> {
                    in.majorVersion = 12;
                }, HEADER + DEFAULTS.replace("wal_keep_size = '128MB'", "wal_keep_segments = '8'") + MANAGED
                        + NO_UPSTREAM),
                row("wal_keep_segments from a Patroni config on PostgreSQL 15: wal_keep_size in the default's place",
                        in -> in.configKey = params("wal_keep_segments", "100", "work_mem", "8MB"),
                        HEADER + DEFAULTS.replace("'128MB'", "'1600MB'") + "work_mem = '8MB'\n" + MANAGED
                                + NO_UPSTREAM),
                row("wal_keep_size on PostgreSQL 12: wal_keep_segments in the default's place", in -> {
                    in.majorVersion = 12;
                    in.local = params("wal_keep_size", "1GB");
                }, HEADER + DEFAULTS.replace("wal_keep_size = '128MB'", "wal_keep_segments = '64'") + MANAGED
                        + NO_UPSTREAM),
                row("a parameter PostgreSQL 16 no longer has is left out", in -> {
                    in.majorVersion = 16;
                    in.configKey = params("promote_trigger_file", "/tmp/x", "work_mem", "8MB");
                }, HEADER + DEFAULTS + "work_mem = '8MB'\n" + MANAGED + NO_UPSTREAM),
                row("synchronous_standby_names configured, not managed: written as any parameter", in -> {
                    in.configKey = params("synchronous_standby_names", "ANY 1 (a,b)", "work_mem", "8MB");
                }, HEADER + DEFAULTS + "synchronous_standby_names = 'ANY 1 (a,b)'\nwork_mem = '8MB'\n" + MANAGED
                        + NO_UPSTREAM),
                row("a managed synchronous_standby_names after the configured parameters, marked as this member's",
                        in -> {
                            in.configKey = params("work_mem", "8MB");
                            in.synchronousStandbyNames = "FIRST 1 (node2)";
                        }, HEADER + DEFAULTS + "work_mem = '8MB'\nsynchronous_standby_names = 'FIRST 1 (node2)'\n"
                                + MANAGED + NO_UPSTREAM + SYNC_MARKER),
                row("the managed value wins over a configured one, in the config key or local, in any case", in -> {
                    in.configKey = params("synchronous_standby_names", "a", "work_mem", "8MB");
                    in.local = params("Synchronous_Standby_Names", "b");
                    in.synchronousStandbyNames = "ANY 1 (\"node-2\",node3)";
                }, HEADER + DEFAULTS + "work_mem = '8MB'\nsynchronous_standby_names = 'ANY 1 (\"node-2\",node3)'\n"
                        + MANAGED + NO_UPSTREAM + SYNC_MARKER),
                row("an empty managed value (wait for nobody) is written and marked: it is not 'not managed'", in -> {
                    in.configKey = params("synchronous_standby_names", "*");
                    in.synchronousStandbyNames = "";
                }, HEADER + DEFAULTS + "synchronous_standby_names = ''\n" + MANAGED + NO_UPSTREAM + SYNC_MARKER),
                row("a value with ' and \\ quoted as postgresql.conf reads it", in -> {
                    in.synchronousStandbyNames = "FIRST 1 (\"o'neil\\x\")";
                }, HEADER + DEFAULTS + "synchronous_standby_names = 'FIRST 1 (\"o''neil\\\\x\")'\n" + MANAGED
                        + NO_UPSTREAM + SYNC_MARKER),
                row("a replica keeps a managed value (set before a promotion, in force from it), both markers", in -> {
                    in.replicaOf("node2", NODE2_NO_SLOTS);
                    in.synchronousStandbyNames = "*";
                }, HEADER + DEFAULTS + "synchronous_standby_names = '*'\n" + MANAGED + "primary_conninfo = '"
                        + CONNINFO + "'\nprimary_slot_name = ''\n" + SYNC_MARKER + "# pgkeel: following node2\n"),
                row("without postgresql.base.conf: no include line", in -> {
                    in.includeBaseConf = false;
                    in.socketDirectory = "/var/lib/postgresql";
                }, HEADER.replace("include 'postgresql.base.conf'\n", "")
                        + DEFAULTS.replace("/var/run/postgresql", "/var/lib/postgresql") + MANAGED + NO_UPSTREAM));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("confRows")
    void postgresqlConf(String name, ConfigText.Conf in, String expected) {
        assertThat(ConfigText.postgresqlConf(in)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("confRows")
    void theStandbySettingsAndTheMarkerReadBackAsWritten(String name, ConfigText.Conf in, String expected) {
        List<String> lines = ConfigText.postgresqlConf(in).lines().toList();
        assertThat(ConfigText.standbyOf(lines)).isEqualTo(in.asPrimary() ? ConfigText.Standby.NONE : in.standby());
        assertThat(ConfigText.followedMember(lines.stream())).isEqualTo(in.asPrimary() ? null : in.following());
        assertThat(ConfigText.managedSynchronousStandbyNames(lines, "node1")).as("managed, read back by its writer")
                .isEqualTo(in.synchronousStandbyNames());
        assertThat(ConfigText.managedSynchronousStandbyNames(lines, "node2")).as("another member's copy").isNull();
    }

    /** Only the writer's marker counts, and only with the setting's line; the line alone is a configured value. */
    @Test
    void aManagedValueReadsBackOnlyWithThisMembersMarker() {
        String line = "synchronous_standby_names = 'FIRST 1 (\"o''neil\")'";
        assertThat(ConfigText.managedSynchronousStandbyNames(List.of(line, SYNC_MARKER.strip()), "node1"))
                .isEqualTo("FIRST 1 (\"o'neil\")");
        assertThat(ConfigText.managedSynchronousStandbyNames(List.of(line), "node1")).as("no marker").isNull();
        assertThat(ConfigText.managedSynchronousStandbyNames(List.of(line, SYNC_MARKER.strip() + "0"), "node1"))
                .as("node10's marker").isNull();
        assertThat(ConfigText.managedSynchronousStandbyNames(List.of(SYNC_MARKER.strip()), "node1"))
                .as("a marker without its line").isNull();
    }

    static Stream<Arguments> pgpassRows() {
        return Stream.of(
                arguments("replication first, then the superuser",
                        List.of(new Credentials("replicator", "r"), new Credentials("postgres", "s")),
                        "*:*:*:replicator:r\n*:*:*:postgres:s\n"),
                arguments("a password with : and \\ escaped",
                        List.of(new Credentials("replicator", "a:b\\c"), new Credentials("postgres", "s")),
                        "*:*:*:replicator:a\\:b\\\\c\n*:*:*:postgres:s\n"),
                arguments("a user name with : escaped too",
                        List.of(new Credentials("re:pl", "r"), new Credentials("postgres", "s")),
                        "*:*:*:re\\:pl:r\n*:*:*:postgres:s\n"),
                arguments("a role without a password has no line",
                        List.of(new Credentials("replicator", null), new Credentials("postgres", "s")),
                        "*:*:*:postgres:s\n"),
                arguments("no passwords: an empty file",
                        List.of(new Credentials("replicator", null), new Credentials("postgres", null)), ""));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pgpassRows")
    void pgpass(String name, List<Credentials> roles, String expected) {
        assertThat(ConfigText.pgpass(roles)).isEqualTo(expected);
    }

    static Stream<Arguments> pgHbaRows() {
        return Stream.of(
                arguments("no lines configured: not written (initdb's stays)", List.of(), Optional.empty()),
                arguments("the lines, each ended by a newline",
                        List.of("local all all trust", "host replication replicator 10.0.0.0/8 scram-sha-256"),
                        Optional.of("local all all trust\nhost replication replicator 10.0.0.0/8 scram-sha-256\n")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pgHbaRows")
    void pgHba(String name, List<String> lines, Optional<String> expected) {
        assertThat(ConfigText.pgHba(lines)).isEqualTo(expected);
    }

    static Stream<Arguments> standbyRows() {
        return Stream.of(
                arguments("with slots: the member's slot, named as Patroni names it", NODE2,
                        new ConfigText.Standby(CONNINFO, "node_1_a")),
                arguments("without slots: no slot", NODE2_NO_SLOTS, new ConfigText.Standby(CONNINFO, "")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("standbyRows")
    void standby(String name, ConfigText.Upstream upstream, ConfigText.Standby expected) {
        assertThat(ConfigText.standby(upstream)).isEqualTo(expected);
    }

    /** Every major version pgkeel supports; a row names the versions it holds for. */
    private static final int OLDEST = 12;
    private static final int NEWEST = 18;

    private static Stream<Arguments> versions(String name, int from, int to, Map<String, String> given,
                                              Map<String, String> expected) {
        return IntStream.rangeClosed(from, to).mapToObj(v -> arguments("PostgreSQL " + v + ": " + name, v, given,
                expected));
    }

    /**
     * Parameters renamed or removed between PostgreSQL versions, in every supported version: a Patroni config
     * written for one version runs on all of them (Patroni's {@code get_server_parameters} and its validator's
     * version ranges).
     */
    static Stream<Arguments> serverParameterRows() {
        return Stream.of(
                versions("wal_keep_segments becomes wal_keep_size at 16MB a segment", 13, NEWEST,
                        params("wal_keep_segments", "100", "work_mem", "8MB"),
                        params("wal_keep_size", "1600MB", "work_mem", "8MB")),
                versions("wal_keep_segments stays", OLDEST, 12, params("wal_keep_segments", "100"),
                        params("wal_keep_segments", "100")),
                versions("wal_keep_size becomes wal_keep_segments, rounded to the nearest segment", OLDEST, 12,
                        params("wal_keep_size", "1GB"), params("wal_keep_segments", "64")),
                versions("wal_keep_size without a unit is in MB", OLDEST, 12, params("wal_keep_size", "100"),
                        params("wal_keep_segments", "6")),
                versions("wal_keep_size in kB", OLDEST, 12, params("wal_keep_size", "16384kB"),
                        params("wal_keep_segments", "1")),
                versions("wal_keep_size in TB", OLDEST, 12, params("wal_keep_size", "1TB"),
                        params("wal_keep_segments", "65536")),
                versions("wal_keep_size stays", 13, NEWEST, params("wal_keep_size", "1GB"),
                        params("wal_keep_size", "1GB")),
                versions("both given: wal_keep_size wins, as in Patroni", 13, NEWEST,
                        params("wal_keep_segments", "100", "wal_keep_size", "2GB"), params("wal_keep_size", "2GB")),
                versions("both given: wal_keep_segments wins", OLDEST, 12,
                        params("wal_keep_segments", "100", "wal_keep_size", "2GB"), params("wal_keep_segments", "100")),
                versions("names are case-insensitive", 13, NEWEST, params("WAL_Keep_Segments", "10"),
                        params("wal_keep_size", "160MB")),
                versions("force_parallel_mode became debug_parallel_query", 16, NEWEST,
                        params("force_parallel_mode", "regress"), params("debug_parallel_query", "regress")),
                versions("debug_parallel_query is force_parallel_mode before 16", OLDEST, 15,
                        params("debug_parallel_query", "on"), params("force_parallel_mode", "on")),
                versions("trigger_file became promote_trigger_file", OLDEST, 15, params("trigger_file", "/tmp/t"),
                        params("promote_trigger_file", "/tmp/t")),
                versions("wal_level hot_standby is replica", OLDEST, NEWEST, params("wal_level", "hot_standby"),
                        params("wal_level", "replica")),
                versions("wal_level archive is replica", OLDEST, NEWEST, params("wal_level", "archive"),
                        params("wal_level", "replica")),
                versions("checkpoint_segments (gone in 9.5) is left out", OLDEST, NEWEST,
                        params("checkpoint_segments", "32", "max_wal_size", "1GB"), params("max_wal_size", "1GB")),
                versions("standby_mode (standby.signal since 12) is left out", OLDEST, NEWEST,
                        params("standby_mode", "on"), params()),
                versions("operator_precedence_warning is left out", 14, NEWEST,
                        params("operator_precedence_warning", "on"), params()),
                versions("operator_precedence_warning stays", OLDEST, 13,
                        params("operator_precedence_warning", "on"), params("operator_precedence_warning", "on")),
                versions("vacuum_cleanup_index_scale_factor is left out", 14, NEWEST,
                        params("vacuum_cleanup_index_scale_factor", "0.1"), params()),
                versions("stats_temp_directory is left out", 15, NEWEST,
                        params("stats_temp_directory", "/run/pg"), params()),
                versions("stats_temp_directory stays", OLDEST, 14, params("stats_temp_directory", "/run/pg"),
                        params("stats_temp_directory", "/run/pg")),
                versions("promote_trigger_file and trigger_file are left out", 16, NEWEST,
                        params("promote_trigger_file", "/tmp/p", "trigger_file", "/tmp/t"), params()),
                versions("vacuum_defer_cleanup_age is left out", 16, NEWEST,
                        params("vacuum_defer_cleanup_age", "100"), params()),
                versions("db_user_namespace, old_snapshot_threshold, trace_recovery_messages are left out", 17,
                        NEWEST, params("db_user_namespace", "on", "old_snapshot_threshold", "1h",
                                "trace_recovery_messages", "log"), params()),
                versions("they stay", OLDEST, 16, params("db_user_namespace", "on", "old_snapshot_threshold", "1h",
                                "trace_recovery_messages", "log"), params("db_user_namespace", "on",
                                "old_snapshot_threshold", "1h", "trace_recovery_messages", "log")),
                versions("an extension's parameter is never touched", OLDEST, NEWEST,
                        params("pg_stat_statements.max", "10000"), params("pg_stat_statements.max", "10000")),
                versions("a renamed parameter keeps its place", 13, NEWEST,
                        params("a", "1", "wal_keep_segments", "4", "b", "2"),
                        params("a", "1", "wal_keep_size", "64MB", "b", "2")),
                Stream.of(arguments("version unknown (0): nothing is changed", 0,
                        params("wal_keep_segments", "100", "checkpoint_segments", "3"),
                        params("wal_keep_segments", "100", "checkpoint_segments", "3"))))
                .flatMap(s -> s);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("serverParameterRows")
    void parametersRenamedOrRemovedBetweenVersions(String name, int major, Map<String, String> given,
                                                   Map<String, String> expected) {
        ConfigText.ServerParameters out = ConfigText.serverParameters(major, given);
        assertThat(out.parameters()).containsExactlyEntriesOf(expected);
        // every change is named in a note for the log
        long changed = given.keySet().stream().filter(k -> !expected.containsKey(k)).count();
        assertThat(out.notes()).hasSizeGreaterThanOrEqualTo((int) Math.min(changed, 1));
        if (given.equals(expected)) {
            assertThat(out.notes()).isEmpty();
        }
    }

    private static ConfigText.Upstream upstreamWith(int major, String... options) {
        return new ConfigText.Upstream("10.0.0.2", 5433, new Credentials("replicator", "r", params(options)),
                Path.of("/etc/pgkeel/pgpass"), "Node-1.a", false, major);
    }

    private static final String CONNINFO_HEAD = "host=10.0.0.2 port=5433 user=replicator passfile=/etc/pgkeel/pgpass"
            + " application_name=Node-1.a";

    /**
     * The replication role's connection options in primary_conninfo, each one, in the versions whose libpq knows
     * it (Patroni's {@code primary_conninfo_params} and {@code format_dsn}).
     */
    /** A row: the options given, for PostgreSQL {@code major}, and the part of primary_conninfo they make. */
    private static Arguments optionRow(String name, int major, String expectedOptions, String... options) {
        return arguments(name, upstreamWith(major, options),
                CONNINFO_HEAD + " " + expectedOptions + " connect_timeout=3");
    }

    static Stream<Arguments> replicationOptionRows() {
        return Stream.of(
                optionRow("sslmode replaces the default prefer", 15, "sslmode=verify-full", "sslmode", "verify-full"),
                optionRow("client certificate, key and root", 15, "sslmode=verify-ca sslcert=/etc/pg/c.crt"
                                + " sslkey=/etc/pg/c.key sslrootcert=/etc/pg/root.crt", "sslcert", "/etc/pg/c.crt",
                        "sslkey", "/etc/pg/c.key", "sslrootcert", "/etc/pg/root.crt", "sslmode", "verify-ca"),
                optionRow("sslpassword, escaped", 15, "sslmode=prefer sslpassword=it\\'s\\ a\\ \\\\\\ pass",
                        "sslpassword", "it's a \\ pass"),
                optionRow("sslcrl", 15, "sslmode=prefer sslcrl=/etc/pg/root.crl", "sslcrl", "/etc/pg/root.crl"),
                optionRow("sslcrldir on 14+", 14, "sslmode=prefer sslcrldir=/etc/pg/crl", "sslcrldir", "/etc/pg/crl"),
                optionRow("sslcrldir left out on 13 (its libpq refuses it)", 13, "sslmode=prefer", "sslcrldir", "/x"),
                optionRow("sslnegotiation on 17", 17, "sslmode=require sslnegotiation=direct", "sslnegotiation",
                        "direct", "sslmode", "require"),
                optionRow("sslnegotiation left out on 16", 16, "sslmode=prefer", "sslnegotiation", "direct"),
                optionRow("gssencmode", 12, "sslmode=prefer gssencmode=disable", "gssencmode", "disable"),
                optionRow("channel_binding on 13+", 13, "sslmode=prefer channel_binding=require", "channel_binding",
                        "require"),
                optionRow("channel_binding and sslpassword left out on 12", 12, "sslmode=prefer", "channel_binding",
                        "require", "sslpassword", "p"),
                optionRow("version unknown: every option", 0, "sslmode=prefer sslnegotiation=direct", "sslnegotiation",
                        "direct"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("replicationOptionRows")
    void theReplicationRolesOptionsGoIntoPrimaryConninfo(String name, ConfigText.Upstream upstream, String expected) {
        assertThat(ConfigText.standby(upstream).primaryConninfo()).isEqualTo(expected);
    }

    /**
     * A standby's application_name is its member name, as libpq reads primary_conninfo back: PostgreSQL matches
     * synchronous_standby_names against it (Patroni sets it the same way).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("memberNames")
    void primaryConninfoCarriesTheMemberNameAsApplicationName(String name) {
        ConfigText.Upstream u = new ConfigText.Upstream("10.0.0.2", 5433, REPLICATOR, Path.of("/etc/pgkeel/pgpass"),
                name, false, 15);
        assertThat(libpqValue(ConfigText.standby(u).primaryConninfo(), "application_name")).isEqualTo(name);
    }

    static Stream<String> memberNames() {
        return Stream.of("node1", "Node-1.a", "o'neil b", "back\\slash", "two  spaces", "\"quoted\"", "a=b");
    }

    /** What libpq's conninfo parser makes of {@code keyword}'s unquoted value: backslash escapes, up to a space. */
    private static String libpqValue(String conninfo, String keyword) {
        int i = conninfo.indexOf(keyword + "=") + keyword.length() + 1;
        StringBuilder sb = new StringBuilder();
        for (; i < conninfo.length() && conninfo.charAt(i) != ' '; i++) {
            if (conninfo.charAt(i) == '\\') {
                i++;
            }
            sb.append(conninfo.charAt(i));
        }
        return sb.toString();
    }

    @Test
    void theFirstNonEmptyMarkerNamesTheUpstream() {
        assertThat(ConfigText.followedMember(Stream.of("port = '5432'", "# pgkeel: following  ",
                "# pgkeel: following node2 ", "# pgkeel: following node3"))).isEqualTo("node2");
        assertThat(ConfigText.followedMember(Stream.of("port = '5432'"))).isNull();
    }

    @Test
    void postgresqlConfQuotesValuesItsOwnWay() {
        assertThat(ConfigText.literal("it's a \\ path")).isEqualTo("'it''s a \\\\ path'");
    }

    /** The renderer reads no file, clock or environment: what depends on the machine is an input. */
    @Test
    void theRendererStaysPure() throws IOException {
        Pattern forbidden = Pattern.compile("\\bFiles\\b|\\bPaths\\b|Path\\.of|toAbsolutePath|toRealPath|java\\.io"
                + "|\\bSystem\\.|\\bClock\\b|\\bInstant\\b|\\bLogger\\b|java\\.sql|\\bProcessHandle\\b|\\bThread\\b"
                + "|\\bProcessRunner\\b|\\bDataDirectory\\b");
        Path file = Path.of("src", "main", "java", "io", "pgkeel", "agent", "pg", "ConfigText.java");
        List<String> offenders = new ArrayList<>();
        List<String> lines = Files.readAllLines(file);
        for (int i = 0; i < lines.size(); i++) {
            String code = lines.get(i).replaceAll("^\\s*(\\*|/\\*\\*|//).*", "");
            if (forbidden.matcher(code).find()) {
                offenders.add(file + ":" + (i + 1) + ": " + lines.get(i).trim());
            }
        }
        assertThat(offenders).as("ConfigText must stay pure").isEmpty();
        assertThat(forbidden.matcher("        Files.exists(dir.resolve(\"postgresql.base.conf\"))").find()).isTrue();
    }
}
