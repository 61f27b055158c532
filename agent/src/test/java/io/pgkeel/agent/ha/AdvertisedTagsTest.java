package io.pgkeel.agent.ha;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.dcs.Dcs;
import io.pgkeel.common.pg.PgRunState;
import io.pgkeel.common.pg.PgStatus;
import io.pgkeel.testing.FakeClock;
import io.pgkeel.testing.FakeDcs;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Tags whose value is false are not advertised, as Patroni's {@code _filter_tags}: not in the member key either. */
class AdvertisedTagsTest {
    private static final Map<String, Object> CONFIGURED = Map.of("nofailover", false, "noloadbalance", false,
            "clonefrom", false, "nosync", false, "nostream", false, "datacenter", "east");

    @Test
    void theNodeAdvertisesOnlyTheTagsPatroniWould() {
        assertThat(identity(CONFIGURED).tags()).isEqualTo(Map.of("datacenter", "east"));
    }

    @Test
    void theMemberKeyLeavesFalseTagsOut() {
        FakeDcs dcs = new FakeDcs(new FakeClock());
        Dcs session = dcs.session("b");
        session.keepAlive(30);
        PgStatus pg = new PgStatus(true, "42", false, PgRunState.RUNNING, true, 2, 5000, 5000, 5000, "streaming", "a",
                Set.of(), 150018, "2026-11-28 00:00:00+00");
        new MemberKey(session).publish(identity(CONFIGURED), pg, NodeMemory.initial(DynamicConfig.defaults()),
                ClusterView.empty(), null);
        assertThat(session.read().member("b").orElseThrow().tags()).isEqualTo(Map.of("datacenter", "east"));
    }

    private static NodeIdentity identity(Map<String, Object> tags) {
        return new NodeIdentity("sim", "b", tags, Map.of(), DynamicConfig.defaults(), NodeIdentity.LocalOverrides.NONE,
                "postgres://b:5432/postgres", "http://b:8008/patroni", "test");
    }
}
