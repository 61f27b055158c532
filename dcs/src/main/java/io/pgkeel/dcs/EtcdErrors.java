package io.pgkeel.dcs;

import io.etcd.jetcd.common.exception.ErrorCode;
import io.etcd.jetcd.common.exception.EtcdException;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLException;

/**
 * Why an etcd request failed, in one sentence an operator can act on (the setting to fix), from what jetcd, gRPC
 * and the JVM's TLS stack report; and which of them to log: each kind of cause once per streak of failures.
 *
 * <p>Thread-safety: {@link #failed} and {@link #answered} may be called from any thread.
 */
final class EtcdErrors {
    private final EtcdSettings settings;
    /** Set by the first failure of a streak, cleared by the next answer. */
    private final AtomicBoolean failing = new AtomicBoolean();
    /**
     * The kinds of cause logged in this streak: each is logged once (a streak that starts with timeouts and then
     * meets a wrong password says both, once each), and the set empties when etcd answers.
     */
    private final java.util.Set<String> said = java.util.concurrent.ConcurrentHashMap.newKeySet();

    EtcdErrors(EtcdSettings settings) {
        this.settings = settings;
    }

    /**
     * A failed request: the ERROR line to log when it is the first failure of its kind of cause since etcd last
     * answered (the cause and the endpoints), else empty. Refusals that are answers (a lease etcd no longer knows)
     * are not failures.
     */
    Optional<String> failed(Throwable error) {
        if (isAnswer(error)) {
            return Optional.empty();
        }
        String cause = cause(error, settings);
        failing.set(true);
        if (!said.add(kind(cause))) {
            return Optional.empty();
        }
        return Optional.of(cause + " (etcd at " + endpoints() + "); pgkeel keeps trying and says this again only"
                + " after etcd has answered");
    }

    /** The kind of a cause: its words before the first colon ("permission denied", "TLS", ...). */
    private static String kind(String cause) {
        int colon = cause.indexOf(':');
        return colon > 0 ? cause.substring(0, colon) : cause.length() > 40 ? cause.substring(0, 40) : cause;
    }

    /** An answer: it ends a streak of failures; the INFO line to log when it did. */
    Optional<String> answered() {
        if (failing.compareAndSet(true, false)) {
            said.clear();
            return Optional.of("etcd answers again (etcd at " + endpoints() + ")");
        }
        return Optional.empty();
    }

    String endpoints() {
        return String.join(", ", settings.endpoints());
    }

    /** etcd answered, with a refusal the caller handles (lease not found): the connection and the user are fine. */
    static boolean isAnswer(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof EtcdException ee && ee.getErrorCode() == ErrorCode.NOT_FOUND) {
                return true;
            }
        }
        return false;
    }

    /**
     * The member did not serve the request (gone, refusing connections, cut off from its quorum): another member
     * may. etcd's refusals (authentication, permission) would be the same on every member.
     */
    static boolean isMemberDown(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof EtcdException ee && ee.getErrorCode() == ErrorCode.UNAVAILABLE
                    || t instanceof io.grpc.StatusRuntimeException se
                    && se.getStatus().getCode() == io.grpc.Status.Code.UNAVAILABLE
                    || t instanceof java.net.ConnectException) {
                return true;
            }
        }
        return false;
    }

    /**
     * The cause of {@code error} as one sentence naming what to check. The order matters: a TLS failure arrives
     * as UNAVAILABLE with the handshake error inside, and etcd's own refusals (authentication, permission) are
     * in the message of the status.
     */
    static String cause(Throwable error, EtcdSettings settings) {
        if (error instanceof TimeoutException) {
            return "no answer within the call timeout (etcd down, frozen or unreachable, or without quorum)";
        }
        SSLException ssl = find(error, SSLException.class);
        String all = messages(error);
        String lower = all.toLowerCase(Locale.ROOT);
        EtcdSettings.Security s = settings.security();
        if (ssl != null || lower.contains("ssl") && lower.contains("handshake")) {
            return tlsCause(lower, all, s);
        }
        String user = s.username().map(u -> "'" + u + "'").orElse("of the client certificate");
        if (lower.contains("authentication failed")) {
            return "authentication failed for etcd user " + user + ": wrong etcd3.username or etcd3.password";
        }
        if (lower.contains("user name is empty") || lower.contains("user name not found")
                || lower.contains("invalid auth token") && !s.authenticates()) {
            return "etcd requires authentication: set etcd3.username and etcd3.password, or present a client"
                    + " certificate whose CN is an etcd user (etcd --client-cert-auth)";
        }
        if (lower.contains("permission denied")) {
            return "permission denied: etcd user " + user + " may not read and write " + settings.prefix()
                    + "; grant its role readwrite on that prefix";
        }
        if (lower.contains("invalid auth token") || lower.contains("revision of auth store is old")) {
            return "etcd refused the authentication token (expired or revoked); authenticating again";
        }
        if (lower.contains("keepalive failed")) {
            return "an etcd member stopped answering (gRPC keepalive failed)";
        }
        if (lower.contains("no leader")) {
            return "etcd has no leader (quorum lost)";
        }
        if (lower.contains("connection refused")) {
            return "connection refused: no etcd member listens there";
        }
        if (lower.contains("unknownhost") || lower.contains("unknown host") || lower.contains("unresolved")) {
            return "the etcd host name does not resolve";
        }
        if (!settings.tls() && (lower.contains("http2 exception") || lower.contains("first received frame"))) {
            return "etcd closed the connection: does it want TLS (etcd3.protocol: https)? " + all;
        }
        if (!settings.tls() && (lower.contains("network closed") || lower.contains("connection reset"))) {
            // also what a member that is restarting does (the chaos suite saw it right after quorum came back)
            return "etcd closed the connection (a member restarting, or one that wants TLS: etcd3.protocol https?) "
                    + all;
        }
        return all.isEmpty() ? error.getClass().getSimpleName() : all;
    }

    private static String tlsCause(String lower, String all, EtcdSettings.Security s) {
        String trusted = s.cacert().map(p -> "etcd3.cacert " + p).orElse("the JVM's trust store (no etcd3.cacert)");
        if (lower.contains("pkix") || lower.contains("certification path") || lower.contains("signature check")
                || lower.contains("trust anchor")) {
            return "TLS: etcd's certificate is not trusted: no CA in " + trusted + " signed it";
        }
        if (lower.contains("subject alternative") || lower.contains("no name matching")) {
            return "TLS: etcd's certificate does not name the address connected to (check its subjectAltName)";
        }
        if (lower.contains("certificate_required") || lower.contains("bad_certificate")
                || lower.contains("unknown_ca") || lower.contains("certificate_unknown")) {
            return "TLS: etcd refused this client's certificate ("
                    + s.cert().map(p -> "etcd3.cert " + p).orElse("none given: set etcd3.cert and etcd3.key")
                    + "): it wants one signed by a CA it trusts";
        }
        if (lower.contains("not an ssl/tls record") || lower.contains("unrecognized ssl message")) {
            return "TLS: etcd does not speak TLS there (etcd3.protocol https against a plain http etcd?)";
        }
        return "TLS handshake failed: " + all;
    }

    private static <T extends Throwable> T find(Throwable error, Class<T> type) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }

    /** The distinct messages down the cause chain, joined: gRPC wraps the useful one deep inside. */
    private static String messages(Throwable error) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = error; t != null && t.getCause() != t; t = t.getCause()) {
            String m = t.getMessage();
            if (m != null && !m.isBlank() && sb.indexOf(m) < 0) {
                if (sb.length() > 0) {
                    sb.append(": ");
                }
                sb.append(m.strip());
            }
        }
        return sb.toString().replaceAll("\\s+", " ");
    }
}
