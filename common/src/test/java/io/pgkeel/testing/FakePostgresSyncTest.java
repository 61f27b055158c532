package io.pgkeel.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.common.cluster.Member;
import io.pgkeel.common.pg.LocalPostgres.StopMode;
import io.pgkeel.common.pg.PgSync;
import io.pgkeel.common.pg.SyncStandbyNames;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The fake's commit acknowledgement under synchronous_standby_names, and its WAL shipping delays. */
class FakePostgresSyncTest {

    private final FakePostgres.Network network = new FakePostgres.Network();

    private static Member member(String name) {
        return new Member(name, "postgres://" + name + ":5432/postgres", "http://" + name + ":8008/patroni", "running",
                "replica", 1, 0, "streaming", Map.of(), 1);
    }

    /** Primary a, standbys b, c, d streaming from it and caught up. */
    private FakePostgres primaryWithStandbys() {
        FakePostgres a = network.node("a");
        a.bootstrap();
        for (String s : List.of("b", "c", "d")) {
            FakePostgres p = network.node(s);
            p.cloneFrom(member("a"));
            p.start(false, member("a"));
        }
        network.replicate();
        return a;
    }

    static Stream<Arguments> rules() {
        String strict = SyncStandbyNames.STRICT_PLACEHOLDER;
        return Stream.of(
                Arguments.of("empty: at once", "", Set.of(), Set.of(), true),
                Arguments.of("one name, it flushed", "b", Set.of("c", "d"), Set.of(), true),
                Arguments.of("one name, it lags", "b", Set.of("b"), Set.of(), false),
                Arguments.of("names compare case-insensitively", "B", Set.of("c", "d"), Set.of(), true),
                Arguments.of("FIRST 1: the first listed waits even if the second has it", "FIRST 1 (b,c)",
                        Set.of("b"), Set.of(), false),
                Arguments.of("FIRST 1: the first listed is down, the next one counts", "FIRST 1 (b,c)", Set.of("b"),
                        Set.of("b"), true),
                Arguments.of("FIRST 2: fewer than 2 stream, nothing returns", "FIRST 2 (b,c)", Set.of(), Set.of("c"),
                        false),
                Arguments.of("FIRST 2: both flushed", "FIRST 2 (b,c)", Set.of("d"), Set.of(), true),
                Arguments.of("bare number form is FIRST", "2 (b,c)", Set.of("c"), Set.of(), false),
                Arguments.of("ANY 1: any one of them", "ANY 1 (b,c)", Set.of("b"), Set.of(), true),
                Arguments.of("ANY 2 of 2, one lags", "ANY 2 (b,c)", Set.of("b"), Set.of(), false),
                Arguments.of("ANY 2 of 3, one lags", "ANY 2 (b,c,d)", Set.of("b"), Set.of(), true),
                Arguments.of("ANY 2 of 3, one lags and one is down", "ANY 2 (b,c,d)", Set.of("b"), Set.of("c"), false),
                Arguments.of("unlisted standbys do not count", "ANY 1 (b,c)", Set.of("b", "c"), Set.of(), false),
                Arguments.of("*: any standby", "*", Set.of(), Set.of(), true),
                Arguments.of("*: every standby lags", "*", Set.of("b", "c", "d"), Set.of(), false),
                Arguments.of("*: no standby at all", "*", Set.of(), Set.of("b", "c", "d"), false),
                Arguments.of("the strict placeholder: never", strict, Set.of(), Set.of(), false),
                Arguments.of("the strict placeholder beside a name: that name", "ANY 1 (" + strict + ",c)", Set.of(),
                        Set.of(), true));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rules")
    void aCommitReturnsWhenTheRuleInForceIsMet(String form, String ssn, Set<String> lagging, Set<String> down,
                                               boolean acknowledged) {
        FakePostgres a = primaryWithStandbys();
        down.forEach(n -> network.node(n).crash());
        lagging.forEach(network::freezeShipping);
        a.setSynchronousStandbyNames(ssn);
        FakePostgres.Commit c = a.commit(16);
        network.replicate();
        network.replicate();
        assertThat(c.state()).as(form).isEqualTo(acknowledged ? FakePostgres.Commit.State.ACKNOWLEDGED
                : FakePostgres.Commit.State.WAITING);
        // and the walsenders report what the commit waited for
        if (!ssn.isEmpty() && !ssn.equals(SyncStandbyNames.STRICT_PLACEHOLDER) && down.size() < 3) {
            assertThat(a.probe().sync().walSenders()).as(form).anyMatch(w -> !w.syncState().equals("async"));
        }
    }

    @Test
    void waitingCommitsReturnOnceTheLaggingStandbyCatchesUpOrTheValueIsEmptied() {
        FakePostgres a = primaryWithStandbys();
        a.setSynchronousStandbyNames("b");
        network.freezeShipping("b");
        FakePostgres.Commit first = a.commit(16);
        FakePostgres.Commit second = a.commit(16);
        network.replicate();
        assertThat(a.waitingCommits()).isEqualTo(2);
        network.thawShipping("b");
        network.replicate();
        assertThat(List.of(first.state(), second.state())).containsOnly(FakePostgres.Commit.State.ACKNOWLEDGED);

        network.freezeShipping("b");
        FakePostgres.Commit third = a.commit(16);
        a.setSynchronousStandbyNames("");
        assertThat(third.state()).as("an empty value releases the waiters at reload")
                .isEqualTo(FakePostgres.Commit.State.ACKNOWLEDGED);
    }

    @Test
    void aPrimaryThatStopsOrDiesFailsItsWaitingCommits() {
        for (StopMode mode : new StopMode[] {null, StopMode.FAST}) {
            FakePostgres.Network net = new FakePostgres.Network();
            FakePostgres a = net.node("a");
            a.bootstrap();
            a.setSynchronousStandbyNames("b");
            FakePostgres.Commit c = a.commit(16);
            if (mode == null) {
                a.crash();
            } else {
                a.stop(mode);
            }
            assertThat(c.state()).as("stop " + mode).isEqualTo(FakePostgres.Commit.State.FAILED);
            assertThat(a.commit(16)).as("a stopped postgres takes no commit").isNull();
        }
    }

    @Test
    void aStandbyCountsOnlyOnceItHasCaughtUpOnItsConnection() {
        FakePostgres a = primaryWithStandbys();
        a.setSynchronousStandbyNames("ANY 1 (d)");
        network.node("d").crash();
        for (int i = 0; i < 10; i++) {
            a.commit(16);
        }
        network.node("d").start(false, member("a"));
        network.limitShipping(new Random(1), 0);
        network.replicate();
        PgSync.WalSender d = a.probe().sync().walSenders().stream().filter(w -> w.applicationName().equals("d"))
                .findFirst().orElseThrow();
        assertThat(d.state()).isEqualTo("catchup");
        assertThat(d.syncState()).isEqualTo("async");
        network.limitShipping(null, Long.MAX_VALUE);
        network.replicate();
        assertThat(a.probe().sync().walSenders()).filteredOn(w -> w.applicationName().equals("d"))
                .singleElement().satisfies(w -> {
                    assertThat(w.state()).isEqualTo("streaming");
                    assertThat(w.syncState()).isEqualTo("quorum");
                });
        assertThat(a.waitingCommits()).isZero();
    }

    @Test
    void limitedShippingLeavesStandbysBehindAtDifferentPositionsNeverAhead() {
        FakePostgres a = primaryWithStandbys();
        network.limitShipping(new Random(42), 24);
        boolean differed = false;
        for (int i = 0; i < 200; i++) {
            a.commit(16);
            network.replicate();
            long b = network.node("b").wal();
            long c = network.node("c").wal();
            assertThat(Math.max(b, c)).isLessThanOrEqualTo(a.wal());
            differed |= b != c;
        }
        assertThat(differed).isTrue();
        assertThat(network.node("b").wal()).isLessThan(a.wal());
    }

    @Test
    void aCommitIsInANodeThatReachedItOnItsTimelineAndNotInOneThatLeftEarlierOrOnAnotherBranch() {
        FakePostgres a = primaryWithStandbys();
        FakePostgres.Commit early = a.commit(16);
        network.replicate();
        network.freezeShipping("b");
        network.freezeShipping("c");
        FakePostgres.Commit late = a.commit(16);
        network.replicate();
        a.crash();
        FakePostgres b = network.node("b");
        FakePostgres d = network.node("d");
        b.promote();
        b.commit(16);
        assertThat(early.isIn(b)).isTrue();
        assertThat(late.isIn(b)).as("b left timeline 1 before the commit's LSN").isFalse();
        assertThat(late.isIn(d)).isTrue();
        assertThat(late.isIn(a)).isTrue();
        // c, promoted at the same LSN as b: its timeline 2 is another branch
        FakePostgres c = network.node("c");
        FakePostgres.Commit onB = b.commit(16);
        c.promote();
        c.commit(64);
        assertThat(c.timeline()).isEqualTo(b.timeline());
        assertThat(c.wal()).isGreaterThan(onB.lsn());
        assertThat(onB.isIn(c)).as("same timeline number and switch LSN, another branch").isFalse();
        assertThat(early.isImpliedBy(onB)).isTrue();
        assertThat(late.isImpliedBy(onB)).isFalse();
    }
}
