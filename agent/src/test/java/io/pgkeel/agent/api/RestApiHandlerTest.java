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
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The HTTP side on an EmbeddedChannel: raw bytes in, raw bytes out, with the server's own pipeline. */
class RestApiHandlerTest {
    private final AtomicReference<NodeSnapshot> snapshot = new AtomicReference<>(Snapshots.primary());

    private EmbeddedChannel channel() {
        return new EmbeddedChannel(new HttpServerCodec(4096, RestApiServer.MAX_HEADER_BYTES, 8192),
                new HttpServerKeepAliveHandler(), new HttpObjectAggregator(RestApiServer.MAX_BODY_BYTES),
                new RestApiHandler(snapshot::get, new FakeClock(), new StatusJson(),
                        new Metrics("demo", "n1", "0.1.0", snapshot::get)));
    }

    private static String exchange(EmbeddedChannel ch, String request) {
        ch.writeInbound(Unpooled.copiedBuffer(request, StandardCharsets.ISO_8859_1));
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

    @Test
    void writeMethodsAreNotImplementedYet() {
        assertThat(exchange(channel(), "POST /switchover HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"))
                .startsWith("HTTP/1.1 501");
    }
}
