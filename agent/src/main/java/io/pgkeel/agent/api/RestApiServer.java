package io.pgkeel.agent.api;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.pgkeel.agent.ha.NodeSnapshot;
import io.pgkeel.common.Clock;
import io.pgkeel.config.Credentials;
import io.pgkeel.config.HostPort;
import io.pgkeel.config.PgkeelConfig;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** Patroni's REST API on Netty: one small event loop, requests answered from the published snapshot. */
public final class RestApiServer implements AutoCloseable {
    /** Largest request line + headers, and largest body, accepted; anything bigger is refused with 4xx. */
    static final int MAX_HEADER_BYTES = 8192;
    static final int MAX_BODY_BYTES = 64 * 1024;

    private final EventLoopGroup group;
    private final Channel channel;
    private final SecurityRefresher security;

    private RestApiServer(EventLoopGroup group, Channel channel, SecurityRefresher security) {
        this.group = group;
        this.channel = channel;
        this.security = security;
    }

    /**
     * @param authentication basic-auth user required on write endpoints, if any
     * @param allowlist      addresses / CIDR ranges / host names allowed on write endpoints (empty: any)
     */
    public static RestApiServer start(String host, int port, Supplier<NodeSnapshot> snapshot, Clock clock,
                                      Metrics metrics, AdminActions admin, Optional<Credentials> authentication,
                                      List<String> allowlist, Optional<PgkeelConfig.Tls> tls) {
        HostPort listen = new HostPort(host, port);
        return start(new PgkeelConfig.RestApi(listen, listen, authentication, allowlist, tls), snapshot, clock,
                metrics, admin, SecurityRefresher.Resolver.SYSTEM);
    }

    /**
     * Binds {@code restapi.listen} and serves until {@link #close()}. Host names in the allowlist and the members'
     * hosts are resolved before this returns and then on a thread of their own, never on the event loop.
     *
     * @throws IllegalArgumentException when the TLS files cannot be used
     */
    public static RestApiServer start(PgkeelConfig.RestApi restapi, Supplier<NodeSnapshot> snapshot, Clock clock,
                                      Metrics metrics, AdminActions admin) {
        return start(restapi, snapshot, clock, metrics, admin, SecurityRefresher.Resolver.SYSTEM);
    }

    static RestApiServer start(PgkeelConfig.RestApi restapi, Supplier<NodeSnapshot> snapshot, Clock clock,
                               Metrics metrics, AdminActions admin, SecurityRefresher.Resolver dns) {
        SecurityRefresher security = new SecurityRefresher(restapi, snapshot, dns, clock);
        // a switchover request waits for its outcome for up to 20 s: a few threads, so one does not hold up the rest
        ThreadPoolExecutor writes = new ThreadPoolExecutor(4, 4, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(64),
                r -> {
                    Thread t = new Thread(r, "rest-writes");
                    t.setDaemon(true);
                    return t;
                });
        writes.allowCoreThreadTimeOut(true);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, (Runnable r) -> {
            Thread t = new Thread(r, "rest-api");
            t.setDaemon(true);
            return t;
        }, NioIoHandler.newFactory());
        StatusJson status = new StatusJson();
        try {
            Channel ch = new ServerBootstrap()
                    .group(group)
                    .channel(NioServerSocketChannel.class)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel c) {
                            // the context in force when the connection comes: a reloaded certificate serves new
                            // connections, those open keep theirs (Patroni re-creates its socket on reload)
                            SslContext ssl = security.current().ssl();
                            if (ssl != null) {
                                c.pipeline().addLast(ssl.newHandler(c.alloc()));
                            }
                            c.pipeline()
                                    .addLast(new ReadTimeoutHandler(60))
                                    .addLast(new HttpServerCodec(4096, MAX_HEADER_BYTES, 8192))
                                    .addLast(new HttpServerKeepAliveHandler())
                                    .addLast(new RestApiHandler.ContentLengthMarker())
                                    .addLast(new HttpObjectAggregator(MAX_BODY_BYTES))
                                    .addLast(new RestApiHandler(snapshot, clock, status, metrics, admin, writes,
                                            security::current));
                        }
                    })
                    .bind(bindAddress(restapi.listen().host(), restapi.listen().port())).syncUninterruptibly()
                    .channel();
            security.start();
            return new RestApiServer(group, ch, security);
        } catch (RuntimeException e) {
            group.shutdownGracefully();
            throw e;
        }
    }

    /**
     * SIGHUP: applies a new {@code restapi} section as Patroni's {@code reload_config} does (authentication,
     * allowlist, allowlist_include_members, verify_client, extra headers, certificate files re-read) and answers the
     * keys it could not apply, for the restart-needed warning. {@code listen} and {@code connect_address} are the
     * caller's to compare. Runs the resolution on the caller's thread, never the event loop.
     */
    public List<String> reconfigure(PgkeelConfig.RestApi fresh) {
        return security.reconfigure(fresh);
    }

    /** The {@code restapi} settings in force: those of the start, and what SIGHUP applied since. */
    public PgkeelConfig.RestApi settings() {
        return security.settings();
    }

    /**
     * Where {@code restapi.listen} binds: {@code *} (or no host) is the wildcard address, which on a dual-stack
     * system takes IPv4 and IPv6 connections alike, as Patroni's getaddrinfo(None, AI_PASSIVE) bind does.
     */
    static InetSocketAddress bindAddress(String host, int port) {
        return host.isEmpty() || host.equals("*") ? new InetSocketAddress(port) : new InetSocketAddress(host, port);
    }

    @Override
    public void close() {
        security.close();
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
