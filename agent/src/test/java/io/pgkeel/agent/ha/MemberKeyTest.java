package io.pgkeel.agent.ha;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.cluster.Member;
import io.pgkeel.common.dcs.Dcs;
import io.pgkeel.common.pg.PgDetail;
import io.pgkeel.common.pg.PgRunState;
import io.pgkeel.common.pg.PgStatus;
import io.pgkeel.testing.FakeClock;
import io.pgkeel.testing.FakeDcs;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The member key carries what GET /cluster shows of each member, as Patroni's touch_member writes it. */
class MemberKeyTest {
    private static final Map<String, Map<String, String>> REASON =
            Map.of("max_connections", Map.of("old_value", "40", "new_value", "50"));

    private static Member publish(PgStatus pg, ScheduledRestart scheduled) {
        Dcs session = new FakeDcs(new FakeClock()).session("b");
        session.keepAlive(30);
        NodeIdentity id = new NodeIdentity("sim", "b", Map.of(), Map.of(), DynamicConfig.defaults(),
                NodeIdentity.LocalOverrides.NONE, "postgres://b:5432/postgres", "http://b:8008/patroni", "test");
        new MemberKey(session).publish(id, pg, NodeMemory.initial(DynamicConfig.defaults()), ClusterView.empty(),
                scheduled);
        return session.read().member("b").orElseThrow();
    }

    private static PgStatus pg(boolean inRecovery, boolean pendingRestart) {
        return new PgStatus(true, "42", false, PgRunState.RUNNING, inRecovery, 2, 5200, 5200, 5100,
                inRecovery ? "streaming" : null, inRecovery ? "a" : null, Set.of(), 150018, "2026-11-28 00:00:00+00",
                pendingRestart).withDetail(new PgDetail(false, null, 0, List.of(), pendingRestart ? REASON : Map.of()));
    }

    @Test
    void aReplicaWritesItsReceivedAndReplayedPositions() {
        Member m = publish(pg(true, false), null);
        assertThat(m.receiveLsn()).isEqualTo(5200);
        assertThat(m.replayLsn()).isEqualTo(5100);
        Member primary = publish(pg(false, false), null);
        assertThat(primary.receiveLsn()).isZero();
        assertThat(primary.replayLsn()).isZero();
    }

    @Test
    void aPendingRestartIsWrittenWithItsReason() {
        Member m = publish(pg(true, true), null);
        assertThat(m.pendingRestart()).isTrue();
        assertThat(m.pendingRestartReason()).isEqualTo(REASON);
        assertThat(publish(pg(true, false), null).pendingRestartReason()).isEmpty();
    }

    @Test
    void aPlannedRestartIsWritten() {
        Member m = publish(pg(false, false), new ScheduledRestart(Instant.parse("2026-12-01T01:00:00Z"), "primary"));
        assertThat(m.scheduledRestart()).isEqualTo(Map.of("schedule", "2026-12-01T01:00:00+00:00", "role", "primary"));
        assertThat(publish(pg(false, false), null).scheduledRestart()).isEmpty();
    }
}
