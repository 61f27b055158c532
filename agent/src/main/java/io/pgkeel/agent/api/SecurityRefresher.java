package io.pgkeel.agent.api;

import io.netty.handler.ssl.SslContext;
import io.pgkeel.agent.ha.NodeSnapshot;
import io.pgkeel.agent.tls.RestApiTls;
import io.pgkeel.common.Clock;
import io.pgkeel.common.cluster.Member;
import io.pgkeel.config.PgkeelConfig;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the REST API's {@link RestSecurity} current, off the Netty event loop: resolves the host names of
 * {@code restapi.allowlist} (Patroni's {@code _build_allowlist}, at each reload) and, with
 * {@code allowlist_include_members}, the hosts of the members' api_url from the last cluster view (Patroni's
 * {@code __members_ips}, which resolves them at every request); and applies a new {@code restapi} section on SIGHUP
 * (Patroni's {@code reload_config}): credentials, allowlist, verify_client, extra headers, and the certificate, key and
 * CA files re-read, so new connections use the new certificate.
 *
 * <p>Resolution runs on its own thread ({@code rest-allowlist}), looking every {@link #PERIOD}: when the member hosts
 * changed, and at least every {@link #RERESOLVE} (DNS answers change); and on the caller's thread at start and at
 * each reload. A name that does not resolve is logged once per streak and allows nobody (Patroni drops it, and an
 * allowlist left empty opens the API; pgkeel keeps it closed). Thread-safe: {@link #refresh} and
 * {@link #reconfigure} are serialised on this object, and the result is published whole through an
 * {@link AtomicReference}.
 */
final class SecurityRefresher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SecurityRefresher.class);

    /** How often the member hosts are compared with those last resolved. */
    static final Duration PERIOD = Duration.ofSeconds(1);
    /** How often everything is resolved again even when nothing changed. */
    static final Duration RERESOLVE = Duration.ofSeconds(30);

    /** Host name to addresses: the system's resolver in production, a table in tests. */
    interface Resolver {
        List<InetAddress> resolve(String host) throws UnknownHostException;

        Resolver SYSTEM = host -> List.of(InetAddress.getAllByName(host));
    }

    private final Supplier<NodeSnapshot> snapshot;
    private final Resolver dns;
    private final Clock clock;
    private final AtomicReference<RestSecurity> current = new AtomicReference<>();
    /**
     * Paces the looks in real time whatever the clock (a FakeClock's sleep returns at once and would spin); the
     * clock only says when a resolution is stale.
     */
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "rest-allowlist");
        t.setDaemon(true);
        return t;
    });

    /** Guarded by this. */
    private PgkeelConfig.RestApi settings;
    /** Guarded by this: the TLS context in use (kept when a reload's files cannot be used). */
    private SslContext ssl;
    /** Guarded by this: the member hosts last resolved, and when. */
    private Set<String> resolvedMemberHosts = Set.of();
    private long resolvedAtNanos;
    /** Guarded by this: the names that did not resolve at the last attempt (logged once per streak). */
    private final Set<String> unresolved = new HashSet<>();

    /**
     * Resolves once before returning, so the first request already sees the allowlist.
     *
     * @throws IllegalArgumentException when the TLS files cannot be used (at start this stops the agent)
     */
    SecurityRefresher(PgkeelConfig.RestApi settings, Supplier<NodeSnapshot> snapshot, Resolver dns, Clock clock) {
        this.snapshot = snapshot;
        this.dns = dns;
        this.clock = clock;
        this.settings = settings;
        this.ssl = settings.tls().map(RestApiTls::server).orElse(null);
        refresh();
    }

    void start() {
        timer.scheduleWithFixedDelay(this::look, PERIOD.toMillis(), PERIOD.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** What requests are checked against now; read by the handler on the event loop (never blocks). */
    RestSecurity current() {
        return current.get();
    }

    private void look() {
        try {
            refreshIfStale();
        } catch (RuntimeException e) {
            log.error("refreshing the REST API allowlist failed, please report it as a BUG", e);
        }
    }

    /** Resolves again when the member hosts changed or {@link #RERESOLVE} passed. */
    synchronized void refreshIfStale() {
        if (!memberHosts().equals(resolvedMemberHosts)
                || clock.nanoTime() - resolvedAtNanos >= RERESOLVE.toNanos()) {
            refresh();
        }
    }

    /** Resolves every name now and publishes the result. */
    synchronized void refresh() {
        Set<String> hosts = memberHosts();
        List<AccessPolicy.Network> allowlist = new ArrayList<>();
        for (String entry : settings.allowlist()) {
            if (entry.contains("/") || AccessPolicy.isAddressLiteral(entry)) {
                allowlist.add(AccessPolicy.literal(entry));
            } else {
                resolve(entry, "restapi.allowlist").forEach(a -> allowlist.add(AccessPolicy.Network.of(a)));
            }
        }
        List<AccessPolicy.Network> members = new ArrayList<>();
        for (String host : hosts) {
            resolve(host, "a member's api_url").forEach(a -> members.add(AccessPolicy.Network.of(a)));
        }
        boolean certRequired = settings.tls().map(t -> !t.verifyClient().equals("none")).orElse(false);
        current.set(new RestSecurity(new AccessPolicy(settings.authentication(), !settings.allowlist().isEmpty(),
                allowlist,
                settings.allowlistIncludeMembers(), members, certRequired), settings.extraHeaders(), ssl));
        resolvedMemberHosts = hosts;
        resolvedAtNanos = clock.nanoTime();
    }

    /**
     * Applies a new {@code restapi} section (SIGHUP) and answers what it could not apply, each named by its key: TLS
     * switched on or off changes the scheme of this member's api_url, which the other members learn only when
     * pgkeel restarts; certificate files that cannot be used keep the ones in use.
     */
    synchronized List<String> reconfigure(PgkeelConfig.RestApi fresh) {
        List<String> notApplied = new ArrayList<>();
        Optional<PgkeelConfig.Tls> tls = fresh.tls();
        if (fresh.tls().isPresent() != settings.tls().isPresent()) {
            notApplied.add("restapi.certfile (TLS switched " + (fresh.tls().isPresent() ? "on" : "off") + ")");
            tls = settings.tls();
        } else if (fresh.tls().isPresent()) {
            try {
                // read again even when the paths are the same: the files may hold a renewed certificate
                ssl = RestApiTls.server(fresh.tls().get());
            } catch (IllegalArgumentException e) {
                log.error("SIGHUP: keeping the REST API certificate in use: {}", e.getMessage());
                notApplied.add("restapi.certfile/keyfile/cafile (" + e.getMessage() + ")");
                tls = settings.tls();
            }
        }
        settings = new PgkeelConfig.RestApi(settings.listen(), settings.connectAddress(), fresh.authentication(),
                fresh.allowlist(), tls, fresh.allowlistIncludeMembers(), fresh.httpExtraHeaders(),
                fresh.httpsExtraHeaders());
        unresolved.clear();
        refresh();
        return notApplied;
    }

    /** The settings in force (what SIGHUP applied). */
    synchronized PgkeelConfig.RestApi settings() {
        return settings;
    }

    /** The hosts of the members' api_url in the last cluster view, when allowlist_include_members asks for them. */
    private Set<String> memberHosts() {
        NodeSnapshot s = snapshot.get();
        if (!settings.allowlistIncludeMembers() || s == null || s.cluster() == null) {
            return Set.of();
        }
        Set<String> hosts = new LinkedHashSet<>();
        for (Member m : s.cluster().members()) {
            if (m.apiUrl() == null) {
                continue;
            }
            try {
                String host = URI.create(m.apiUrl()).getHost();
                if (host != null) {
                    hosts.add(host.startsWith("[") ? host.substring(1, host.length() - 1) : host);
                }
            } catch (IllegalArgumentException e) {
                log.debug("member {}: api_url {} is not a URL", m.name(), m.apiUrl());
            }
        }
        return hosts;
    }

    private List<InetAddress> resolve(String host, String what) {
        try {
            List<InetAddress> found = dns.resolve(host);
            if (unresolved.remove(host)) {
                log.info("{} {} resolves again", what, host);
            }
            return found;
        } catch (UnknownHostException | RuntimeException e) {
            if (unresolved.add(host)) {
                log.error("Failed to resolve {} ({}): it allows no client until it resolves: {}", host, what,
                        e.toString());
            }
            return List.of();
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }

    /** What a request is checked against and answered with; replaced whole. */
    record RestSecurity(AccessPolicy access, Map<String, String> extraHeaders, SslContext ssl) {
        RestSecurity {
            Objects.requireNonNull(access);
            extraHeaders = Collections.unmodifiableMap(new LinkedHashMap<>(extraHeaders));
        }
    }
}
