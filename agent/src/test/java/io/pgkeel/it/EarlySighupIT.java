package io.pgkeel.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A SIGHUP sent while an agent is still starting (a supervisor's reload right after a start, a config management run
 * that restarts and then reloads) neither kills it, as the JVM's default action did (exit 129), nor is lost: the
 * configuration is re-read once the agent has started.
 */
class EarlySighupIT extends ClusterTestBase {
    @Override
    protected String scope() {
        return "it-early-sighup";
    }

    @Override
    protected TestCluster newCluster() {
        return TestCluster.start(scope(), 2);
    }

    @Test
    void aSighupWhileTheAgentStartsIsDeferredNotFatal() {
        AgentProcess late = cluster.extraNode("late", "node3");
        late.start();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        // poll tightly: the signal must land between the agent's first line and the end of its start
        while (!late.logText().contains("starting: reading " + late.config) && late.isAlive()) {
            assertThat(System.nanoTime()).as("the agent's first line within 60 s:\n" + late.logText())
                    .isLessThan(deadline);
            Await.pause(5);
        }
        Host.signal(late.pid(), "HUP");
        assertThat(late.logText()).as("the signal came before the agent had started (else this shows nothing)")
                .doesNotContain(" started: member node3");
        Await.until(Duration.ofSeconds(60), "the agent has started and re-read its configuration",
                () -> !late.isAlive() || late.logText().contains("configuration re-read from"), late::logText);
        assertThat(late.isAlive()).as("alive after an early SIGHUP; exit " + late.awaitExit(Duration.ZERO) + "\n"
                + late.logText()).isTrue();
        String log = late.logText();
        assertThat(log).contains("SIGHUP while pgkeel is starting: the configuration is re-read once it has started")
                .contains("SIGHUP came while pgkeel was starting: re-reading the configuration now");
        assertThat(log.indexOf("SIGHUP while pgkeel is starting")).as("deferred, then the start, then the reload")
                .isLessThan(log.indexOf(" started: member node3"));
        Await.pause(2_000);
        assertThat(late.isAlive()).as(late.logText()).isTrue();
    }
}
