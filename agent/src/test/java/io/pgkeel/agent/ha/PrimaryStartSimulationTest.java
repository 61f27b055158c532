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

    static Stream<Arguments> lateStarts() {
        // the postmaster writes postmaster.pid 100 ms after the start's wait (Actor.startWait) ran out
        return Stream.of(Arguments.of(5, 1, 2, 1600), Arguments.of(10, 1, 4, 3100), Arguments.of(30, 10, 10, 5100));
    }

    /**
     * review16: a start as primary returns when its wait is over, and the postmaster it launched comes up after: the
     * reprobe saw it stopped, so the cycle disarmed the fence (and the guard) and the loop sleeps a whole loop_wait,
     * not bounded by the lease. Meanwhile a writable primary runs with no fence. With the wait 0 (a start made late in
     * the lease: slow etcd calls before the act, or a restart whose fast stop ran long) the next cycle's fence can
     * come after the lease has expired in etcd: the sim runs a cycle in no time, so it shows the unfenced primary,
     * the state that breaks the fence guarantee (docs/decisions.md), rather than the second primary.
     */
    @ParameterizedTest(name = "ttl {0}, loop_wait {1}, retry_timeout {2}, postmaster up after {3} ms")
    @MethodSource("lateStarts")
    void aPrimaryWhosePostmasterComesUpAfterTheStartReturnedIsFenced(int ttl, int loopWait, int retryTimeout,
                                                                    long upAfterMillis) {
        SimCluster c = converged(ttl, loopWait, retryTimeout);
        SimCluster.Node n = c.node(c.leaderKey().orElseThrow());
        List<String> unfenced = unfencedWrites(c, n);
        n.pg.lateStarts(c.clock, Duration.ofMillis(upAfterMillis).toNanos());
        n.pg.crash();

        c.run(Duration.ofSeconds(3L * ttl));

        assertThat(n.pg.isWritablePrimary()).as(c.describe()).isTrue();
        assertThat(unfenced).as("%s\n%s", c.describe(), c.lastEvents(20)).isEmpty();
    }

    /**
     * review16: an operator's restart of the primary whose fast stop (its checkpoint) outlasts the lease: the fence
     * stops it meanwhile, the start as primary is still made with no time left to wait (startWait 0), and the
     * postmaster writes postmaster.pid 50 ms after the start returned (any real one takes that long). The reprobe sees
     * it stopped: the agent reports PRIMARY -> STOPPED after Restart, a change Role.TRANSITIONS does not list, and
     * the postmaster then takes writes with its lease expired and its fence disarmed until the next cycle.
     */
    @ParameterizedTest(name = "ttl {0}, loop_wait {1}, retry_timeout {2}")
    @MethodSource("timings")
    void aRestartedPrimaryWhoseStopOutlastedTheLeaseDoesNotRunUnfenced(int ttl, int loopWait, int retryTimeout) {
        SimCluster c = converged(ttl, loopWait, retryTimeout);
        SimCluster.Node n = c.node(c.leaderKey().orElseThrow());
        List<String> unfenced = unfencedWrites(c, n);
        n.pg.slowFastStops(c.clock, Duration.ofSeconds(ttl + 1L).toNanos(), () -> {
            c.dcs.tick();
            n.agent.checkFence();
        });
        n.pg.lateStarts(c.clock, Duration.ofMillis(50).toNanos());
        n.agent.requestRestart();

        c.run(Duration.ofSeconds(3L * ttl)); // also throws "split brain" should two primaries take writes

        assertThat(unfenced).as("%s\n%s", c.describe(), c.lastEvents(20)).isEmpty();
    }

    private static SimCluster converged(int ttl, int loopWait, int retryTimeout) {
        SimCluster c = HaSim.cluster(Map.of("ttl", ttl, "loop_wait", loopWait, "retry_timeout", retryTimeout), "a", "b");
        c.startAll();
        c.run(Duration.ofSeconds(3L * ttl));
        assertThat(c.isConverged()).as(c.describe()).isTrue();
        return c;
    }

    /** Filled whenever {@code n}'s PostgreSQL takes writes while its agent's fence is disarmed. */
    private static List<String> unfencedWrites(SimCluster c, SimCluster.Node n) {
        List<String> unfenced = new ArrayList<>();
        c.addInvariant(x -> {
            if (n.pg.isWritablePrimary() && n.agentAlive() && n.agent.fenceDeadline().isEmpty()) {
                unfenced.add(c.at() + " " + n.name + " takes writes with its fence disarmed");
            }
        });
        return unfenced;
    }
}
