package io.pgkeel.agent.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.pgkeel.agent.ha.NodeSnapshot;
import io.pgkeel.common.Clock;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers every request from the snapshot the HA loop published: no JDBC or etcd call ever runs on the event
 * loop. Keep-alive is honoured (Patroni closes after each response; HAProxy checks are cheaper this way).
 */
final class RestApiHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger log = LoggerFactory.getLogger(RestApiHandler.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Supplier<NodeSnapshot> snapshot;
    private final Clock clock;
    private final StatusJson status;
    private final Metrics metrics;
    private final AdminActions admin;
    private final java.util.concurrent.Executor writes;
    private final AccessPolicy access;

    /** @param writes where write operations (etcd calls) run: never the event loop */
    RestApiHandler(Supplier<NodeSnapshot> snapshot, Clock clock, StatusJson status, Metrics metrics,
                   AdminActions admin, java.util.concurrent.Executor writes, AccessPolicy access) {
        this.access = access;
        this.snapshot = snapshot;
        this.clock = clock;
        this.status = status;
        this.metrics = metrics;
        this.admin = admin;
        this.writes = writes;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (!request.decoderResult().isSuccess()) {
            respond(ctx, request, HttpResponseStatus.BAD_REQUEST, json(Map.of("error", "malformed request")), false);
            return;
        }
        QueryStringDecoder uri = new QueryStringDecoder(request.uri());
        String path = uri.path().length() > 1 && uri.path().endsWith("/")
                ? uri.path().substring(0, uri.path().length() - 1) : uri.path();
        HttpMethod method = request.method();
        boolean statusOnly = method.equals(HttpMethod.HEAD) || method.equals(HttpMethod.OPTIONS);
        if (!statusOnly && !method.equals(HttpMethod.GET)) {
            java.net.SocketAddress remote = ctx.channel().remoteAddress();
            int denied = access.check(remote instanceof java.net.InetSocketAddress isa ? isa.getAddress() : null,
                    request.headers().get(io.netty.handler.codec.http.HttpHeaderNames.AUTHORIZATION));
            if (denied != 0) {
                FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(denied),
                        Unpooled.wrappedBuffer(json(Map.of("error", denied == 401 ? "authentication required"
                                : "this address may not call write endpoints"))));
                r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
                if (denied == 401) {
                    r.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Basic realm=\"pgkeel\"");
                }
                send(ctx, request, r, r.content().readableBytes());
                return;
            }
        }
        if (isWrite(path, method)) {
            write(ctx, request, path, method);
            return;
        }
        if (!method.equals(HttpMethod.GET) && !statusOnly) {
            respond(ctx, request, HttpResponseStatus.NOT_IMPLEMENTED,
                    json(Map.of("error", method + " " + path + " is not implemented yet")), false);
            return;
        }
        NodeSnapshot s = snapshot.get();
        if (method.equals(HttpMethod.GET) && path.equals("/metrics")) {
            byte[] text = metrics.scrape().getBytes(StandardCharsets.UTF_8);
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                    Unpooled.wrappedBuffer(text));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
            send(ctx, request, r, text.length);
            return;
        }
        if (method.equals(HttpMethod.GET) && s != null) {
            switch (path) {
                case "/cluster" -> {
                    respond(ctx, request, HttpResponseStatus.OK, json(ClusterJson.of(s)), true);
                    return;
                }
                case "/history" -> {
                    respond(ctx, request, HttpResponseStatus.OK,
                            json(s.cluster() == null ? java.util.List.of() : s.cluster().history()), true);
                    return;
                }
                case "/config" -> {
                    var config = s.cluster() == null ? java.util.Optional.<io.pgkeel.common.cluster.DynamicConfig>empty()
                            : s.cluster().config();
                    // Patroni: 502 when the cluster has no dynamic configuration in the DCS
                    respond(ctx, request, config.isPresent() ? HttpResponseStatus.OK : HttpResponseStatus.BAD_GATEWAY,
                            json(config.isPresent() ? config.get().raw() : Map.of("error", "no configuration in DCS")),
                            true);
                    return;
                }
                default -> {
                    // health and status routes below
                }
            }
        }
        HealthRoutes.Answer a = HealthRoutes.answer(path, uri.parameters(), s, clock.nanoTime());
        boolean withBody = !statusOnly && a.withBody();
        respond(ctx, request, HttpResponseStatus.valueOf(a.status()), withBody ? status.bytes(s) : new byte[0], withBody);
    }

    private static boolean isWrite(String path, HttpMethod method) {
        if (method.equals(HttpMethod.POST)) {
            return switch (path) {
                case "/reload", "/switchover", "/failover", "/restart", "/reinitialize" -> true;
                default -> false;
            };
        }
        if (method.equals(HttpMethod.DELETE)) {
            return path.equals("/switchover") || path.equals("/restart");
        }
        return path.equals("/config") && (method.equals(HttpMethod.PATCH) || method.equals(HttpMethod.PUT));
    }

    /** Endpoints whose body is required JSON; the others take an optional body or none. */
    private static boolean needsBody(String path, HttpMethod method) {
        return path.equals("/config") || path.equals("/switchover") && method.equals(HttpMethod.POST)
                || path.equals("/failover");
    }

    private AdminActions.Result dispatch(String path, HttpMethod method, Map<String, Object> body) {
        return switch (path) {
            case "/reload" -> admin.reload();
            case "/config" -> method.equals(HttpMethod.PATCH) ? admin.patchConfig(body) : admin.putConfig(body);
            case "/switchover" -> method.equals(HttpMethod.DELETE) ? admin.cancelSwitchover()
                    : admin.switchover(body, false);
            case "/failover" -> admin.switchover(body, true);
            case "/restart" -> method.equals(HttpMethod.DELETE) ? admin.cancelRestart() : admin.restart(body);
            case "/reinitialize" -> admin.reinitialize();
            default -> throw new IllegalStateException("no write endpoint " + path);
        };
    }

    /** Parses the body here, runs the operation on the write executor, answers back on the event loop. */
    private void write(ChannelHandlerContext ctx, FullHttpRequest request, String path, HttpMethod method) {
        Map<String, Object> body = Map.of();
        boolean hasBody = request.content().isReadable();
        if (needsBody(path, method) && !hasBody) {
            respond(ctx, request, HttpResponseStatus.BAD_REQUEST, json(Map.of("error", "a JSON body is required")), true);
            return;
        }
        if (hasBody && !method.equals(HttpMethod.DELETE) && !path.equals("/reload")) {
            try {
                Object parsed = JSON.readValue(request.content().toString(StandardCharsets.UTF_8), Object.class);
                if (!(parsed instanceof Map<?, ?> m)) {
                    respond(ctx, request, HttpResponseStatus.BAD_REQUEST,
                            json(Map.of("error", "the body must be a JSON object")), true);
                    return;
                }
                @SuppressWarnings("unchecked")
                Map<String, Object> typed = (Map<String, Object>) m;
                body = typed;
            } catch (java.io.IOException e) {
                respond(ctx, request, HttpResponseStatus.BAD_REQUEST, json(Map.of("error", "not valid JSON: "
                        + e.getMessage().split("\n")[0])), true);
                return;
            }
        }
        FullHttpRequest retained = request.retainedDuplicate();
        Map<String, Object> input = body;
        try {
            writes.execute(() -> {
                AdminActions.Result r;
                try {
                    r = dispatch(path, method, input);
                } catch (RuntimeException e) {
                    log.error("{} {} failed", method, path, e);
                    r = new AdminActions.Result(500, Map.of("error", String.valueOf(e.getMessage())));
                }
                AdminActions.Result result = r;
                ctx.channel().eventLoop().execute(() -> {
                    try {
                        if (result.body() instanceof String text) {
                            // Patroni answers its write endpoints with plain text; patronictl prints it as is
                            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                                    HttpResponseStatus.valueOf(result.status()),
                                    Unpooled.wrappedBuffer(text.getBytes(StandardCharsets.UTF_8)));
                            response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
                            send(ctx, retained, response, response.content().readableBytes());
                        } else {
                            byte[] bytes = json(result.body());
                            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                                    HttpResponseStatus.valueOf(result.status()), Unpooled.wrappedBuffer(bytes));
                            response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
                            // RFC 7234 warn-code 299 ("miscellaneous persistent warning"), one header per warning
                            result.warnings().forEach(w -> response.headers().add(HttpHeaderNames.WARNING,
                                    "299 pgkeel \"" + w.replace("\\", "\\\\").replace("\"", "\\\"") + "\""));
                            send(ctx, retained, response, bytes.length);
                        }
                    } finally {
                        retained.release();
                    }
                });
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            retained.release();
            respond(ctx, request, HttpResponseStatus.SERVICE_UNAVAILABLE,
                    json(Map.of("error", "too many write requests in progress; retry later")), true);
        }
    }

    private static byte[] json(Object o) {
        try {
            return JSON.writeValueAsBytes(o);
        } catch (JsonProcessingException e) {
            return ("{\"error\":\"" + e.getOriginalMessage() + "\"}").getBytes(StandardCharsets.UTF_8);
        }
    }

    private static void respond(ChannelHandlerContext ctx, FullHttpRequest request, HttpResponseStatus status,
                                byte[] body, boolean isJson) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.wrappedBuffer(body));
        if (isJson) {
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
        }
        send(ctx, request, response, body.length);
    }

    private static void send(ChannelHandlerContext ctx, FullHttpRequest request, FullHttpResponse response, int length) {
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, length);
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        if (keepAlive) {
            if (!request.protocolVersion().isKeepAliveDefault()) {
                response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            }
            ctx.writeAndFlush(response);
        } else {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("REST API connection from {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
