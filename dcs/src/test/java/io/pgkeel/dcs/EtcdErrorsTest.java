package io.pgkeel.dcs;

import static io.etcd.jetcd.common.exception.EtcdExceptionFactory.newEtcdException;
import static org.assertj.core.api.Assertions.assertThat;

import io.etcd.jetcd.common.exception.ErrorCode;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.pgkeel.common.Clock;
import java.net.ConnectException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Each way an etcd request fails, as jetcd and gRPC hand it over, and the sentence an operator reads. */
class EtcdErrorsTest {
    private static final EtcdSettings SECURED = new EtcdSettings(List.of("https://10.0.0.1:2379",
            "https://10.0.0.2:2379"), "/service/batman/", "pg0", Duration.ofSeconds(2), "test", Clock.system(),
            new EtcdSettings.Security(Optional.of(Path.of("/etc/etcd/ca.crt")), Optional.of(Path.of("/etc/c.crt")),
                    Optional.of(Path.of("/etc/c.key")), Optional.of("pgkeel"), Optional.of("pw")));

    /** What jetcd makes of a failed gRPC call: an EtcdException over the status, the transport's cause inside. */
    private static Throwable jetcd(Status status, String description, Throwable transport) {
        Status s = status.withDescription(description).withCause(transport);
        return newEtcdException(ErrorCode.valueOf(status.getCode().name()), description,
                new StatusRuntimeException(s));
    }

    private static Throwable tls(String handshake) {
        return jetcd(Status.UNAVAILABLE, "io exception", new SSLHandshakeException(handshake));
    }

    static Stream<Arguments> failures() {
        return Stream.of(
                Arguments.of("no answer in time", new TimeoutException(),
                        "no answer within the call timeout"),
                Arguments.of("wrong password", jetcd(Status.INVALID_ARGUMENT,
                        "etcdserver: authentication failed, invalid user ID or password", null),
                        "authentication failed for etcd user 'pgkeel': wrong etcd3.username or etcd3.password"),
                Arguments.of("no user while etcd wants one", jetcd(Status.INVALID_ARGUMENT,
                        "etcdserver: user name is empty", null), "etcd requires authentication: set etcd3.username"),
                Arguments.of("no permission on the prefix", jetcd(Status.PERMISSION_DENIED,
                        "etcdserver: permission denied", null), "permission denied: etcd user 'pgkeel' may not read"
                        + " and write /service/batman/; grant its role readwrite on that prefix"),
                Arguments.of("an expired or revoked token", jetcd(Status.UNAUTHENTICATED,
                        "etcdserver: invalid auth token", null), "etcd refused the authentication token"),
                Arguments.of("etcd's certificate from another CA", tls("PKIX path building failed:"
                        + " sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid"
                        + " certification path to requested target"), "TLS: etcd's certificate is not trusted: no CA"
                        + " in etcd3.cacert /etc/etcd/ca.crt signed it"),
                Arguments.of("etcd's certificate for another host", tls("No subject alternative names matching IP"
                        + " address 10.0.0.1 found"), "TLS: etcd's certificate does not name the address"),
                Arguments.of("no client certificate (TLS 1.3)", jetcd(Status.UNAVAILABLE, "io exception",
                        new SSLException("Received fatal alert: certificate_required")),
                        "TLS: etcd refused this client's certificate (etcd3.cert /etc/c.crt)"),
                Arguments.of("a client certificate etcd does not trust (TLS 1.2)",
                        tls("Received fatal alert: bad_certificate"), "TLS: etcd refused this client's certificate"),
                Arguments.of("https against a plain etcd", jetcd(Status.UNAVAILABLE, "io exception",
                        new SSLException("not an SSL/TLS record: 000012040000")), "TLS: etcd does not speak TLS there"),
                Arguments.of("nobody listens", jetcd(Status.UNAVAILABLE, "io exception",
                        new ConnectException("Connection refused: /10.0.0.1:2379")), "connection refused"),
                Arguments.of("quorum lost", jetcd(Status.UNAVAILABLE, "etcdserver: no leader", null),
                        "etcd has no leader"),
                Arguments.of("a hung member dropped by keepalive", jetcd(Status.UNAVAILABLE,
                        "Keepalive failed. The connection is likely gone", null), "an etcd member stopped answering"));
    }

    /** Only a member that did not serve the request makes the client go on with the next member. */
    static Stream<Arguments> memberDown() {
        return Stream.of(
                Arguments.of("unavailable", jetcd(Status.UNAVAILABLE, "io exception", null), true),
                Arguments.of("connection refused", jetcd(Status.UNAVAILABLE, "io exception",
                        new ConnectException("Connection refused")), true),
                Arguments.of("no leader", jetcd(Status.UNAVAILABLE, "etcdserver: no leader", null), true),
                Arguments.of("wrong password", jetcd(Status.INVALID_ARGUMENT,
                        "etcdserver: authentication failed, invalid user ID or password", null), false),
                Arguments.of("no permission", jetcd(Status.PERMISSION_DENIED, "etcdserver: permission denied", null),
                        false),
                Arguments.of("lease not found", newEtcdException(ErrorCode.NOT_FOUND,
                        "etcdserver: requested lease not found"), false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("memberDown")
    void onlyAnUnavailableMemberIsLeft(String what, Throwable error, boolean down) {
        assertThat(EtcdErrors.isMemberDown(error)).isEqualTo(down);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("failures")
    void eachFailureNamesItsCause(String what, Throwable error, String sentence) {
        assertThat(EtcdErrors.cause(error, SECURED)).contains(sentence);
    }

    /** Over plain TCP: HTTP/2 garbage means a TLS listener; a reset is as likely a member restarting. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("closedOverPlainTcp")
    void aClosedPlainConnectionBlamesTlsOnlyWhenTheBytesSaySo(String what, Throwable error, String sentence) {
        EtcdSettings plain = new EtcdSettings(List.of("http://10.0.0.1:2379"), SECURED.prefix(), "pg0",
                Duration.ofSeconds(2), "test", Clock.system(), EtcdSettings.Security.NONE);
        assertThat(EtcdErrors.cause(error, plain)).startsWith(sentence);
    }

    static Stream<Arguments> closedOverPlainTcp() {
        return Stream.of(
                Arguments.of("a TLS listener answers HTTP/2 with a TLS alert", jetcd(Status.UNAVAILABLE,
                        "First received frame was not SETTINGS", null), "etcd closed the connection: does it want TLS"),
                Arguments.of("connection reset (a restarting member)", jetcd(Status.UNAVAILABLE, "io exception",
                        new java.net.SocketException("Connection reset")),
                        "etcd closed the connection (a member restarting, or one that wants TLS"),
                Arguments.of("network closed", jetcd(Status.UNAVAILABLE, "Network closed for unknown reason", null),
                        "etcd closed the connection (a member restarting, or one that wants TLS"));
    }

    @Test
    void withoutACaFileTheJvmsTrustStoreIsNamed() {
        EtcdSettings noCa = new EtcdSettings(SECURED.endpoints(), SECURED.prefix(), "pg0", Duration.ofSeconds(2),
                "test", Clock.system(), EtcdSettings.Security.NONE);
        assertThat(EtcdErrors.cause(tls("PKIX path building failed"), noCa))
                .contains("the JVM's trust store (no etcd3.cacert)");
    }

    /**
     * One ERROR line per kind of cause and streak, naming the endpoints; an answer ends the streak (said once) and
     * the next failure is said again; a refusal that is an answer (lease not found) is no failure.
     */
    @Test
    void eachKindOfCauseIsSaidOncePerStreak() {
        EtcdErrors errors = new EtcdErrors(SECURED);
        Throwable denied = jetcd(Status.PERMISSION_DENIED, "etcdserver: permission denied", null);
        assertThat(errors.answered()).isEmpty();
        assertThat(errors.failed(denied)).hasValueSatisfying(line -> assertThat(line)
                .startsWith("permission denied").contains("(etcd at https://10.0.0.1:2379, https://10.0.0.2:2379)"));
        assertThat(errors.failed(denied)).isEmpty();
        assertThat(errors.failed(new TimeoutException()))
                .hasValueSatisfying(l -> assertThat(l).startsWith("no answer"));
        assertThat(errors.failed(denied)).isEmpty();
        assertThat(errors.failed(new TimeoutException())).isEmpty();
        assertThat(errors.failed(newEtcdException(ErrorCode.NOT_FOUND, "etcdserver: requested lease not found")))
                .isEmpty();
        assertThat(errors.answered()).hasValue("etcd answers again (etcd at https://10.0.0.1:2379,"
                + " https://10.0.0.2:2379)");
        assertThat(errors.answered()).isEmpty();
        assertThat(errors.failed(denied)).isPresent();
    }
}
