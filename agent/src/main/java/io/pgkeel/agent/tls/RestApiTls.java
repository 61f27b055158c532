package io.pgkeel.agent.tls;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.pgkeel.config.PgkeelConfig;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * TLS from Patroni's {@code restapi} section ({@code certfile}, {@code keyfile}, {@code keyfile_password},
 * {@code cafile}, {@code verify_client}), for the REST API server and for the agent's calls to the other members; and
 * from Patroni's {@code ctl} section for {@code pgkeel ctl}. All throw {@link IllegalArgumentException} naming the
 * files when they cannot be used.
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
     * For the agent's calls to the other members' REST APIs: trust {@code restapi.cafile} when set (else the
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

    /**
     * For pgkeel ctl's calls, from what {@link PgkeelConfig#ctlConnection()} picked, as Patroni 4.1's
     * {@code PatroniRequest.reload_config} sets up urllib3: {@code certfile/keyfile/keyfile_password} is the client
     * certificate; the members' certificates must chain to {@code cacert} (else the JVM's trust store) and name the
     * host; {@code insecure} without a client certificate checks nothing ({@code CERT_NONE}), with one it still checks
     * the chain and skips only the host name ({@code assert_hostname=False}).
     *
     * <p>The host name is skipped in the trust manager, per client: the JDK's HttpClient sets the endpoint
     * identification algorithm on every connection itself (overriding the client's SSLParameters), and its only
     * switch, {@code jdk.internal.httpclient.disableHostnameVerification}, is a JVM-wide property read once. An
     * {@link X509ExtendedTrustManager} is handed the engine and would run the host name check; ours checks the chain
     * without it.
     *
     * @throws IllegalArgumentException naming the files when they cannot be used
     */
    public static SSLContext ctl(PgkeelConfig.Ctl ctl) {
        try {
            SslContextBuilder b = SslContextBuilder.forClient().sslProvider(SslProvider.JDK);
            if (ctl.certfile().isPresent()) {
                Path cert = ctl.certfile().get();
                b.keyManager(cert.toFile(), ctl.keyfile().orElse(cert).toFile(), ctl.keyfilePassword().orElse(null));
            }
            if (ctl.insecure() && ctl.certfile().isEmpty()) {
                b.trustManager(new ChainOnly(null));
            } else {
                X509TrustManager chain = trust(ctl.cacert());
                b.trustManager(ctl.insecure() ? new ChainOnly(chain) : chain);
            }
            return ((JdkSslContext) b.build()).context();
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            throw new IllegalArgumentException("ctl TLS: cannot use " + ctl.certfile().map(Path::toString)
                    .orElse("no client certificate") + ctl.cacert().map(c -> " / cacert " + c).orElse("") + ": "
                    + e.getMessage(), e);
        }
    }

    /** The JVM's trust store, or the certificates of a PEM bundle. */
    private static X509TrustManager trust(Optional<Path> bundle) throws IOException, GeneralSecurityException {
        KeyStore store = null;
        if (bundle.isPresent()) {
            store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            try (InputStream in = Files.newInputStream(bundle.get())) {
                int i = 0;
                for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                    store.setCertificateEntry("ca" + i++, c);
                }
            }
            if (store.size() == 0) {
                throw new CertificateException("no certificate in " + bundle.get());
            }
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        for (TrustManager tm : tmf.getTrustManagers()) {
            if (tm instanceof X509TrustManager x) {
                return x;
            }
        }
        throw new GeneralSecurityException("no X.509 trust manager");
    }

    /**
     * Checks the server's chain with {@code chain} (nothing when null) and never its host name: the engine and socket
     * forms, which would add endpoint identification, go to the plain check.
     */
    private static final class ChainOnly extends X509ExtendedTrustManager {
        private final X509TrustManager chain;

        ChainOnly(X509TrustManager chain) {
            this.chain = chain;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] certs, String authType) throws CertificateException {
            if (chain != null) {
                chain.checkServerTrusted(certs, authType);
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] certs, String authType, Socket socket)
                throws CertificateException {
            checkServerTrusted(certs, authType);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] certs, String authType, SSLEngine engine)
                throws CertificateException {
            checkServerTrusted(certs, authType);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] certs, String authType) throws CertificateException {
            throw new CertificateException("pgkeel ctl does not accept connections");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] certs, String authType, Socket socket)
                throws CertificateException {
            checkClientTrusted(certs, authType);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] certs, String authType, SSLEngine engine)
                throws CertificateException {
            checkClientTrusted(certs, authType);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return chain == null ? new X509Certificate[0] : chain.getAcceptedIssuers();
        }
    }
}
