package io.pgkeel.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** (f) The agent, run as its users would run it, refuses a bad configuration file and names the key and line. */
class BadConfigIT {
    private final Path dir = Host.tempDir("pgkeel-it-config-");

    @AfterEach
    void cleanUp() {
        Host.deleteTree(dir);
    }

    private record Run(int exit, String output) {}

    private Run runAgent(String yaml) throws IOException, InterruptedException {
        return run("agent", yaml);
    }

    /** {@code pgkeel <command> bad.yml} ({@code agent} or {@code validate}) as the agent user. */
    private Run run(String command, String yaml) throws IOException, InterruptedException {
        Path config = dir.resolve("bad.yml");
        Files.writeString(config, yaml);
        Host.giveToAgentUser(config);
        List<String> cmd = new ArrayList<>(Host.asAgentUser());
        cmd.addAll(List.of(Dist.launcher().toString(), command, config.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("PGKEEL_DIST", Dist.home().toString());
        pb.environment().put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
        Process p = pb.start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("the agent exits by itself").isTrue();
        return new Run(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    private static final String GOOD = """
            scope: it
            name: n1
            restapi:
              listen: 127.0.0.1:18999
            etcd3:
              hosts: 127.0.0.1:1
            bootstrap:
              dcs:
                ttl: 30
                loop_wait: 10
                retry_timeout: 10
            postgresql:
              listen: 127.0.0.1:15999
              data_dir: /tmp/never-used
              authentication:
                superuser: {username: postgres, password: x}
                replication: {username: replicator, password: y}
            """;

    @Test
    void wrongTypeExitsNonZeroNamingThePathAndLine() throws Exception {
        Run run = runAgent(GOOD.replace("ttl: 30", "ttl: thirty"));
        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.output()).contains("bad.yml line 9").contains("bootstrap.dcs.ttl").contains("thirty");
    }

    @Test
    void portOutOfRangeExitsNonZeroNamingThePathAndLine() throws Exception {
        Run run = runAgent(GOOD.replace("listen: 127.0.0.1:15999", "listen: 127.0.0.1:99999"));
        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.output()).contains("bad.yml line 13").contains("postgresql.listen").contains("99999");
    }

    /**
     * Issue 11: a timing Patroni accepts is no longer refused (it is adjusted, unit-tested in TimingTest); what stops
     * the agent now is a safety setting it cannot honour, named with its line.
     */
    @Test
    void aRefusedSafetySettingExitsNonZeroNamingTheKeyAndLine() throws Exception {
        // (failsafe_mode was the example until issue 13 implemented it)
        Run run = runAgent(GOOD.replace("retry_timeout: 10", "retry_timeout: 10\n    standby_cluster:\n"
                + "      host: 10.0.0.9"));
        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.output()).contains("bad.yml line 13: bootstrap.dcs.standby_cluster = {host=10.0.0.9}")
                .contains("standby clusters are not implemented yet");
    }

    /**
     * Issue 12: synchronous replication is configured as in Patroni; a value Patroni's validator refuses is named
     * with its path and its own line, by the agent at start and by {@code pgkeel validate}.
     */
    @Test
    void aBadSynchronousModeIsNamedWithItsPathAndLine_atStartAndByValidate() throws Exception {
        String bad = GOOD.replace("retry_timeout: 10", "retry_timeout: 10\n    synchronous_mode: sometimes");
        for (String command : List.of("agent", "validate")) {
            Run run = run(command, bad);
            assertThat(run.exit()).as(command).isEqualTo(2);
            assertThat(run.output()).as(command).contains("bad.yml line 12: bootstrap.dcs.synchronous_mode: expected"
                    + " on, off or quorum (or true/false, yes/no, 1/0), got 'sometimes'");
        }
        Run good = run("validate", GOOD.replace("retry_timeout: 10", "retry_timeout: 10\n    synchronous_mode: quorum"
                + "\n    synchronous_mode_strict: true\n    synchronous_node_count: 2\n    maximum_lag_on_syncnode: -1"));
        assertThat(good.exit()).isZero();
        assertThat(good.output()).contains("bad.yml: valid").doesNotContain("synchronous");
    }

    /**
     * review13: values that passed validate or killed it with a stack trace, and killed the agent's start with one
     * (exit 1): an IPv6 address the etcd client cannot take, a NUL in a path. Both are refused by the agent and by
     * {@code pgkeel validate} alike, exit 2, naming the line, the key and the value, with no stack trace. A '%' in the
     * url's password is the password, as written (Patroni's urlparse), and valid.
     */
    @Test
    void anIpv6HostTheClientCannotTakeAndANulInAPathAreNamed_atStartAndByValidate() throws Exception {
        List<List<String>> cases = List.of(
                List.of(GOOD.replace("hosts: 127.0.0.1:1", "hosts: '[fe80::zz]:2379'"),
                        "bad.yml line 6: etcd3.hosts: '[fe80::zz]:2379': 'fe80::zz' is not an IPv6 address"),
                List.of(GOOD.replace("data_dir: /tmp/never-used", "data_dir: \"/tmp/never\\0used\""),
                        "bad.yml line 14: postgresql.data_dir: '/tmp/never\\0used' is not a path: Nul character not"
                                + " allowed"));
        for (List<String> c : cases) {
            for (String command : List.of("agent", "validate")) {
                Run run = run(command, c.get(0));
                assertThat(run.exit()).as(command + ": " + run.output()).isEqualTo(2);
                assertThat(run.output()).as(command).contains(c.get(1)).doesNotContain("Exception")
                        .doesNotContain("\tat ");
            }
        }
        Run percent = run("validate", GOOD.replace("hosts: 127.0.0.1:1", "url: 'http://u:50%off@127.0.0.1:1'"));
        assertThat(percent.exit()).as(percent.output()).isZero();
        assertThat(percent.output()).contains("bad.yml: valid").doesNotContain("Exception");
    }
}
