package io.pgkeel.agent.ha;

import static io.pgkeel.agent.ha.Scenario.MY_LEASE;
import static io.pgkeel.agent.ha.Scenario.me;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The leader keeps the failsafe key as an extra of its routine cycle (Patroni's {@code _failsafe_config} written by
 * {@code update_leader}): every member's api_url and mine, written only when it differs; deleted with failsafe_mode
 * off (pgkeel only).
 */
class FailsafeKeyTest {
    private static final String A = "http://a:8008/patroni";
    private static final String B = "http://b:8008/patroni";
    private static final String C = "http://c:8008/patroni";

    static Arguments row(String name, Scenario s, Optional<Map<String, String>> write, boolean delete) {
        return Arguments.of(Named.of(name, s), write, delete);
    }

    static Stream<Arguments> rows() {
        return Stream.of(
                row("failsafe on, no key yet -> write every member's api_url",
                        me("a").primary(1000).failsafeMode().cluster(c -> c.leader("a", MY_LEASE).members("a", "b", "c")),
                        Optional.of(Map.of("a", A, "b", B, "c", C)), false),
                row("failsafe on, the key as it should be -> no write",
                        me("a").primary(1000).failsafeMode()
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b").failsafeKey("a", "b")),
                        Optional.empty(), false),
                row("failsafe on, a member joined -> write",
                        me("a").primary(1000).failsafeMode()
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b", "c").failsafeKey("a", "b")),
                        Optional.of(Map.of("a", A, "b", B, "c", C)), false),
                row("failsafe on, a member left -> write",
                        me("a").primary(1000).failsafeMode()
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b").failsafeKey("a", "b", "c")),
                        Optional.of(Map.of("a", A, "b", B)), false),
                row("failsafe on, my member key missing -> I am named all the same",
                        me("a").primary(1000).failsafeMode().cluster(c -> c.leader("a", MY_LEASE).members("b")),
                        Optional.of(Map.of("a", A, "b", B)), false),
                row("failsafe off, a key left -> delete it",
                        me("a").primary(1000).cluster(c -> c.leader("a", MY_LEASE).members("a", "b").failsafeKey("a", "b")),
                        Optional.empty(), true),
                row("failsafe off, no key -> nothing",
                        me("a").primary(1000).cluster(c -> c.leader("a", MY_LEASE).members("a", "b")),
                        Optional.empty(), false),
                row("pause, failsafe on, no key -> written in pause too (Patroni's update_lock)",
                        me("a").primary(1000).paused().failsafeMode()
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b")),
                        Optional.of(Map.of("a", A, "b", B)), false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void theLeaderKeepsTheFailsafeKey(Scenario s, Optional<Map<String, String>> write, boolean delete) {
        Action a = HaPolicy.decide(s.observation());
        assertThat(a).isInstanceOfSatisfying(Action.LeadAsPrimary.class, lead -> {
            assertThat(lead.failsafeToWrite()).isEqualTo(write);
            assertThat(lead.deleteFailsafe()).isEqualTo(delete);
        });
    }
}
