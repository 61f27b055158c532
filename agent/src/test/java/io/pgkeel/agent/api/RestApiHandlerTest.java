package io.pgkeel.agent.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.pgkeel.agent.ha.NodeSnapshot;
import io.pgkeel.testing.FakeClock;
import io.pgkeel.testing.FakeDcs;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The HTTP side on an EmbeddedChannel: raw bytes in, raw bytes out, with the server's own pipeline. */
class RestApiHandlerTest {
    private final AtomicReference<NodeSnapshot> snapshot = new AtomicReference<>(Snapshots.primary());
    private final FakeClock clock = new FakeClock();
    private final FakeDcs dcs = new FakeDcs(clock);
    private final FakeDcs.Session session = dcs.session("n1");
    private final AtomicInteger wakeups = new AtomicInteger();
    private final AtomicInteger reloads = new AtomicInteger();

    private EmbeddedChannel channel() {
        AdminActions admin = new AdminActions(session, snapshot::get, wakeups::incrementAndGet, reloads::incrementAndGet);
        return new EmbeddedChannel(new HttpServerCodec(4096, RestApiServer.MAX_HEADER_BYTES, 8192),
                new HttpServerKeepAliveHandler(), new HttpObjectAggregator(RestApiServer.MAX_BODY_BYTES),
                new RestApiHandler(snapshot::get, clock, new StatusJson(),
                        new Metrics("demo", "n1", "0.1.0", snapshot::get), admin, Runnable::run, AccessPolicy.OPEN));
    }

    private static String exchange(EmbeddedChannel ch, String request) {
        ch.writeInbound(Unpooled.copiedBuffer(request, StandardCharsets.ISO_8859_1));
        ch.runPendingTasks();
        StringBuilder out = new StringBuilder();
        ByteBuf b;
        while ((b = ch.readOutbound()) != null) {
            out.append(b.toString(StandardCharsets.ISO_8859_1));
            b.release();
        }
        return out.toString();
    }

    @Test
    void primaryAnswers200WithTheStatusJsonAndKeepsTheConnection() {
        EmbeddedChannel ch = channel();
        String r = exchange(ch, "GET /primary HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(r).startsWith("HTTP/1.1 200 OK").contains("content-type: application/json")
                .contains("\"role\":\"primary\"");
        assertThat(ch.isOpen()).isTrue();
        assertThat(exchange(ch, "GET /replica HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 503");
    }

    @Test
    void headAndOptionsAnswerTheStatusCodeOnly() {
        assertThat(exchange(channel(), "HEAD /primary HTTP/1.1\r\nHost: x\r\n\r\n"))
                .startsWith("HTTP/1.1 200").contains("content-length: 0").doesNotContain("role");
        assertThat(exchange(channel(), "OPTIONS / HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 200");
        snapshot.set(Snapshots.replica(1, 1, java.util.Map.of()));
        assertThat(exchange(channel(), "OPTIONS / HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 503");
    }

    @Test
    void http10ClosesAfterTheResponse() {
        EmbeddedChannel ch = channel();
        // RFC 7230 2.6: the server answers with its own version (1.1); what matters is that it closes
        assertThat(exchange(ch, "GET /health HTTP/1.0\r\n\r\n")).startsWith("HTTP/1.1 200").contains("connection: close");
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void malformedAndOversizedRequestsGet4xxAndTheServerSurvives() {
        assertThat(exchange(channel(), "BLAH\r\n\r\n")).startsWith("HTTP/1.1 400");
        String hugeHeader = "GET /primary HTTP/1.1\r\nX-Big: " + "a".repeat(20_000) + "\r\n\r\n";
        assertThat(exchange(channel(), hugeHeader)).matches("(?s)HTTP/1.1 4\\d\\d.*");
        assertThat(exchange(channel(), "GET /primary HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 200");
    }

    @Test
    void clusterHistoryAndConfigComeFromTheLastClusterView() {
        String cluster = exchange(channel(), "GET /cluster HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(cluster).startsWith("HTTP/1.1 200").contains("\"scope\":\"demo\"").contains("\"members\":[]");
        assertThat(exchange(channel(), "GET /history HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 200")
                .contains("[[1,100,\"no recovery target specified\",\"2026-11-28T00:00:00+00:00\",\"n1\"]]");
        assertThat(exchange(channel(), "GET /config HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 502");
    }

    @Test
    void metricsUsePatronisNamesAndLabels() {
        String r = exchange(channel(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(r).startsWith("HTTP/1.1 200").contains("text/plain");
        assertThat(r).contains("patroni_primary{name=\"n1\",scope=\"demo\"} 1.0")
                .contains("patroni_xlog_location{name=\"n1\",scope=\"demo\"} 5000.0")
                .contains("patroni_postgres_timeline{name=\"n1\",scope=\"demo\"} 2.0")
                .contains("patroni_postgres_state{name=\"n1\",scope=\"demo\"} 5.0")
                .contains("patroni_version{name=\"n1\",scope=\"demo\"} 100.0")
                .contains("patroni_replica{name=\"n1\",scope=\"demo\"} 0.0")
                .contains("patroni_postmaster_start_time{name=\"n1\",scope=\"demo\"} 1.795824E9");
    }

    /** Publishes a snapshot whose cluster view is what the fake etcd holds now. */
    private void snapshotFromDcs() {
        NodeSnapshot base = Snapshots.primary();
        snapshot.set(new NodeSnapshot(base.identity(), base.pg(), session.read(), true, true, "x", "y",
                base.lastCycleNanos(), 0, 30, 10));
    }

    private static String request(String method, String path, String body) {
        return method + " " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body;
    }

    @Test
    void patchConfigMergesWithCompareAndSetAndWakesTheLoop() {
        session.initializeConfig(Map.of("ttl", 30, "loop_wait", 10, "retry_timeout", 10,
                "maximum_lag_on_failover", 1048576));
        snapshotFromDcs();
        String r = exchange(channel(), request("PATCH", "/config", "{\"ttl\": 40, \"maximum_lag_on_failover\": null}"));
        assertThat(r).startsWith("HTTP/1.1 200").contains("\"ttl\":40").doesNotContain("maximum_lag_on_failover");
        assertThat(session.read().config().orElseThrow().ttl()).isEqualTo(40);
        assertThat(wakeups).hasValue(1);
        // the snapshot still carries the old revision: a second patch from it must not overwrite the first
        assertThat(exchange(channel(), request("PATCH", "/config", "{\"ttl\": 50}"))).startsWith("HTTP/1.1 409");
        assertThat(session.read().config().orElseThrow().ttl()).isEqualTo(40);
    }

    @Test
    void badConfigValuesAreRefusedNamingTheKey() {
        session.initializeConfig(Map.of("ttl", 30, "loop_wait", 10, "retry_timeout", 10));
        snapshotFromDcs();
        assertThat(exchange(channel(), request("PATCH", "/config", "{\"ttl\": \"abc\"}")))
                .startsWith("HTTP/1.1 400").contains("config.ttl");
        assertThat(exchange(channel(), request("PATCH", "/config", "{\"ttl\": 12}")))
                .startsWith("HTTP/1.1 400").contains("must not exceed ttl (12)");
        assertThat(exchange(channel(), request("PATCH", "/config", "{not json"))).startsWith("HTTP/1.1 400")
                .contains("not valid JSON");
        assertThat(exchange(channel(), request("PATCH", "/config", "[1]"))).startsWith("HTTP/1.1 400")
                .contains("JSON object");
        assertThat(session.read().config().orElseThrow().ttl()).isEqualTo(30);
    }

    @Test
    void patchWithoutAConfigKeyIs503AndPutReplacesIt() {
        snapshotFromDcs();
        assertThat(exchange(channel(), request("PATCH", "/config", "{\"ttl\": 40}"))).startsWith("HTTP/1.1 503");
        assertThat(exchange(channel(), request("PUT", "/config", "{\"ttl\": 20, \"loop_wait\": 2, \"retry_timeout\": 5}")))
                .startsWith("HTTP/1.1 200");
        assertThat(session.read().config().orElseThrow().loopWait()).isEqualTo(2);
    }

    @Test
    void reloadIsScheduled() {
        assertThat(exchange(channel(), request("POST", "/reload", ""))).startsWith("HTTP/1.1 202")
                .contains("reload scheduled");
        assertThat(reloads).hasValue(1);
    }

    @Test
    void writeMethodsAreNotImplementedYet() {
        assertThat(exchange(channel(), "POST /switchover HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"))
                .startsWith("HTTP/1.1 501");
    }
}
