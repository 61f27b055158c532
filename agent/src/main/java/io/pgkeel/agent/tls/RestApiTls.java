package io.pgkeel.agent.tls;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.pgkeel.config.PgkeelConfig;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;

/**
 * TLS from Patroni's {@code restapi} section ({@code certfile}, {@code keyfile}, {@code keyfile_password},
 * {@code cafile}, {@code verify_client}), for the REST API server, for the agent's calls to the other members and for
 * {@code pgkeel ctl}. Both throw {@link IllegalArgumentException} naming the files when they cannot be used.
 */
public final class RestApiTls {
    private RestApiTls() {}

    /** The server side: certificate and key, and the CA that client certificates must chain to per verify_client. */
    public static SslContext server(PgkeelConfig.Tls tls) {
        try {
            SslContextBuilder b = SslContextBuilder.forServer(tls.certfile().toFile(), tls.keyfile().toFile(),
                    tls.keyfilePassword().orElse(null));
            if (tls.cafile().isPresent()) {
                b.trustManager(tls.cafile().get().toFile());
            }
            b.clientAuth(switch (tls.verifyClient()) {
                case "required" -> ClientAuth.REQUIRE;
                case "optional" -> ClientAuth.OPTIONAL;
                default -> ClientAuth.NONE;
            });
            return b.build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new IllegalArgumentException("restapi TLS: cannot use " + tls.certfile() + " / " + tls.keyfile()
                    + ": " + e.getMessage(), e);
        }
    }

    /**
     * For calls to the other members' REST APIs (and pgkeel ctl's): trust {@code restapi.cafile} when set (else the
     * JVM's trust store), and present {@code restapi.certfile/keyfile} as the client certificate, as Patroni does, so
     * members that require client certificates still answer each other. Empty when the REST API has no TLS.
     */
    public static Optional<SSLContext> peer(Optional<PgkeelConfig.Tls> tls) {
        return tls.map(t -> {
            try {
                SslContextBuilder b = SslContextBuilder.forClient().sslProvider(SslProvider.JDK)
                        .keyManager(t.certfile().toFile(), t.keyfile().toFile(), t.keyfilePassword().orElse(null));
                t.cafile().ifPresent(ca -> b.trustManager(ca.toFile()));
                return ((JdkSslContext) b.build()).context();
            } catch (SSLException | RuntimeException e) {
                throw new IllegalArgumentException("restapi TLS for peer calls: " + e.getMessage(), e);
            }
        });
    }
}
