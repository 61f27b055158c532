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
    private static final String CONNINFO = "host=10.0.0.2 port=5433 user=replicator passfile=/etc/pgkeel/pgpass"
            + " application_name=Node-1.a sslmode=prefer connect_timeout=3";
    private static final ConfigText.Upstream NODE2 = new ConfigText.Upstream("10.0.0.2", 5433, "replicator",
            Path.of("/etc/pgkeel/pgpass"), "Node-1.a", true);
    private static final ConfigText.Upstream NODE2_NO_SLOTS = new ConfigText.Upstream("10.0.0.2", 5433, "replicator",
            Path.of("/etc/pgkeel/pgpass"), "Node-1.a", false);

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
                in.usePgRewind, "10.0.0.1", 5432, "demo", in.socketDirectory, in.includeBaseConf), expected);
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
                row("' doubled and \\ escaped in values", in -> {
                    in.local = params("log_line_prefix", "it's %m \\ ");
                    in.socketDirectory = "/run/o'neil\\s";
                    in.replicaOf("node2", new ConfigText.Upstream("10.0.0.2", 5433, "re'pl",
                            Path.of("/home/o'neil/pg\\pass"), "node3", false));
                }, HEADER + DEFAULTS.replace("'/var/run/postgresql'", "'/run/o''neil\\\\s'")
                        + "log_line_prefix = 'it''s %m \\\\ '\n" + MANAGED
                        + "primary_conninfo = 'host=10.0.0.2 port=5433 user=re''pl passfile=/home/o''neil/pg\\\\pass"
                        + " application_name=node3 sslmode=prefer connect_timeout=3'\n"
                        + "primary_slot_name = ''\n# pgkeel: following node2\n"),
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
