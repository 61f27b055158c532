package io.pgkeel.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.common.cluster.Member;
import io.pgkeel.testing.FakeClock;
import io.pgkeel.testing.FakeDcs;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Patroni 3.0.4+'s ensure_unique_name: no second agent under the name of a live member. */
class StartChecksTest {
    private final FakeClock clock = new FakeClock();
    private final FakeDcs dcs = new FakeDcs(clock);
    private final List<String> asked = new ArrayList<>();

    private void memberKeyOf(String name) {
        FakeDcs.Session other = dcs.session(name);
        other.keepAlive(30);
        other.publishMember(new Member(name, "postgres://h:5432/postgres", "http://h:8008/patroni",
                "running", "replica", 1, 0, "streaming", Map.of(), 0));
    }

    @Test
    void aLiveMemberOfTheSameNameStopsTheAgent() {
        memberKeyOf("node1");
        var refusal = StartChecks.check(dcs.session("node1"), "node1", m -> asked.add(m.apiUrl()), Duration.ofSeconds(1),
                clock);
        assertThat(asked).containsExactly("http://h:8008/patroni");
        assertThat(refusal).hasValueSatisfying(r -> assertThat(r)
                .startsWith("Can't start; there is already a node named 'node1' running"));
    }

    @Test
    void aMemberKeyNobodyAnswersForIsALeftoverOfThisNode() {
        memberKeyOf("node1");
        assertThat(StartChecks.check(dcs.session("node1"), "node1", m -> false, Duration.ofSeconds(1), clock)).isEmpty();
    }

    @Test
    void noMemberKeyOfThatNameAsksNobody() {
        memberKeyOf("node2");
        assertThat(StartChecks.check(dcs.session("node1"), "node1", m -> asked.add(m.apiUrl()), Duration.ofSeconds(1),
                clock)).isEmpty();
        assertThat(asked).isEmpty();
    }

    @Test
    void etcdDownForTheWholeWaitStartsWithoutTheCheck() {
        memberKeyOf("node1");
        dcs.setDown(true);
        long before = clock.nanoTime();
        assertThat(StartChecks.check(dcs.session("node1"), "node1", m -> true, Duration.ofSeconds(3), clock)).isEmpty();
        assertThat(clock.nanoTime() - before).as("it waited for etcd first").isGreaterThanOrEqualTo(
                Duration.ofSeconds(3).toNanos());
    }

    @Test
    void aSafetySettingInTheConfigKeyStopsTheAgentAtStart() {
        FakeDcs.Session s = dcs.session("node1");
        assertThat(StartChecks.configKeyRefusal(s, "/service/batman/config")).as("no config key yet").isEmpty();
        s.initializeConfig(Map.of("ttl", 30, "failsafe_mode", false));
        assertThat(StartChecks.configKeyRefusal(s, "/service/batman/config")).as("off").isEmpty();
        var cfg = s.read().config().orElseThrow();
        java.util.Map<String, Object> raw = new java.util.HashMap<>(cfg.raw());
        raw.put("failsafe_mode", true);
        assertThat(s.writeConfig(raw, cfg.modRevision())).isTrue();
        assertThat(StartChecks.configKeyRefusal(s, "/service/batman/config"))
                .as("issue 13: failsafe_mode is acted on, not refused").isEmpty();
        cfg = s.read().config().orElseThrow();
        raw = new java.util.HashMap<>(cfg.raw());
        raw.put("standby_cluster", Map.of("host", "10.0.0.9"));
        assertThat(s.writeConfig(raw, cfg.modRevision())).isTrue();
        assertThat(StartChecks.configKeyRefusal(s, "/service/batman/config")).hasValueSatisfying(r -> assertThat(r)
                .startsWith("the DCS config key /service/batman/config asks for what pgkeel cannot honour yet:"
                        + " config.standby_cluster = {host=10.0.0.9}"));
        cfg = s.read().config().orElseThrow();
        raw = new java.util.HashMap<>(cfg.raw());
        raw.remove("failsafe_mode");
        raw.remove("standby_cluster");
        raw.putAll(Map.of("synchronous_mode", "quorum", "synchronous_mode_strict", true, "synchronous_node_count", 2));
        assertThat(s.writeConfig(raw, cfg.modRevision())).isTrue();
        assertThat(StartChecks.configKeyRefusal(s, "/service/batman/config"))
                .as("issue 12: synchronous replication is acted on, not refused").isEmpty();
        dcs.setDown(true);
        assertThat(StartChecks.configKeyRefusal(s, "/service/batman/config")).as("etcd down: said by check").isEmpty();
    }
}
