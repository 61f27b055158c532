package io.pgkeel.agent.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgkeel.common.cluster.Member;
import io.pgkeel.common.cluster.Tags;
import io.pgkeel.common.peer.FailsafeAnswer;
import io.pgkeel.common.peer.PeerClient;
import io.pgkeel.common.peer.PeerStatus;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Fetches members' {@code GET /patroni} in parallel, each bounded by one timeout (Patroni: 2 s, no retries). */
public final class HttpPeerClient implements PeerClient {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Failsafe rounds' requests: a few daemon threads, idle ones end after a minute. */
    private static final java.util.concurrent.ExecutorService ROUND = new java.util.concurrent.ThreadPoolExecutor(0,
            16, 60, TimeUnit.SECONDS, new java.util.concurrent.SynchronousQueue<>(), r -> {
                Thread t = new Thread(r, "failsafe-round");
                t.setDaemon(true);
                return t;
            }, new java.util.concurrent.ThreadPoolExecutor.CallerRunsPolicy());

    private final Duration timeout;
    private final io.pgkeel.common.Clock clock;
    /** Guarded by this (replaced on SIGHUP, with the client built from it). */
    private java.util.Optional<javax.net.ssl.SSLContext> tls;
    /** The {@code Authorization} header of write requests (POST /failsafe), if the REST API asks for one. */
    private volatile java.util.Optional<String> authorization;
    /**
     * Built on first use: building an HttpClient initialises the JDK's default TLS context, which parses the whole
     * CA bundle and loads a few hundred classes (about 4 MB of an idle agent's memory), and peers are asked only
     * during an election or an operator's request.
     */
    private HttpClient http;

    public HttpPeerClient(Duration timeout, io.pgkeel.common.Clock clock) {
        this(timeout, clock, java.util.Optional.empty());
    }

    /** @param tls for https peers: see {@link io.pgkeel.agent.tls.RestApiTls#peer} */
    public HttpPeerClient(Duration timeout, io.pgkeel.common.Clock clock, java.util.Optional<javax.net.ssl.SSLContext> tls) {
        this(timeout, clock, tls, java.util.Optional.empty());
    }

    /**
     * @param authorization the {@code Authorization} header for write requests: Patroni sends {@code ctl.authentication}
     *                      or else {@code restapi.authentication} (patroni/request.py)
     */
    public HttpPeerClient(Duration timeout, io.pgkeel.common.Clock clock, java.util.Optional<javax.net.ssl.SSLContext> tls,
                          java.util.Optional<String> authorization) {
        this.timeout = timeout;
        this.clock = clock;
        this.tls = tls;
        this.authorization = authorization;
    }

    /** The {@code Authorization} header value for HTTP basic authentication. */
    public static String basicAuthorization(String username, String password) {
        return "Basic " + java.util.Base64.getEncoder().encodeToString((username + ":" + (password == null ? "" : password))
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /**
     * SIGHUP (Patroni's {@code PatroniRequest.reload_config}): requests from now on present {@code tls}'s client
     * certificate and send {@code authorization}; those in flight finish on the client they started with.
     */
    public synchronized void reconfigure(java.util.Optional<javax.net.ssl.SSLContext> tls,
                                         java.util.Optional<String> authorization) {
        this.tls = tls;
        this.authorization = authorization;
        this.http = null;
    }

    private synchronized HttpClient http() {
        if (http == null) {
            HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(timeout).version(HttpClient.Version.HTTP_1_1);
            tls.ifPresent(b::sslContext);
            http = b.build();
        }
        return http;
    }

    @Override
    public List<PeerStatus> fetch(List<Member> members) {
        List<CompletableFuture<PeerStatus>> futures = new ArrayList<>();
        for (Member m : members) {
            futures.add(fetchOne(m));
        }
        List<PeerStatus> out = new ArrayList<>();
        long deadline = clock.nanoTime() + timeout.toNanos() + TimeUnit.MILLISECONDS.toNanos(200);
        for (int i = 0; i < futures.size(); i++) {
            try {
                long left = Math.max(1, deadline - clock.nanoTime());
                out.add(futures.get(i).get(left, TimeUnit.NANOSECONDS));
            } catch (Exception e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                futures.get(i).cancel(true);
                out.add(PeerStatus.unreachable(members.get(i).name()));
            }
        }
        return out;
    }

    /**
     * Whether anything answers HTTP at {@code m}'s REST API: {@code GET /liveness} on its {@code api_url}'s host and
     * port, any status counts (Patroni's {@code ensure_unique_name}); false on no answer within {@code timeout}.
     */
    public boolean answersLiveness(Member m, Duration timeout) {
        try {
            HttpRequest req = HttpRequest.newBuilder(URI.create(m.apiUrl()).resolve("/liveness")).timeout(timeout)
                    .GET().build();
            http().send(req, HttpResponse.BodyHandlers.discarding());
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (IllegalArgumentException | java.io.IOException e) {
            return false;
        }
    }

    /**
     * {@code POST /failsafe} on the member's REST API (the path of {@code apiUrl} replaced, as Patroni does), bounded
     * by {@code timeout} from the first connect to the last byte; a connection that fails fast is tried once more
     * inside that bound (Patroni: {@code retries=1}). Accepted only on 200 with the body {@code Accepted}
     * (patroni/ha.py {@code call_failsafe_member}).
     */
    @Override
    public FailsafeAnswer postFailsafe(String apiUrl, String bodyJson, Duration timeout) {
        URI uri;
        try {
            uri = URI.create(apiUrl).resolve("/failsafe");
        } catch (IllegalArgumentException | NullPointerException e) {
            return FailsafeAnswer.refused("bad api_url " + apiUrl);
        }
        long deadline = clock.nanoTime() + timeout.toNanos();
        FailsafeAnswer last = null;
        for (int attempt = 0; attempt < 2; attempt++) {
            long left = deadline - clock.nanoTime();
            if (left < TimeUnit.MILLISECONDS.toNanos(50)) {
                break;
            }
            HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofNanos(left))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(bodyJson));
            authorization.ifPresent(a -> b.header("Authorization", a));
            try {
                HttpResponse<String> r = http().sendAsync(b.build(), HttpResponse.BodyHandlers.ofString())
                        .get(left, TimeUnit.NANOSECONDS);
                return answer(r.statusCode(), r.body(), r.headers().firstValue("lsn").orElse(null));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return FailsafeAnswer.refused("interrupted");
            } catch (java.util.concurrent.TimeoutException e) {
                return FailsafeAnswer.refused("no answer within " + timeout.toMillis() + " ms");
            } catch (Exception e) {
                last = FailsafeAnswer.refused("no answer: " + (e.getCause() == null ? e : e.getCause()));
            }
        }
        return last == null ? FailsafeAnswer.refused("no answer within " + timeout.toMillis() + " ms") : last;
    }

    /** Every member at once, on the client's own threads: a round takes one timeout (and one retry) at most. */
    @Override
    public Map<String, FailsafeAnswer> postFailsafe(Map<String, String> apiUrls, String bodyJson, Duration timeout) {
        Map<String, CompletableFuture<FailsafeAnswer>> futures = new HashMap<>();
        apiUrls.forEach((name, url) -> futures.put(name,
                CompletableFuture.supplyAsync(() -> postFailsafe(url, bodyJson, timeout), ROUND)));
        Map<String, FailsafeAnswer> out = new HashMap<>();
        long deadline = clock.nanoTime() + timeout.toNanos() + TimeUnit.MILLISECONDS.toNanos(200);
        futures.forEach((name, f) -> {
            try {
                out.put(name, f.get(Math.max(1, deadline - clock.nanoTime()), TimeUnit.NANOSECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                out.put(name, FailsafeAnswer.refused("interrupted"));
            } catch (Exception e) {
                f.cancel(true);
                out.put(name, FailsafeAnswer.refused("no answer in time"));
            }
        });
        return out;
    }

    /** A POST /failsafe answer read as Patroni reads it: 200 and exactly "Accepted", else a refusal. */
    static FailsafeAnswer answer(int status, String body, String lsnHeader) {
        if (status != 200 || !"Accepted".equals(body)) {
            String said = body == null ? "" : body.length() > 200 ? body.substring(0, 200) : body;
            return FailsafeAnswer.refused("HTTP " + status + " " + said.strip());
        }
        OptionalLong lsn = OptionalLong.empty();
        if (lsnHeader != null) {
            try {
                lsn = OptionalLong.of(Long.parseLong(lsnHeader.trim()));
            } catch (NumberFormatException e) {
                // an lsn header that is no number is ignored; the member accepted all the same
            }
        }
        return FailsafeAnswer.accepted(lsn);
    }

    private CompletableFuture<PeerStatus> fetchOne(Member m) {
        if (m.apiUrl() == null) {
            return CompletableFuture.completedFuture(PeerStatus.unreachable(m.name()));
        }
        HttpRequest req;
        try {
            req = HttpRequest.newBuilder(URI.create(m.apiUrl())).timeout(timeout).GET().build();
        } catch (IllegalArgumentException e) {
            return CompletableFuture.completedFuture(PeerStatus.unreachable(m.name()));
        }
        return http().sendAsync(req, HttpResponse.BodyHandlers.ofString())
                .thenApply(r -> parse(m.name(), r.statusCode(), r.body()))
                .exceptionally(e -> PeerStatus.unreachable(m.name()));
    }

    /**
     * Patroni's reading of a peer (ha.py _MemberStatus.from_api_response). Only HTTP 200 is a member's answer (a
     * Patroni or pgkeel member answers {@code GET /patroni} with 200 whatever its state); anything else, a proxy's
     * error or a refusal, counts as no answer, as a body that is not a JSON object does.
     */
    static PeerStatus parse(String name, int status, String body) {
        if (status != 200) {
            return PeerStatus.unreachable(name);
        }
        try {
            JsonNode n = JSON.readTree(body);
            if (n == null || !n.isObject()) {
                return PeerStatus.unreachable(name);
            }
            JsonNode xlog = n.path("xlog");
            boolean inRecovery = !(xlog.has("location") || "primary".equals(n.path("role").asText()));
            long wal = inRecovery ? Math.max(xlog.path("received_location").asLong(0), xlog.path("replayed_location").asLong(0))
                    : xlog.path("location").asLong(0);
            Map<String, Object> tags = new HashMap<>();
            n.path("tags").fields().forEachRemaining(e -> tags.put(e.getKey(),
                    e.getValue().isNumber() ? e.getValue().numberValue() : e.getValue().isBoolean()
                            ? e.getValue().asBoolean() : e.getValue().asText()));
            return new PeerStatus(name, true, "running".equals(n.path("state").asText()), inRecovery, wal,
                    n.path("timeline").asInt(0), Tags.nofailover(tags), Tags.failoverPriority(tags),
                    n.hasNonNull("replication_state") ? n.get("replication_state").asText() : null,
                    n.path("failsafe_mode_is_active").asBoolean(false), n.path("pause").asBoolean(false));
        } catch (Exception e) {
            return PeerStatus.unreachable(name);
        }
    }
}
