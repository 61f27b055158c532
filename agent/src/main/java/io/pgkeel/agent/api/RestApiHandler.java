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
import io.netty.handler.ssl.SslHandler;
import io.pgkeel.agent.ha.NodeSnapshot;
import io.pgkeel.common.Clock;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers every request from the snapshot the HA loop published: no JDBC or etcd call ever runs on the event
 * loop. Keep-alive is honoured (Patroni closes after each response; HAProxy checks are cheaper this way).
 */
final class RestApiHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger log = LoggerFactory.getLogger(RestApiHandler.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Patroni's write_response default content type. */
    private static final String TEXT = "text/html";
    /** Python 3's http.server DEFAULT_ERROR_MESSAGE. */
    private static final String ERROR_PAGE = """
            <!DOCTYPE HTML>
            <html lang="en">
                <head>
                    <meta charset="utf-8">
                    <title>Error response</title>
                </head>
                <body>
                    <h1>Error response</h1>
                    <p>Error code: %d</p>
                    <p>Message: %s.</p>
                    <p>Error code explanation: %d - %s.</p>
                </body>
            </html>
            """;
    /** Python's http.HTTPStatus descriptions for the codes Patroni sends with send_error. */
    private static final Map<Integer, String> EXPLANATIONS = Map.of(
            400, "Bad request syntax or unsupported method",
            409, "Request conflict",
            411, "Client must specify Content-Length",
            501, "Server does not support this operation",
            502, "Invalid responses from another server/proxy",
            503, "The server cannot process the request due to a high load");

    private final Supplier<NodeSnapshot> snapshot;
    private final Clock clock;
    private final StatusJson status;
    private final Metrics metrics;
    private final AdminActions admin;
    private final java.util.concurrent.Executor writes;
    private final Supplier<SecurityRefresher.RestSecurity> security;
    /** The extra headers of the settings in force when this request came (every response of it carries them). */
    private Map<String, String> extraHeaders = Map.of();

    /**
     * @param writes   where write operations (etcd calls) run: never the event loop
     * @param security the access policy and extra headers in force (read per request, never blocks)
     */
    RestApiHandler(Supplier<NodeSnapshot> snapshot, Clock clock, StatusJson status, Metrics metrics,
                   AdminActions admin, java.util.concurrent.Executor writes,
                   Supplier<SecurityRefresher.RestSecurity> security) {
        this.security = security;
        this.snapshot = snapshot;
        this.clock = clock;
        this.status = status;
        this.metrics = metrics;
        this.admin = admin;
        this.writes = writes;
    }

    /** Set on a request that came without Content-Length (the aggregator adds one, Patroni's 411 needs to know). */
    static final String NO_CONTENT_LENGTH = "x-pgkeel-no-content-length";

    /**
     * Goes before the HttpObjectAggregator: marks a request that had no Content-Length header (and drops a marker a
     * client sent itself).
     */
    static final class ContentLengthMarker extends io.netty.channel.ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof io.netty.handler.codec.http.HttpRequest r) {
                r.headers().remove(NO_CONTENT_LENGTH);
                if (!r.headers().contains(HttpHeaderNames.CONTENT_LENGTH)) {
                    r.headers().set(NO_CONTENT_LENGTH, "1");
                }
            }
            ctx.fireChannelRead(msg);
        }
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        SecurityRefresher.RestSecurity settings = security.get();
        extraHeaders = settings.extraHeaders();
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
            // api.py: do_POST_failsafe is @check_access(allowlist_check_members=False)
            boolean checkMembers = !(method.equals(HttpMethod.POST) && path.equals("/failsafe"));
            var refused = settings.access().check(remote instanceof java.net.InetSocketAddress isa
                            ? isa.getAddress() : null, request.headers().get(HttpHeaderNames.AUTHORIZATION),
                    hasClientCertificate(ctx), checkMembers);
            if (refused.isPresent()) {
                // api.py RestApiServer.check_access and check_auth_header
                int denied = refused.get().status();
                log.info("{} {} from {} refused ({} {})", method, path, remote, denied, refused.get().text());
                FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(denied),
                        Unpooled.wrappedBuffer(refused.get().text().getBytes(StandardCharsets.UTF_8)));
                r.headers().set(HttpHeaderNames.CONTENT_TYPE, TEXT);
                if (denied == 401) {
                    r.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Basic realm=\"Patroni\"");
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
            // Python's http.server when Patroni has no do_<METHOD>_<segment> and no do_<METHOD>
            sendError(ctx, request, 501, "Unsupported method ('" + method + "')");
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
        if (method.equals(HttpMethod.GET) && HealthRoutes.firstSegment(path).equals("failsafe")) {
            // api.py do_GET_failsafe: the failsafe key as last read, 502 when there is none (the leader keeps it
            // only while failsafe_mode is on)
            Map<String, String> topology = s == null ? Map.of() : s.failsafe().topology();
            if (topology.isEmpty()) {
                sendError(ctx, request, 502, null);
            } else {
                respond(ctx, request, HttpResponseStatus.OK, json(new TreeMap<>(topology)), true);
            }
            return;
        }
        if (method.equals(HttpMethod.GET) && s != null) {
            switch ("/" + HealthRoutes.firstSegment(path)) {
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
                case "/reload", "/switchover", "/failover", "/restart", "/reinitialize", "/citus", "/mpp", "/sigterm",
                     "/failsafe" -> true;
                default -> false;
            };
        }
        if (method.equals(HttpMethod.DELETE)) {
            return path.equals("/switchover") || path.equals("/restart");
        }
        return path.equals("/config") && (method.equals(HttpMethod.PATCH) || method.equals(HttpMethod.PUT));
    }

    /** Patroni's {@code _read_json_content()}: a JSON object, not empty, is required. */
    private static boolean needsBody(String path, HttpMethod method) {
        return path.equals("/config") || method.equals(HttpMethod.POST) && switch (path) {
            case "/switchover", "/failover", "/citus", "/mpp", "/failsafe" -> true;
            default -> false;
        };
    }

    /** Patroni's {@code _read_json_content(body_is_optional=True)}: a JSON object, possibly empty, or nothing. */
    private static boolean takesOptionalBody(String path, HttpMethod method) {
        return method.equals(HttpMethod.POST) && (path.equals("/restart") || path.equals("/reinitialize"));
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
            case "/citus", "/mpp" -> admin.mpp();
            case "/sigterm" -> admin.sigterm();
            case "/failsafe" -> admin.failsafe(body);
            default -> throw new IllegalStateException("no write endpoint " + path);
        };
    }

    /**
     * Parses the body here as Patroni's {@code _read_json_content} does (411 without Content-Length where a body is
     * required, 400 for anything but a JSON object, or an empty one where required), runs the operation on the
     * write executor, answers back on the event loop.
     */
    private void write(ChannelHandlerContext ctx, FullHttpRequest request, String path, HttpMethod method) {
        if (path.equals("/failsafe")) {
            NodeSnapshot s = snapshot.get();
            if (s == null || !s.failsafe().enabled()) {
                sendError(ctx, request, 502, null); // api.py do_POST_failsafe: failsafe_mode off, body unread
                return;
            }
        }
        Map<String, Object> body = Map.of();
        boolean required = needsBody(path, method);
        if (required || takesOptionalBody(path, method)) {
            if (request.headers().contains(NO_CONTENT_LENGTH)) {
                if (required) {
                    sendError(ctx, request, 411, null);
                    return;
                }
            } else if (required || request.content().isReadable()) {
                Map<String, Object> parsed = jsonObject(request, path);
                if (parsed == null || required && parsed.isEmpty()) {
                    sendError(ctx, request, 400, null);
                    return;
                }
                body = parsed;
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
                        if (result.body() instanceof AdminActions.SendError e) {
                            sendError(ctx, retained, result.status(), e.message());
                        } else if (result.body() instanceof String text) {
                            // Patroni's write_response: its text as is, typed text/html; patronictl prints it
                            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                                    HttpResponseStatus.valueOf(result.status()),
                                    Unpooled.wrappedBuffer(text.getBytes(StandardCharsets.UTF_8)));
                            response.headers().set(HttpHeaderNames.CONTENT_TYPE, TEXT);
                            result.headers().forEach(response.headers()::set);
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

    /** The body as a JSON object; null (and a log line saying why) when it is not one. */
    private static Map<String, Object> jsonObject(FullHttpRequest request, String path) {
        try {
            Object parsed = JSON.readValue(request.content().toString(StandardCharsets.UTF_8), Object.class);
            if (parsed instanceof Map<?, ?> m) {
                @SuppressWarnings("unchecked")
                Map<String, Object> typed = (Map<String, Object>) m;
                return typed;
            }
            log.info("{} {}: the body is not a JSON object", request.method(), path);
        } catch (java.io.IOException e) {
            log.info("{} {}: the body is not valid JSON: {}", request.method(), path, e.getMessage().split("\n")[0]);
        }
        return null;
    }

    /**
     * Python's {@code BaseHTTPRequestHandler.send_error}, which Patroni answers with where it has no text of its own:
     * the standard HTML error page, and the connection closed.
     */
    private void sendError(ChannelHandlerContext ctx, FullHttpRequest request, int code, String message) {
        HttpResponseStatus status = HttpResponseStatus.valueOf(code);
        String shortMessage = message == null ? status.reasonPhrase() : message;
        String page = String.format(ERROR_PAGE, code, escape(shortMessage), code,
                escape(EXPLANATIONS.getOrDefault(code, status.reasonPhrase())));
        byte[] bytes = request.method().equals(HttpMethod.HEAD) ? new byte[0] : page.getBytes(StandardCharsets.UTF_8);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(bytes));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/html;charset=utf-8");
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, page.getBytes(StandardCharsets.UTF_8).length);
        r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        addExtraHeaders(r);
        ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
    }

    /**
     * {@code restapi.http_extra_headers} (and https_extra_headers over TLS) on every response. Patroni adds them in
     * write_response only, so its send_error pages and status-only HEAD/OPTIONS answers lack them; a security header
     * (HSTS, X-Frame-Options) belongs on every answer, so pgkeel sends them on all (docs/decisions.md).
     */
    private void addExtraHeaders(FullHttpResponse response) {
        extraHeaders.forEach((name, value) -> response.headers().add(name, value));
    }

    /** The TLS peer presented a certificate the handshake verified (Patroni: {@code request.getpeercert()}). */
    private static boolean hasClientCertificate(ChannelHandlerContext ctx) {
        SslHandler tls = ctx.pipeline().get(SslHandler.class);
        if (tls == null) {
            return false;
        }
        try {
            return tls.engine().getSession().getPeerCertificates().length > 0;
        } catch (SSLPeerUnverifiedException e) {
            return false;
        }
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    private static byte[] json(Object o) {
        try {
            return JSON.writeValueAsBytes(o);
        } catch (JsonProcessingException e) {
            return ("{\"error\":\"" + e.getOriginalMessage() + "\"}").getBytes(StandardCharsets.UTF_8);
        }
    }

    private void respond(ChannelHandlerContext ctx, FullHttpRequest request, HttpResponseStatus status,
                                byte[] body, boolean isJson) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.wrappedBuffer(body));
        if (isJson) {
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
        }
        send(ctx, request, response, body.length);
    }

    private void send(ChannelHandlerContext ctx, FullHttpRequest request, FullHttpResponse response, int length) {
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, length);
        addExtraHeaders(response);
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
