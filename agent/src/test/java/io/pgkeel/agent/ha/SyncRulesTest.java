package io.pgkeel.agent.ha;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.common.pg.PgRunState;
import io.pgkeel.common.pg.PgStatus;
import io.pgkeel.common.pg.PgSync;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What a primary's acknowledged commits are known to be on, across changes of synchronous_standby_names. */
class SyncRulesTest {

    private static PgStatus primary(long flush, String ssn, PgSync.WalSender... senders) {
        return new PgStatus(true, "42", true, PgRunState.RUNNING, false, 1, flush, flush, flush, null, null, Set.of(),
                150000, null).withSync(new PgSync(ssn, true, List.of(senders)));
    }

    private static PgSync.WalSender streaming(String name, long flush) {
        return new PgSync.WalSender(name, "streaming", "sync", flush);
    }

    @Test
    void readingsOfSynchronousStandbyNames() {
        assertThat(SyncRules.Commit.of("")).isEqualTo(SyncRules.Commit.PRIMARY_ONLY);
        assertThat(SyncRules.Commit.of("b")).isEqualTo(new SyncRules.Commit(Set.of("b"), 1));
        assertThat(SyncRules.Commit.of("FIRST 2 (B, c, d)")).isEqualTo(new SyncRules.Commit(Set.of("b", "c", "d"), 2));
        assertThat(SyncRules.Commit.of("2 (b,c)")).isEqualTo(new SyncRules.Commit(Set.of("b", "c"), 2));
        assertThat(SyncRules.Commit.of("ANY 1 (b,\"C-1\")")).isEqualTo(new SyncRules.Commit(Set.of("b", "c-1"), 1));
        assertThat(SyncRules.Commit.of("*")).isEqualTo(new SyncRules.Commit(Set.of("*"), 1));
        assertThat(SyncRules.Commit.of("__patroni_strict_sync_replica_placeholder__").canAck()).isFalse();
        assertThat(SyncRules.Commit.of("FIRST 2 (b")).isEqualTo(SyncRules.Commit.UNKNOWN);
    }

    @Test
    void afterAStartNothingIsAssumedUntilTheListedStandbysCaughtUp() {
        SyncRules.Guarantee g = SyncRules.Guarantee.next(null, primary(1000, "b", streaming("b", 900)), 0);
        assertThat(g.effective()).isEqualTo(new SyncRules.Commit(Set.of("b"), 0));
        assertThat(g.pending()).containsExactly("b");
        assertThat(g.sinceLsn()).isEqualTo(1000);
        g = SyncRules.Guarantee.next(g, primary(1200, "b", streaming("b", 1000)), 1);
        assertThat(g.effective()).as("b reached the position of the first look").isEqualTo(SyncRules.Commit.of("b"));
        assertThat(g.pending()).isEmpty();
    }

    @Test
    void aChangeKeepsTheWeakerOfOldAndNewUntilTheNewlyListedCaughtUp() {
        SyncRules.Guarantee g = new SyncRules.Guarantee("b", 10, 0, SyncRules.Commit.of("b"), Set.of());
        g = SyncRules.Guarantee.next(g, primary(5000, "FIRST 2 (b,c)", streaming("b", 5000), streaming("c", 4000)), 1);
        assertThat(g.effective()).isEqualTo(new SyncRules.Commit(Set.of("b", "c"), 1));
        assertThat(g.pending()).containsExactly("c");
        g = SyncRules.Guarantee.next(g, primary(6000, "FIRST 2 (b,c)", streaming("b", 6000), streaming("c", 4999)), 2);
        assertThat(g.pending()).as("not past the position at the change yet").containsExactly("c");
        g = SyncRules.Guarantee.next(g, primary(6000, "FIRST 2 (b,c)", streaming("b", 6000),
                new PgSync.WalSender("c", "catchup", "potential", 6000)), 3);
        assertThat(g.pending()).as("a standby not streaming does not count").containsExactly("c");
        g = SyncRules.Guarantee.next(g, primary(7000, "FIRST 2 (b,c)", streaming("b", 7000), streaming("c", 5000)), 4);
        assertThat(g.effective()).isEqualTo(SyncRules.Commit.of("FIRST 2 (b,c)"));
    }

    @Test
    void aValueThatAcknowledgesNothingLeavesTheOlderGuaranteeInForce() {
        SyncRules.Guarantee g = new SyncRules.Guarantee("b", 10, 0, SyncRules.Commit.of("b"), Set.of());
        g = SyncRules.Guarantee.next(g, primary(100, "__patroni_strict_sync_replica_placeholder__"), 1);
        assertThat(g.effective()).isEqualTo(SyncRules.Commit.of("b"));
        g = SyncRules.Guarantee.next(g, primary(100, "__patroni_strict_sync_replica_placeholder__"), 2);
        assertThat(g.effective()).isEqualTo(SyncRules.Commit.of("b"));
    }

    @Test
    void aStarIsNeverConfirmed() {
        SyncRules.Guarantee g = new SyncRules.Guarantee("b", 10, 0, SyncRules.Commit.of("b"), Set.of());
        g = SyncRules.Guarantee.next(g, primary(100, "*", streaming("b", 100), streaming("c", 100)), 1);
        g = SyncRules.Guarantee.next(g, primary(200, "*", streaming("b", 200), streaming("c", 200)), 2);
        assertThat(g.effective()).isEqualTo(new SyncRules.Commit(Set.of("b", "*"), 1));
    }

    @Test
    void notARunningPrimaryForgetsEverything() {
        SyncRules.Guarantee g = new SyncRules.Guarantee("b", 10, 0, SyncRules.Commit.of("b"), Set.of());
        PgStatus stopped = new PgStatus(true, "42", true, PgRunState.STOPPED, false, 1, 0, 0, 0, null, null, Set.of(),
                0, null);
        assertThat(SyncRules.Guarantee.next(g, stopped, 1)).isNull();
        assertThat(SyncRules.Guarantee.next(g, primary(10, null), 1)).as("value not read").isNull();
    }

    @Test
    void weakerIsWeakerThanBoth() {
        SyncRules.Commit a = SyncRules.Commit.of("FIRST 2 (b,c)");
        SyncRules.Commit b = SyncRules.Commit.of("ANY 1 (c,d)");
        SyncRules.Commit w = SyncRules.weaker(a, b);
        assertThat(w).isEqualTo(new SyncRules.Commit(Set.of("b", "c", "d"), 1));
        for (Set<String> voters : List.of(Set.of("b"), Set.of("c"), Set.of("b", "c"), Set.of("b", "c", "d"))) {
            for (int q = 0; q < voters.size(); q++) {
                if (SyncRules.safe(voters, q, w)) {
                    assertThat(SyncRules.safe(voters, q, a) && SyncRules.safe(voters, q, b)).isTrue();
                }
            }
        }
    }
}
