package io.pgkeel.agent.ha;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.testing.SimCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A crashed primary restarts while keeping its leader key, however long its postmaster takes: Patroni starts it off
 * its loop, which keeps renewing the key (ha.py, {@code recover}: "starting primary after failure"). Here every start
 * is bounded by the time left before the lease must be renewed (docs/chaos.md, the kill -9 of a primary's postmaster
 * at ttl 5).
 */
class PrimaryStartSimulationTest {

    static Stream<Arguments> timings() {
        return Stream.of(Arguments.of(5, 1, 2), Arguments.of(10, 1, 4), Arguments.of(30, 10, 10));
    }

    @ParameterizedTest(name = "ttl {0}, loop_wait {1}, retry_timeout {2}")
    @MethodSource("timings")
    void aPrimaryWhosePostmasterDoesNotComeUpForTwiceTheTtlKeepsItsLeaderKey(int ttl, int loopWait, int retryTimeout) {
        SimCluster c = HaSim.cluster(Map.of("ttl", ttl, "loop_wait", loopWait, "retry_timeout", retryTimeout), "a", "b");
        c.startAll();
        c.run(Duration.ofSeconds(3L * ttl));
        assertThat(c.isConverged()).as(c.describe()).isTrue();
        String leader = c.leaderKey().orElseThrow();
        SimCluster.Node n = c.node(leader);
        List<String> lost = new ArrayList<>();
        Runnable keyHeld = () -> {
            if (!c.leaderKey().equals(Optional.of(leader))) {
                lost.add(c.at() + " leader key: " + c.leaderKey().orElse("none"));
            }
        };
        // the old backends hold the shared memory for 2 x ttl: meanwhile every start hangs as long as it is let
        n.pg.hangStartsUntil(c.clock, c.clock.nanoTime() + Duration.ofSeconds(2L * ttl).toNanos(), () -> {
            // what runs beside the agent's blocked loop: etcd expires leases, the fence thread enforces its deadline
            c.dcs.tick();
            if (n.agent.checkFence()) {
                lost.add(c.at() + " fence fired");
            }
            keyHeld.run();
        });
        c.addInvariant(x -> keyHeld.run());
        n.pg.crash();

        c.run(Duration.ofSeconds(4L * ttl));

        assertThat(n.pg.startsHung()).as("starts hung: %s", c.describe()).isGreaterThan(1);
        assertThat(lost).as("%s\n%s", c.describe(), c.lastEvents(20)).isEmpty();
        assertThat(c.leaderKey()).contains(leader);
        assertThat(n.pg.isWritablePrimary()).as(c.describe()).isTrue();
    }
}
