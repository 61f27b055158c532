package io.pgkeel.agent.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.agent.ha.FailsafePromise;
import io.pgkeel.agent.ha.NodeSnapshot;
import io.pgkeel.testing.FakeClock;
import io.pgkeel.testing.FakeDcs;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * POST /failsafe promises at least the ttl the asking primary counts its deadline with (the body's {@code ttl},
 * pgkeel's; Patroni sends none): a primary cut off from etcd cannot read a shorter ttl written meanwhile, and a
 * promise shorter than its deadline would let this member race while it still takes writes (FailsafeSimulationTest
 * shows the split brain).
 */
class FailsafeTtlTest {
    @ParameterizedTest(name = "body ttl {0} -> promise for {1} s")
    @CsvSource(delimiter = '|', textBlock = """
            absent  | 30
            60      | 60
            10      | 30
            30      | 30
            -5      | 30
            0       | 30
            '"60"'  | 30
            null    | 30
            """)
    void thePromiseRunsForTheLongerOfMyTtlAndThePrimarys(String ttl, long seconds) {
        FakeClock clock = new FakeClock();
        FailsafePromise promise = new FailsafePromise(clock);
        NodeSnapshot s = Snapshots.withFailsafe(Snapshots.replica(6000, 5000, Map.of()),
                new NodeSnapshot.FailsafeState(true, Map.of("n2", "http://127.0.0.1:8009/patroni"), false));
        assertThat(s.ttl()).isEqualTo(30);
        AdminActions admin = new AdminActions(new FakeDcs(clock).session("n1"), () -> s, new AdminActions.Hooks(
                () -> { }, () -> { }, members -> List.of(), new FakeOperator(), clock, promise));
        var ch = EmbeddedRest.channel(new RestApiHandler(() -> s, clock, new StatusJson(),
                new Metrics("demo", "n1", "0.1.0", () -> s), admin, Runnable::run,
                () -> new SecurityRefresher.RestSecurity(AccessPolicy.OPEN, Map.of(), null)));
        String body = "{\"name\": \"n2\", \"conn_url\": \"postgres://127.0.0.1:5433/postgres\","
                + " \"api_url\": \"http://127.0.0.1:8009/patroni\"" + (ttl.equals("absent") ? "" : ", \"ttl\": " + ttl)
                + "}";
        String answer = EmbeddedRest.exchange(ch, "POST /failsafe HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                + "\r\nContent-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body);
        assertThat(answer).startsWith("HTTP/1.1 200").endsWith("Accepted");
        assertThat(promise.active().orElseThrow().untilNanos() - clock.nanoTime())
                .isEqualTo(TimeUnit.SECONDS.toNanos(seconds));
    }
}
