package io.pgkeel.agent.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import io.pgkeel.agent.ha.AgentFile;
import io.pgkeel.agent.ha.FailsafePromise;
import io.pgkeel.agent.ha.NodeSnapshot;
import io.pgkeel.agent.ha.NodeSnapshot.FailsafeState;
import io.pgkeel.testing.FakeClock;
import io.pgkeel.testing.FakeDcs;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * GET and POST /failsafe as Patroni 4.1's api.py do_GET_failsafe / do_POST_failsafe and ha.py update_failsafe answer
 * them, on the server's pipeline; the promise POST gives is the HA loop's {@link FailsafePromise}.
 */
class FailsafeEndpointsTest {
    private static final Map<String, String> TOPOLOGY = Map.of("n1", "http://127.0.0.1:8008/patroni",
            "n2", "http://127.0.0.1:8009/patroni");
    private static final String FROM_N2 = "{\"name\": \"n2\", \"conn_url\": \"postgres://127.0.0.1:5433/postgres\","
            + " \"api_url\": \"http://127.0.0.1:8009/patroni\", \"slots\": {\"n1\": 5000}}";

    private final FakeClock clock = new FakeClock();
    private FailsafePromise promise = new FailsafePromise(clock);
    private final AtomicReference<NodeSnapshot> snapshot = new AtomicReference<>(
            on(Snapshots.replica(6000, 5000, Map.of())));

    private EmbeddedChannel channel() {
        AdminActions admin = new AdminActions(new FakeDcs(clock).session("n1"), snapshot::get, new AdminActions.Hooks(
                () -> { }, () -> { }, members -> List.of(), new FakeOperator(), clock, promise));
        return EmbeddedRest.channel(new RestApiHandler(snapshot::get, clock, new StatusJson(),
                new Metrics("demo", "n1", "0.1.0", snapshot::get), admin, Runnable::run,
                () -> new SecurityRefresher.RestSecurity(AccessPolicy.OPEN, Map.of(), null)));
    }

    private static NodeSnapshot on(NodeSnapshot s) {
        return Snapshots.withFailsafe(s, new FailsafeState(true, TOPOLOGY, false));
    }

    private static NodeSnapshot off(NodeSnapshot s) {
        return Snapshots.withFailsafe(s, FailsafeState.OFF);
    }

    private static String post(String body) {
        return "POST /failsafe HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body;
    }

    private static Arguments row(String name, Consumer<FailsafeEndpointsTest> setup, String request, int status,
                                 String body) {
        return Arguments.of(Named.of(name, setup), request, status, body);
    }

    private static String page(int code) {
        return "<p>Error code: " + code + "</p>";
    }

    static Stream<Arguments> rows() {
        Consumer<FailsafeEndpointsTest> replicaOn = t -> { };
        Consumer<FailsafeEndpointsTest> replicaOff = t -> t.snapshot.set(off(Snapshots.replica(6000, 5000, Map.of())));
        Consumer<FailsafeEndpointsTest> primaryOn = t -> t.snapshot.set(on(Snapshots.primary()));
        Consumer<FailsafeEndpointsTest> noKey = t -> t.snapshot.set(Snapshots.withFailsafe(
                Snapshots.replica(6000, 5000, Map.of()), new FailsafeState(true, Map.of(), false)));
        Consumer<FailsafeEndpointsTest> keyLeftOff = t -> t.snapshot.set(Snapshots.withFailsafe(
                Snapshots.replica(6000, 5000, Map.of()), new FailsafeState(false, TOPOLOGY, false)));
        Consumer<FailsafeEndpointsTest> claimed = t -> t.promise.claim();
        String noLength = "POST /failsafe HTTP/1.1\r\nHost: x\r\n\r\n";
        return Stream.of(
                row("GET, the failsafe key: its topology", replicaOn, "GET /failsafe HTTP/1.1\r\nHost: x\r\n\r\n",
                        200, "{\"n1\":\"http://127.0.0.1:8008/patroni\",\"n2\":\"http://127.0.0.1:8009/patroni\"}"),
                row("GET, no failsafe key: 502", noKey, "GET /failsafe HTTP/1.1\r\nHost: x\r\n\r\n", 502, page(502)),
                row("GET, failsafe_mode off, no key: 502", replicaOff, "GET /failsafe HTTP/1.1\r\nHost: x\r\n\r\n",
                        502, page(502)),
                row("GET, failsafe_mode off and a key still there: Patroni reads the key alone", keyLeftOff,
                        "GET /failsafe HTTP/1.1\r\nHost: x\r\n\r\n", 200,
                        "{\"n1\":\"http://127.0.0.1:8008/patroni\",\"n2\":\"http://127.0.0.1:8009/patroni\"}"),
                row("POST, failsafe_mode off: 502", replicaOff, post(FROM_N2), 502, page(502)),
                row("POST, failsafe_mode off: 502 before the body is read", replicaOff, noLength, 502, page(502)),
                row("POST, no Content-Length: 411", replicaOn, noLength, 411, page(411)),
                row("POST, not JSON: 400", replicaOn, post("{nope"), 400, page(400)),
                row("POST, not an object: 400", replicaOn, post("[1]"), 400, page(400)),
                row("POST, {}: 400", replicaOn, post("{}"), 400, page(400)),
                row("POST, no name", replicaOn, post(FROM_N2.replace("\"name\"", "\"nom\"")), 400,
                        "Invalid failsafe request: 'name' must be a non-empty string"),
                row("POST, no conn_url", replicaOn, post(FROM_N2.replace("\"conn_url\"", "\"conn\"")), 400,
                        "Invalid failsafe request: 'conn_url' must be a non-empty string"),
                row("POST, no api_url", replicaOn, post(FROM_N2.replace("\"api_url\"", "\"api\"")), 400,
                        "Invalid failsafe request: 'api_url' must be a non-empty string"),
                row("POST, a name that is a number", replicaOn, post(FROM_N2.replace("\"n2\"", "2")), 400,
                        "Invalid failsafe request: 'name' must be a non-empty string"),
                row("POST, an empty api_url", replicaOn, post(FROM_N2.replace("http://127.0.0.1:8009/patroni", "")),
                        400, "Invalid failsafe request: 'api_url' must be a non-empty string"),
                row("POST, slots that are not an object", replicaOn,
                        post(FROM_N2.replace("{\"n1\": 5000}", "[5000]")), 400,
                        "Invalid failsafe request: 'slots' must be an object of slot name to LSN"),
                row("POST, slots null (Patroni's primary without slots)", replicaOn,
                        post(FROM_N2.replace("{\"n1\": 5000}", "null")), 200, "Accepted"),
                row("POST to a running primary", primaryOn, post(FROM_N2), 500, "Running as a leader"),
                row("POST to a replica about to become primary (it claimed)", claimed, post(FROM_N2), 500,
                        "Running as a leader"),
                row("POST to a replica whose promise cannot be recorded on disk", t -> t.promise = new FailsafePromise(
                        t.clock, new AgentFile() {
                            @Override
                            public void write(String content) throws java.io.IOException {
                                throw new java.io.IOException("No space left on device");
                            }

                            @Override
                            public java.util.Optional<String> read() {
                                return java.util.Optional.empty();
                            }

                            @Override
                            public String toString() {
                                return "/pg/main.failsafe.json";
                            }
                        }), post(FROM_N2), 500, "Failsafe promise not recorded: could not record the failsafe promise"
                        + " in /pg/main.failsafe.json: No space left on device"),
                row("POST to a replica", replicaOn, post(FROM_N2), 200, "Accepted"),
                row("POST to a stopped former primary (not running: Patroni accepts)",
                        t -> t.snapshot.set(on(Snapshots.stopped())), post(FROM_N2), 200, "Accepted"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void answersAsPatroni(Consumer<FailsafeEndpointsTest> setup, String request, int status, String body) {
        setup.accept(this);
        String r = EmbeddedRest.exchange(channel(), request);
        assertThat(r).startsWith("HTTP/1.1 " + status + " ");
        String content = r.substring(r.indexOf("\r\n\r\n") + 4);
        if (body.startsWith("<p>")) {
            assertThat(content).startsWith("<!DOCTYPE HTML>").contains(body);
        } else {
            assertThat(content).isEqualTo(body);
            assertThat(r).contains(status == 200 && body.startsWith("{") ? "content-type: application/json"
                    : "content-type: text/html\r\n");
        }
        if (status != 200 || body.startsWith("{")) {
            assertThat(promise.active()).as("no promise given").isEmpty();
        }
    }

    @Test
    void acceptedPromisesNotToRaceForTtlAndSendsTheLsn() {
        String r = EmbeddedRest.exchange(channel(), post(FROM_N2));
        assertThat(r).startsWith("HTTP/1.1 200").contains("\r\nlsn: 6000\r\n").endsWith("\r\n\r\nAccepted");
        assertThat(promise.active()).hasValueSatisfying(l -> {
            assertThat(l.name()).isEqualTo("n2");
            assertThat(l.connUrl()).isEqualTo("postgres://127.0.0.1:5433/postgres");
            assertThat(l.apiUrl()).isEqualTo("http://127.0.0.1:8009/patroni");
            assertThat(l.untilNanos()).as("ttl of the config key: 30 s").isEqualTo(clock.nanoTime() + 30_000_000_000L);
        });
        assertThat(promise.claim()).as("the loop may not take the key while it runs").isFalse();
        clock.advance(Duration.ofSeconds(30));
        assertThat(promise.active()).isEmpty();
        snapshot.set(on(Snapshots.stopped()));
        assertThat(EmbeddedRest.exchange(channel(), post(FROM_N2))).as("no position known: no lsn header")
                .startsWith("HTTP/1.1 200").doesNotContain("lsn:");
    }

    @Test
    void aPromiseLastsThePrimarysTtlUpToTenOfThisMembersAndALongerOneIsRefused() {
        String asks = FROM_N2.substring(0, FROM_N2.lastIndexOf('}')) + ",\"ttl\":%d}";
        assertThat(EmbeddedRest.exchange(channel(), post(asks.formatted(300)))).startsWith("HTTP/1.1 200");
        assertThat(promise.active()).hasValueSatisfying(l -> assertThat(l.untilNanos())
                .as("the primary's 300 s, ten of this member's 30 s").isEqualTo(clock.nanoTime() + 300_000_000_000L));
        clock.advance(Duration.ofSeconds(300));
        String r = EmbeddedRest.exchange(channel(), post(asks.formatted(1_000_000)));
        assertThat(r).startsWith("HTTP/1.1 400").endsWith("Invalid failsafe request: 'ttl' 1000000 is more than 10"
                + " times this member's ttl (30 s)");
        assertThat(promise.active()).as("no promise that would stop every failover for days").isEmpty();
    }

    @Test
    void aPromiseOutlivesFailsafeModeTurnedOff() {
        assertThat(EmbeddedRest.exchange(channel(), post(FROM_N2))).startsWith("HTTP/1.1 200");
        snapshot.set(off(Snapshots.replica(6000, 5000, Map.of())));
        assertThat(EmbeddedRest.exchange(channel(), post(FROM_N2))).startsWith("HTTP/1.1 502");
        assertThat(promise.active()).as("the promise given still runs").isPresent();
    }
}
