package io.pgkeel.agent;

import io.pgkeel.agent.api.AdminActions;
import io.pgkeel.agent.api.HttpPeerClient;
import io.pgkeel.config.ConfigException;
import io.pgkeel.config.ConfigLoader;
import io.pgkeel.agent.api.Metrics;
import io.pgkeel.agent.api.RestApiServer;
import io.pgkeel.agent.ha.AgentFile;
import io.pgkeel.agent.ha.HaLoop;
import io.pgkeel.agent.ha.HaNode;
import io.pgkeel.agent.ha.HealthRefresher;
import io.pgkeel.agent.ha.NodeIdentity;
import io.pgkeel.agent.ha.NodeSettings;
import io.pgkeel.agent.ha.NodeSnapshot;
import io.pgkeel.agent.pg.FenceGuard;
import io.pgkeel.agent.pg.PostgresController;
import io.pgkeel.common.Clock;
import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.dcs.Dcs;
import io.pgkeel.config.HostPort;
import io.pgkeel.config.PgkeelConfig;
import io.pgkeel.dcs.EtcdDcsFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The daemon: wires config, etcd, PostgreSQL, the HA loop and the REST API, and stops them in order. */
final class Agent {
    private static final Logger log = LoggerFactory.getLogger(Agent.class);

    private final RestApiServer api;
    private final HaLoop loop;
    private final HaNode node;
    private final PostgresController pg;
    private final FenceGuard guard;
    private final HealthRefresher refresher;
    /** The clients of the other members' REST APIs: SIGHUP gives them the new certificate and credentials. */
    private final List<HttpPeerClient> peerClients;
    private volatile PgkeelConfig config;

    private Agent(RestApiServer api, HaLoop loop, HaNode node, PostgresController pg, FenceGuard guard,
            HealthRefresher refresher, List<HttpPeerClient> peerClients, PgkeelConfig config) {
        this.api = api;
        this.peerClients = List.copyOf(peerClients);
        this.loop = loop;
        this.node = node;
        this.pg = pg;
        this.guard = guard;
        this.refresher = refresher;
        this.config = config;
    }

    static Agent start(PgkeelConfig config) {
        Clock clock = Clock.system();
        DynamicConfig boot = config.bootstrapDynamic();
        Duration callTimeout = NodeSettings.callTimeoutFor(boot);
        Dcs dcs = EtcdDcsFactory.connect(EtcdClientSettings.of(config, config.name(), callTimeout, Version.PGKEEL,
                clock));
        var peerTls = io.pgkeel.agent.tls.RestApiTls.peer(config.restapi().tls());
        HttpPeerClient liveness = new HttpPeerClient(StartChecks.LIVENESS_TIMEOUT, clock, peerTls);
        Optional<String> cannotStart = StartChecks.check(dcs, config.name(),
                m -> liveness.answersLiveness(m, StartChecks.LIVENESS_TIMEOUT),
                Duration.ofSeconds(Math.max(1, boot.retryTimeout())), clock);
        if (cannotStart.isEmpty()) {
            cannotStart = StartChecks.configKeyRefusal(dcs, config.clusterPrefix() + "config");
        }
        if (cannotStart.isPresent()) {
            dcs.close();
            throw new IllegalStateException(cannotStart.get());
        }
        AtomicReference<NodeSnapshot> snapshot = new AtomicReference<>();
        AtomicReference<DynamicConfig> dynamic = new AtomicReference<>(boot);
        PostgresController pg = new PostgresController(config, dynamic::get, clock);
        NodeIdentity identity = identity(config);
        Metrics metrics = new Metrics(config.scope(), config.name(), Version.PGKEEL, snapshot::get);
        // POST /failsafe carries Patroni's credentials for the REST API (ctl.authentication, else restapi's)
        HttpPeerClient peers = new HttpPeerClient(Duration.ofSeconds(2), clock, peerTls, config.ctlConnection()
                .authentication().map(c -> HttpPeerClient.basicAuthorization(c.username(), c.password())));
        AgentFile promises = AgentFile.besideDataDirectory(config.postgresql().dataDir(), AgentFile.FAILSAFE_PROMISE);
        promises.problem().ifPresent(p -> log.warn("failsafe_mode: {}", p));
        HaNode node = new HaNode(identity, dcs, pg, peers, clock, s -> {
            snapshot.set(s);
            dynamic.set(s.cluster() != null && s.cluster().config().isPresent() ? s.cluster().config().get() : boot);
        }, metrics, promises, AgentFile.besideDataDirectory(config.postgresql().dataDir(),
                AgentFile.PAUSED_LEADER));
        AtomicReference<Agent> current = new AtomicReference<>();
        io.pgkeel.agent.pg.CallbackRunner callbacks = new io.pgkeel.agent.pg.CallbackRunner(
                () -> current.get() == null ? config.postgresql().callbacks()
                        : current.get().config.postgresql().callbacks(), config.scope(), Duration.ofSeconds(60));
        node.setCallbacks(callbacks);
        HostPort listen = config.restapi().listen();
        HaLoop loop = new HaLoop(node, clock);
        FenceGuard guard = new FenceGuard(pg.pgCtl(), config.postgresql().dataDir(), clock, FenceGuard.GRACE_NANOS);
        node.onFenceChange(() -> guard.update(node.fenceDeadline()));
        guard.start();
        AtomicReference<Agent> self = new AtomicReference<>();
        HttpPeerClient candidates = new HttpPeerClient(Duration.ofSeconds(2), clock, peerTls);
        AdminActions admin = new AdminActions(dcs, snapshot::get, new AdminActions.Hooks(loop::wakeup,
                () -> self.get().reloadFromFile(), candidates, node.inbox(), clock, node.failsafe()));
        RestApiServer api = RestApiServer.start(config.restapi(), snapshot::get, clock, metrics, admin);
        dcs.watch(loop::wakeup);
        HealthRefresher refresher = new HealthRefresher(pg::postmaster, snapshot, loop::wakeup, clock);
        loop.start();
        refresher.start();
        log.info("pgkeel {} started: member {} of cluster {}, REST API on {}", Version.PGKEEL, config.name(),
                config.scope(), listen);
        Agent agent = new Agent(api, loop, node, pg, guard, refresher, List.of(peers, candidates), config);
        self.set(agent);
        current.set(agent);
        return agent;
    }

    /** POST /reload: re-read the file this agent started from, as SIGHUP does. */
    synchronized void reloadFromFile() {
        try {
            ConfigLoader.Loaded loaded = ConfigLoader.load(config.source());
            loaded.warnings().forEach(w -> log.warn("configuration: {}", w));
            reload(loaded.config());
        } catch (ConfigException e) {
            log.error("reload: keeping the running configuration: {}", e.getMessage());
        }
    }

    private static NodeIdentity identity(PgkeelConfig config) {
        return new NodeIdentity(config.scope(), config.name(), config.tags(), config.bootstrapDcs(),
                config.bootstrapDynamic(), new NodeIdentity.LocalOverrides(config.postgresql().usePgRewind(),
                        config.postgresql().removeDataDirectoryOnRewindFailure(),
                        config.postgresql().removeDataDirectoryOnDivergedTimelines()),
                config.postgresql().connUrl(),
                config.restapi().apiUrl(), Version.PGKEEL);
    }

    /**
     * SIGHUP: tags, PostgreSQL parameters, pg_hba and credentials apply at the next cycle; the REST API's
     * authentication, allowlist, verify_client, extra headers and certificate files at once; the settings read only
     * at start (names, addresses, etcd hosts, data directory, TLS switched on or off) are named in a warning.
     * Serialized: a SIGHUP and a POST /reload at once each compare against the configuration the other applied.
     */
    synchronized void reload(PgkeelConfig fresh) {
        PgkeelConfig old = config;
        List<String> needRestart = new ArrayList<>();
        compare(needRestart, "scope", old.scope(), fresh.scope());
        compare(needRestart, "namespace", old.namespace(), fresh.namespace());
        compare(needRestart, "name", old.name(), fresh.name());
        compare(needRestart, "restapi.listen", old.restapi().listen(), fresh.restapi().listen());
        compare(needRestart, "restapi.connect_address", old.restapi().connectAddress(),
                fresh.restapi().connectAddress());
        compare(needRestart, "etcd3.hosts", old.etcd().urls(), fresh.etcd().urls());
        compare(needRestart, "etcd3.cacert, cert, key",
                List.of(old.etcd().cacert(), old.etcd().cert(), old.etcd().key()),
                List.of(fresh.etcd().cacert(), fresh.etcd().cert(), fresh.etcd().key()));
        compare(needRestart, "etcd3.username, password", List.of(old.etcd().username(), old.etcd().password()),
                List.of(fresh.etcd().username(), fresh.etcd().password()));
        compare(needRestart, "postgresql.data_dir", old.postgresql().dataDir(), fresh.postgresql().dataDir());
        compare(needRestart, "postgresql.listen", old.postgresql().listenHosts() + ":" + old.postgresql().port(),
                fresh.postgresql().listenHosts() + ":" + fresh.postgresql().port());
        compare(needRestart, "postgresql.connect_address", old.postgresql().connectAddress(),
                fresh.postgresql().connectAddress());
        // authentication, allowlist, verify_client, extra headers and the certificate files apply now (Patroni's
        // RestApiServer.reload_config); what cannot is named with the rest
        needRestart.addAll(api.reconfigure(fresh.restapi()));
        if (!needRestart.isEmpty()) {
            log.warn("SIGHUP: {} changed; these apply only when pgkeel restarts", String.join(", ", needRestart));
        }
        // keep what is read only at start; take everything else from the new file
        PgkeelConfig applied = new PgkeelConfig(old.scope(), old.namespace(), old.name(), api.settings(), fresh.ctl(),
                old.etcd(), fresh.bootstrapDcs(), fresh.bootstrapDynamic(), fresh.initdbArgs(),
                new PgkeelConfig.Postgresql(
                        old.postgresql().listenHosts(), old.postgresql().port(), old.postgresql().connectAddress(),
                        old.postgresql().dataDir(), fresh.postgresql().binDir(), fresh.postgresql().pgpass(),
                        fresh.postgresql().superuser(), fresh.postgresql().replication(), fresh.postgresql().rewind(),
                        fresh.postgresql().parameters(), fresh.postgresql().pgHba(), fresh.postgresql().usePgRewind(),
                        fresh.postgresql().callbacks(), fresh.postgresql().removeDataDirectoryOnRewindFailure(),
                        fresh.postgresql().removeDataDirectoryOnDivergedTimelines(), fresh.postgresql().useUnixSocket(),
                        fresh.postgresql().useUnixSocketRepl()), fresh.tags(), fresh.source());
        reconfigurePeerClients(applied);
        config = applied;
        node.inbox().requestReload(identity(applied), () -> pg.reload(applied));
        loop.wakeup();
        log.info("SIGHUP: configuration re-read from {}; applying it at the next cycle", fresh.source());
    }

    /**
     * The calls to the other members present the REST API's certificate as it is now, and POST /failsafe sends the
     * credentials as they are now (Patroni's {@code PatroniRequest.reload_config}); files that cannot be used keep the
     * certificate in use.
     */
    private void reconfigurePeerClients(PgkeelConfig applied) {
        Optional<String> authorization = applied.ctlConnection().authentication()
                .map(c -> HttpPeerClient.basicAuthorization(c.username(), c.password()));
        try {
            var tls = io.pgkeel.agent.tls.RestApiTls.peer(applied.restapi().tls());
            peerClients.forEach(p -> p.reconfigure(tls, authorization));
        } catch (IllegalArgumentException e) {
            log.error("SIGHUP: calls to the other members keep the certificate in use: {}", e.getMessage());
        }
    }

    private static void compare(List<String> changed, String key, Object before, Object after) {
        if (!java.util.Objects.equals(before, after)) {
            changed.add(key);
        }
    }

    /** Clean stop: the loop finishes its cycle, PostgreSQL stops with a checkpoint, the leader key is released. */
    void stop() {
        log.info("stopping pgkeel");
        loop.stop();
        // after the loop: while the node's shutdown stops PostgreSQL, health answers already say so
        refresher.close();
        // after the node's shutdown disarmed the fence: the guard is told so, then to exit
        guard.close();
        api.close();
        log.info("pgkeel stopped");
    }
}
