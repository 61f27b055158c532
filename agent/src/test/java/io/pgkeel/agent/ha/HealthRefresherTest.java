package io.pgkeel.agent.ha;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.pg.PgRunState;
import io.pgkeel.common.pg.PgStatus;
import io.pgkeel.common.pg.PostmasterStatus;
import io.pgkeel.testing.FakeClock;
import io.pgkeel.testing.FakePostgres;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Between HA cycles, what the REST API answers from follows the postmaster's own word, and the loop is woken. */
class HealthRefresherTest {
    private static final PgStatus PRIMARY = pg(PgRunState.RUNNING, false);
    private static final PgStatus REPLICA = pg(PgRunState.RUNNING, true);
    private static final PgStatus STARTING_PRIMARY = pg(PgRunState.STARTING, false);
    private static final PgStatus STARTING_REPLICA = pg(PgRunState.STARTING, true);
    private static final PgStatus STOPPED = pg(PgRunState.STOPPED, true);

    private static PgStatus pg(PgRunState state, boolean inRecovery) {
        return new PgStatus(true, "42", !inRecovery, state, inRecovery, 2, 5000, 4000, 3000,
                inRecovery && state == PgRunState.RUNNING ? "streaming" : null, inRecovery ? "n2" : null, Set.of(),
                150000, null);
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                row("primary's postmaster killed -> stopped", PRIMARY, PostmasterStatus.ABSENT, PgRunState.STOPPED, false),
                row("replica's postmaster killed -> stopped", REPLICA, PostmasterStatus.ABSENT, PgRunState.STOPPED, true),
                row("starting, then gone -> stopped", STARTING_PRIMARY, PostmasterStatus.ABSENT, PgRunState.STOPPED,
                        false),
                row("primary shutting down -> stopped (refuses connections)", PRIMARY, PostmasterStatus.STOPPING,
                        PgRunState.STOPPED, false),
                row("replica restarting -> starting", REPLICA, PostmasterStatus.STARTING, PgRunState.STARTING, true),
                row("stopped, then a postmaster appears -> starting", STOPPED, PostmasterStatus.STARTING,
                        PgRunState.STARTING, true),
                row("crash recovery over, out of recovery -> running primary", STARTING_PRIMARY,
                        PostmasterStatus.READY, PgRunState.RUNNING, false),
                row("standby consistent, accepting -> running replica", STARTING_REPLICA, PostmasterStatus.STANDBY,
                        PgRunState.RUNNING, true),
                row("replica promoted behind the agent's back -> running, not in recovery", REPLICA,
                        PostmasterStatus.READY, PgRunState.RUNNING, false),
                row("stopped, then accepting as a standby -> running replica", STOPPED, PostmasterStatus.STANDBY,
                        PgRunState.RUNNING, true));
    }

    private static Arguments row(String name, PgStatus published, PostmasterStatus seen, PgRunState state,
                                 boolean inRecovery) {
        return Arguments.of(name, published, seen, state, inRecovery);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void theRunStateFollowsThePostmaster(String name, PgStatus published, PostmasterStatus seen, PgRunState state,
                                         boolean inRecovery) {
        PgStatus fresh = HealthRefresher.refreshed(published, seen);
        assertThat(fresh.runState()).isEqualTo(state);
        assertThat(fresh.inRecovery()).isEqualTo(inRecovery);
        // the rest is the cycle's word: positions, timeline, identity
        assertThat(fresh.walPosition()).isEqualTo(published.walPosition());
        assertThat(fresh.timeline()).isEqualTo(published.timeline());
        assertThat(fresh.systemIdentifier()).isEqualTo(published.systemIdentifier());
    }

    static Stream<Arguments> agreeing() {
        return Stream.of(
                Arguments.of("running primary, ready", PRIMARY, PostmasterStatus.READY),
                Arguments.of("running replica, standby", REPLICA, PostmasterStatus.STANDBY),
                Arguments.of("starting, starting", STARTING_PRIMARY, PostmasterStatus.STARTING),
                Arguments.of("stopped, absent", STOPPED, PostmasterStatus.ABSENT),
                Arguments.of("stopped, stopping", STOPPED, PostmasterStatus.STOPPING),
                Arguments.of("no data directory, absent", PgStatus.empty(), PostmasterStatus.ABSENT));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("agreeing")
    void whenBothAgreeTheCyclesStatusStandsAsItIs(String name, PgStatus published, PostmasterStatus seen) {
        assertThat(HealthRefresher.refreshed(published, seen)).isSameAs(published);
    }

    // --- on fakes: FakePostgres, a published snapshot, a counted wakeup -------------------------------------------

    private final FakeClock clock = new FakeClock();
    private final FakePostgres.Network network = new FakePostgres.Network();
    private final FakePostgres pg = network.node("n1");
    private final AtomicReference<NodeSnapshot> published = new AtomicReference<>();
    private final AtomicInteger wakeups = new AtomicInteger();
    private final HealthRefresher refresher = new HealthRefresher(pg::postmaster, published, wakeups::incrementAndGet,
            clock);

    private static NodeSnapshot snapshot(PgStatus pg, boolean holdsKey) {
        NodeIdentity id = new NodeIdentity("demo", "n1", Map.of(), Map.of(), DynamicConfig.defaults(),
                NodeIdentity.LocalOverrides.NONE, "postgres://n1:5432/postgres", "http://n1:8008/patroni", "0.1.0");
        return new NodeSnapshot(id, pg, null, true, holdsKey, "Wait", "ok", 0, 0, 30, 10);
    }

    @Test
    void aKilledReplicaIsPublishedStoppedAtTheNextLookAndTheLoopIsWoken() {
        pg.bootstrap();
        pg.stop(io.pgkeel.common.pg.LocalPostgres.StopMode.FAST);
        pg.start(false, null);
        published.set(snapshot(pg.probe(), false));
        refresher.refresh(); // the first look only learns
        NodeSnapshot before = published.get();
        assertThat(before.pg().isRunningReplica()).isTrue();
        assertThat(wakeups).hasValue(0);

        pg.crash();
        assertThat(refresher.refresh()).isTrue();

        assertThat(published.get().pg().runState()).isEqualTo(PgRunState.STOPPED);
        assertThat(published.get().lastCycleNanos()).as("the cycle's other facts stay").isEqualTo(before.lastCycleNanos());
        assertThat(wakeups).as("the HA loop observes the change at once").hasValue(1);
    }

    @Test
    void aCorrectedSnapshotKeepsEverythingElseItHad() {
        NodeSnapshot s = snapshot(STARTING_PRIMARY, true);
        ScheduledRestart planned = new ScheduledRestart(java.time.Instant.parse("2026-12-01T03:00:00Z"), "primary");
        NodeSnapshot withPlan = new NodeSnapshot(s.identity(), s.pg(), s.cluster(), s.dcsReachable(),
                s.holdsLeaderKey(), s.lastAction(), s.lastReason(), s.lastCycleNanos(), s.dcsLastSeenEpochSeconds(),
                s.ttl(), s.loopWait(), planned);
        NodeSnapshot corrected = withPlan.withPg(pg.probe());
        assertThat(corrected).isEqualTo(new NodeSnapshot(s.identity(), pg.probe(), s.cluster(), s.dcsReachable(),
                s.holdsLeaderKey(), s.lastAction(), s.lastReason(), s.lastCycleNanos(), s.dcsLastSeenEpochSeconds(),
                s.ttl(), s.loopWait(), planned));
    }

    @Test
    void nothingChangedNothingPublishedNobodyWoken() {
        pg.bootstrap();
        published.set(snapshot(pg.probe(), true));
        NodeSnapshot s = published.get();
        for (int i = 0; i < 5; i++) {
            assertThat(refresher.refresh()).isFalse();
            clock.advance(HealthRefresher.PERIOD);
        }
        assertThat(published.get()).isSameAs(s);
        assertThat(wakeups).hasValue(0);
    }

    @Test
    void aPrimaryBackAfterTheCycleThatStartedItIsPublishedRunningWithoutWaitingForTheNextCycle() {
        pg.bootstrap();
        // the cycle that started it published what its reprobe saw: a postmaster not accepting connections yet
        published.set(snapshot(STARTING_PRIMARY, true));
        refresher.refresh();
        assertThat(published.get().pg().isRunningPrimary()).isTrue();
        assertThat(published.get().holdsLeaderKey()).isTrue();
    }

    @Test
    void aCycleThatPublishesWhatItSawBeforeTheCrashIsCorrectedAtTheNextLookWithoutWakingTheLoopAgain() {
        pg.bootstrap();
        published.set(snapshot(pg.probe(), true));
        refresher.refresh();
        pg.crash();
        refresher.refresh();
        assertThat(wakeups).hasValue(1);
        published.set(snapshot(PRIMARY, true)); // a cycle that probed just before the crash ends now

        assertThat(refresher.refresh()).isTrue();

        assertThat(published.get().pg().runState()).isEqualTo(PgRunState.STOPPED);
        assertThat(wakeups).as("woken once, for the one change").hasValue(1);
    }

    @Test
    void beforeTheFirstCycleThereIsNothingToRefresh() {
        pg.bootstrap();
        assertThat(refresher.refresh()).isFalse();
        assertThat(published.get()).isNull();
    }

    @Test
    void looksMoreOftenThanTheBoundTheDocumentationStates() {
        assertThat(HealthRefresher.PERIOD).isLessThanOrEqualTo(HealthRefresher.BOUND.dividedBy(2));
        assertThat(HealthRefresher.BOUND).isLessThanOrEqualTo(Duration.ofMillis(250));
    }

    @Test
    void theLooksRunOnTheirOwnThreadAtThePeriodOfTheClock() throws Exception {
        pg.bootstrap();
        published.set(snapshot(pg.probe(), true));
        List<Long> looks = new java.util.concurrent.CopyOnWriteArrayList<>();
        HealthRefresher timed = new HealthRefresher(() -> {
            looks.add(clock.nanoTime());
            return pg.postmaster();
        }, published, wakeups::incrementAndGet, clock);
        timed.start();
        try {
            long deadline = System.currentTimeMillis() + 5000;
            while (looks.size() < 3 && System.currentTimeMillis() < deadline) {
                Thread.onSpinWait();
            }
        } finally {
            timed.close();
        }
        assertThat(looks.size()).isGreaterThanOrEqualTo(3);
        assertThat(looks.get(2) - looks.get(1)).isEqualTo(HealthRefresher.PERIOD.toNanos());
    }
}
