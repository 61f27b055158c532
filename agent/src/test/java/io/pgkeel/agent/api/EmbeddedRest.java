package io.pgkeel.agent.api;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import java.nio.charset.StandardCharsets;

/** The REST server's pipeline on an EmbeddedChannel: raw bytes in, raw bytes out. */
final class EmbeddedRest {
    private EmbeddedRest() {}

    /** The server's pipeline (RestApiServer's initChannel, without TLS) ending in {@code handler}. */
    static EmbeddedChannel channel(RestApiHandler handler) {
        return new EmbeddedChannel(new HttpServerCodec(4096, RestApiServer.MAX_HEADER_BYTES, 8192),
                new HttpServerKeepAliveHandler(), new RestApiHandler.ContentLengthMarker(),
                new HttpObjectAggregator(RestApiServer.MAX_BODY_BYTES), handler);
    }

    /** Writes {@code request}, runs what it scheduled, and answers everything the channel wrote back. */
    static String exchange(EmbeddedChannel ch, String request) {
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
}
