package io.pgkeel.agent.pg;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.cluster.DynamicConfigParser;
import io.pgkeel.common.cluster.Member;
import io.pgkeel.config.PgkeelConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The agent's own synchronous_standby_names (synchronous mode) in postgresql.conf: written over the configured
 * value, kept by every later rewrite, read back by the next agent from the file this member wrote, and dropped
 * again (the configured value back) when no longer managed.
 */
class ConfigFilesSyncTest {
    private static final String MARKER = ConfigText.SYNC_MARKER + "node1";
    private static final Member LEADER = new Member("node2", "postgres://127.0.0.1:5433/postgres",
            "http://127.0.0.1:8009/patroni", "running", "primary", 1, 0, null, Map.of(), 0);

    @TempDir
    Path tmp;
    private final AtomicReference<DynamicConfig> dynamic = new AtomicReference<>(
            dynamic(Map.of("synchronous_standby_names", "ANY 1 (a,b)", "work_mem", "8MB")));

    private static DynamicConfig dynamic(Map<String, String> parameters) {
        return DynamicConfigParser.parse(Map.of("postgresql", Map.of("parameters", parameters)), "config",
                new ArrayList<>());
    }

    /** An agent start of member {@code name} on the data directory as it is. */
    private ConfigFiles agent(String name) throws Exception {
        Path data = tmp.resolve("data");
        if (!Files.exists(data)) {
            Files.createDirectories(data);
            Files.writeString(data.resolve("PG_VERSION"), "15\n");
        }
        PgkeelConfig cfg = TestConfigs.member(tmp, name, "");
        return new ConfigFiles(new DataDirectory(data, tmp.resolve("pg.log"), () -> tmp), () -> cfg, dynamic::get);
    }

    private List<String> conf() throws Exception {
        return Files.readAllLines(tmp.resolve("data/postgresql.conf"));
    }

    private List<String> syncLines() throws Exception {
        return conf().stream().filter(l -> l.toLowerCase().startsWith("synchronous_standby_names")
                || l.startsWith(ConfigText.SYNC_MARKER)).toList();
    }

    private static List<String> managed(String literal) {
        return List.of("synchronous_standby_names = " + literal, MARKER);
    }

    private static final List<String> CONFIGURED = List.of("synchronous_standby_names = 'ANY 1 (a,b)'");

    private static Arguments row(String name, Consumer<ConfigFiles> rewrite) {
        return Arguments.of(name, rewrite);
    }

    /** Every way postgresql.conf is written after the value was set. */
    static Stream<Arguments> rewrites() {
        return Stream.of(
                row("a start as primary", f -> f.write(true, null)),
                row("a start as a replica (or a re-point)", f -> f.write(false, LEADER)),
                row("a replica of nobody", f -> f.write(false, null)),
                row("ApplyParameters with new parameters", f -> f.rewriteForCurrentRole(Map.of("work_mem", "9MB"))),
                row("ApplyParameters with parameters that set it too",
                        f -> f.rewriteForCurrentRole(Map.of("synchronous_standby_names", "*"))),
                row("a rewrite keeping the parameters", ConfigFiles::rewriteForCurrentRole));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rewrites")
    void theManagedValueWinsOverTheConfiguredOneAndSurvivesEveryRewrite(String name, Consumer<ConfigFiles> rewrite)
            throws Exception {
        ConfigFiles files = agent("node1");
        files.write(false, LEADER);
        assertThat(syncLines()).as("not managed: the configured value").isEqualTo(CONFIGURED);
        files.manageSynchronousStandbyNames("FIRST 1 (\"node-2\")");
        files.write(true, null); // the promotion's write
        assertThat(syncLines()).isEqualTo(managed("'FIRST 1 (\"node-2\")'"));
        rewrite.accept(files);
        assertThat(syncLines()).isEqualTo(managed("'FIRST 1 (\"node-2\")'"));
        assertThat(files.synchronousStandbyNames()).isEqualTo("FIRST 1 (\"node-2\")");
    }

    /** Agent restarts: the next agent reads back what this member's last one managed, and nothing else. */
    static Stream<Arguments> restarts() {
        return Stream.of(
                Arguments.of("sync mode on: the value is kept", "FIRST 1 (node2)", "node1", "FIRST 1 (node2)"),
                Arguments.of("sync mode on, waiting for nobody (''): kept, still managed", "", "node1", ""),
                Arguments.of("strict with no standby ('*'): kept", "*", "node1", "*"),
                Arguments.of("sync mode off (not managed): the configured value applies", null, "node1", null),
                Arguments.of("a copy of another member's file (pg_basebackup, pg_rewind): not this member's",
                        "FIRST 1 (node2)", "node3", null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("restarts")
    void theNextAgentReadsBackTheValueItsMemberManaged(String name, String managed, String nextAgent,
                                                       String readBack) throws Exception {
        ConfigFiles before = agent("node1");
        before.manageSynchronousStandbyNames(managed);
        before.write(true, null);
        ConfigFiles after = agent(nextAgent);
        assertThat(after.synchronousStandbyNames()).isEqualTo(readBack);
        after.write(true, null);
        assertThat(syncLines().get(0)).isEqualTo(readBack == null ? CONFIGURED.get(0)
                : "synchronous_standby_names = " + ConfigText.literal(readBack));
    }

    @Test
    void nullHandsItBackToTheConfiguredValueOrNone() throws Exception {
        ConfigFiles files = agent("node1");
        files.manageSynchronousStandbyNames("node2");
        files.write(true, null);
        files.manageSynchronousStandbyNames(null);
        files.rewriteForCurrentRole();
        assertThat(syncLines()).isEqualTo(CONFIGURED);
        assertThat(agent("node1").synchronousStandbyNames()).as("after an agent restart").isNull();

        dynamic.set(dynamic(Map.of("work_mem", "8MB")));
        files.manageSynchronousStandbyNames("node2");
        files.write(true, null);
        files.manageSynchronousStandbyNames(null);
        files.write(true, null);
        assertThat(syncLines()).as("none configured: PostgreSQL's default").isEmpty();
    }

    @Test
    void aReplacedDataDirectoryForgetsTheValue() throws Exception {
        ConfigFiles files = agent("node1");
        files.manageSynchronousStandbyNames("node2");
        files.write(true, null);
        files.dataDirectoryReplaced();
        assertThat(files.synchronousStandbyNames()).isNull();
        files.write(false, LEADER);
        assertThat(syncLines()).isEqualTo(CONFIGURED);
    }

    @Test
    void noPostgresqlConfYetNothingToReadBack() throws Exception {
        assertThat(agent("node1").synchronousStandbyNames()).isNull();
    }
}
