package io.pgkeel.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The decision core stays pure: the policy files name no logging, no clock, no etcd, no PostgreSQL control, no JDBC,
 * no files, processes, network or console, whether imported or written out in full. What they need to know arrives
 * in the Observation; what they want done leaves as an Action.
 */
class PolicyPurityTest {
    private static final Path HA = Path.of("src", "main", "java", "io", "pgkeel", "agent", "ha");
    /** The files of the decision core: decide, its sub-decisions, and the values they read and return. */
    static final List<String> POLICY_FILES = List.of("HaPolicy.java", "PausedPolicy.java", "Switchovers.java",
            "OperatorRequests.java", "ObservationPlan.java", "NodeMemory.java", "Role.java", "Action.java",
            "Observation.java", "Outcome.java", "NodeSettings.java", "LeaseStatus.java", "OperatorRequest.java",
            "SyncPolicy.java", "SyncRules.java", "FailsafeRules.java");
    private static final Pattern FORBIDDEN = Pattern.compile("org\\.slf4j|ch\\.qos\\.logback|java\\.util\\.logging"
            + "|System\\.Logger|\\bLogger\\b|io\\.pgkeel\\.common\\.Clock|\\bClock\\b|io\\.pgkeel\\.common\\.dcs\\.Dcs\\b"
            + "|\\bDcs\\b|\\bLocalPostgres\\b|java\\.sql|javax\\.sql|\\bConnection\\b|\\bDriverManager\\b"
            + "|\\bPeerClient\\b|\\bThread\\b|java\\.nio\\.file|java\\.io\\.File\\b|\\bFiles\\b|\\bPaths?\\b"
            + "|ProcessBuilder|\\bProcess\\b|Runtime\\.getRuntime|java\\.net|HttpClient|System\\.(out|err|getenv)");

    @Test
    void policyFilesUseNoLoggingClockDcsPostgresOrJdbc() throws IOException {
        List<String> offenders = new ArrayList<>();
        for (String name : POLICY_FILES) {
            Path f = HA.resolve(name);
            assertThat(f).as("policy file " + name).isRegularFile();
            List<String> lines = Files.readAllLines(f);
            for (int i = 0; i < lines.size(); i++) {
                String code = lines.get(i).replaceAll("^\\s*(\\*|/\\*\\*|//).*", "");
                if (FORBIDDEN.matcher(code).find()) {
                    offenders.add(f + ":" + (i + 1) + ": " + lines.get(i).trim());
                }
            }
        }
        assertThat(offenders).as("the decision core must stay pure").isEmpty();
    }

    @Test
    void theCheckCatchesAnImpurity() {
        for (String line : List.of("import org.slf4j.Logger;", "    private final io.pgkeel.common.Clock clock;",
                "        try (java.sql.Statement st = c.createStatement()) {", "        LocalPostgres pg,",
                "        dcs.read(); Dcs d;", "import java.nio.file.Files;", "        Files.exists(p)",
                "        new ProcessBuilder(cmd)", "        System.out.println(x);", "import java.net.URI;")) {
            assertThat(FORBIDDEN.matcher(line).find()).as(line).isTrue();
        }
        assertThat(FORBIDDEN.matcher("    static Action decide(Observation o) {").find()).isFalse();
    }
}
