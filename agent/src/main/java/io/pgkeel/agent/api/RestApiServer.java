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
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.pgkeel.agent.ha.NodeSnapshot;
import io.pgkeel.agent.tls.RestApiTls;
import io.pgkeel.common.Clock;
import java.net.InetSocketAddress;
import java.util.function.Supplier;

/** Patroni's REST API on Netty: one small event loop, requests answered from the published snapshot. */
public final class RestApiServer implements AutoCloseable {
    /** Largest request line + headers, and largest body, accepted; anything bigger is refused with 4xx. */
    static final int MAX_HEADER_BYTES = 8192;
    static final int MAX_BODY_BYTES = 64 * 1024;

    private final EventLoopGroup group;
    private final Channel channel;

    private RestApiServer(EventLoopGroup group, Channel channel) {
        this.group = group;
        this.channel = channel;
    }

    /**
     * @param authentication basic-auth user required on write endpoints, if any
     * @param allowlist      addresses / CIDR ranges allowed on write endpoints (empty: any)
     */
    public static RestApiServer start(String host, int port, Supplier<NodeSnapshot> snapshot, Clock clock,
                                      Metrics metrics, AdminActions admin,
                                      java.util.Optional<io.pgkeel.config.Credentials> authentication,
                                      java.util.List<String> allowlist,
                                      java.util.Optional<io.pgkeel.config.PgkeelConfig.Tls> tls) {
        AccessPolicy access = new AccessPolicy(authentication, allowlist);
        io.netty.handler.ssl.SslContext ssl = tls.map(RestApiTls::server).orElse(null);
        // a switchover request waits for its outcome for up to 20 s: a few threads, so one does not hold up the rest
        java.util.concurrent.ThreadPoolExecutor writes = new java.util.concurrent.ThreadPoolExecutor(4, 4, 60,
                java.util.concurrent.TimeUnit.SECONDS, new java.util.concurrent.LinkedBlockingQueue<>(64), r -> {
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
                            if (ssl != null) {
                                c.pipeline().addLast(ssl.newHandler(c.alloc()));
                            }
                            c.pipeline()
                                    .addLast(new ReadTimeoutHandler(60))
                                    .addLast(new HttpServerCodec(4096, MAX_HEADER_BYTES, 8192))
                                    .addLast(new HttpServerKeepAliveHandler())
                                    .addLast(new RestApiHandler.ContentLengthMarker())
                                    .addLast(new HttpObjectAggregator(MAX_BODY_BYTES))
                                    .addLast(new RestApiHandler(snapshot, clock, status, metrics, admin, writes, access));
                        }
                    })
                    .bind(bindAddress(host, port)).syncUninterruptibly().channel();
            return new RestApiServer(group, ch);
        } catch (RuntimeException e) {
            group.shutdownGracefully();
            throw e;
        }
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
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }
}
