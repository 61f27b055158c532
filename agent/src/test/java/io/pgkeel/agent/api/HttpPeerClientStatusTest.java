package io.pgkeel.agent.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.common.peer.PeerStatus;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A peer's {@code GET /patroni} answer read as Patroni's _MemberStatus.from_api_response, and whether it counts as a
 * running replica: what lets a member the failsafe key does not name race (docs/decisions.md, "failsafe_mode").
 */
class HttpPeerClientStatusTest {
    private static final String REPLICA = "{\"state\":\"running\",\"role\":\"replica\",\"timeline\":2,"
            + "\"xlog\":{\"received_location\":5000,\"replayed_location\":4000},\"replication_state\":\"streaming\"}";
    private static final String PRIMARY = "{\"state\":\"running\",\"role\":\"primary\",\"timeline\":2,"
            + "\"xlog\":{\"location\":6000}}";
    private static final String PLACEHOLDER = "{\"state\":\"starting\",\"role\":\"uninitialized\"}";
    private static final String STOPPED = "{\"state\":\"stopped\",\"role\":\"replica\",\"timeline\":2,"
            + "\"xlog\":{\"received_location\":5000,\"replayed_location\":4000}}";

    private static Arguments row(String name, int status, String body, boolean reachable, boolean runningReplica) {
        return Arguments.of(Named.of(name, status), body, reachable, runningReplica);
    }

    static Stream<Arguments> answers() {
        return Stream.of(
                row("200, a running replica -> a running replica", 200, REPLICA, true, true),
                row("200, a running primary -> no replica", 200, PRIMARY, true, false),
                row("200, an agent still starting (pgkeel's placeholder) -> no replica", 200, PLACEHOLDER, true, false),
                row("200, PostgreSQL stopped -> no replica", 200, STOPPED, true, false),
                row("200, state starting with a replica's WAL -> no replica", 200,
                        REPLICA.replace("\"running\"", "\"starting\""), true, false),
                row("200, no state -> no replica", 200, REPLICA.replace("\"state\":\"running\",", ""), true, false),
                row("200, not JSON -> no answer", 200, "<html>bad gateway</html>", false, false),
                row("200, a JSON array -> no answer", 200, "[]", false, false),
                row("503 with a running replica's body -> no answer", 503, REPLICA, false, false),
                row("502 from a proxy with the placeholder -> no answer", 502, PLACEHOLDER, false, false),
                row("401 -> no answer", 401, "{\"error\":\"no auth\"}", false, false),
                row("301 -> no answer", 301, REPLICA, false, false));
    }

    static Stream<Arguments> promises() {
        return Stream.of(
                Arguments.of(Named.of("a replica whose promise runs", REPLICA.replace("{", "{\"failsafe_mode_is_active\":true,")),
                        true),
                Arguments.of(Named.of("a replica without one", REPLICA), false),
                Arguments.of(Named.of("a replica saying false", REPLICA.replace("{", "{\"failsafe_mode_is_active\":false,")),
                        false),
                Arguments.of(Named.of("a primary on failsafe (its rounds confirmed): no promise of its own",
                        PRIMARY.replace("{", "{\"failsafe_mode_is_active\":true,")), false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("promises")
    void aReplicasRunningPromiseIsReadFromFailsafeModeIsActive(String body, boolean promised) {
        assertThat(HttpPeerClient.parse("b", 200, body).promisedFailsafe()).isEqualTo(promised);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("answers")
    void onlyA200RunningReplicaCountsAsOne(int status, String body, boolean reachable, boolean runningReplica) {
        PeerStatus p = HttpPeerClient.parse("b", status, body);
        assertThat(p.name()).isEqualTo("b");
        assertThat(p.reachable()).isEqualTo(reachable);
        assertThat(p.answeredAsRunningReplica()).isEqualTo(runningReplica);
    }
}
