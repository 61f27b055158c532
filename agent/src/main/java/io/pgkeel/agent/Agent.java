package io.pgkeel.agent;

import io.pgkeel.agent.api.HttpPeerClient;
import io.pgkeel.agent.api.RestApiServer;
import io.pgkeel.agent.ha.HaLoop;
import io.pgkeel.agent.ha.HaNode;
import io.pgkeel.agent.ha.NodeIdentity;
import io.pgkeel.agent.ha.NodeSnapshot;
import io.pgkeel.agent.pg.PostgresController;
import io.pgkeel.common.Clock;
import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.dcs.Dcs;
import io.pgkeel.config.HostPort;
import io.pgkeel.config.PgkeelConfig;
import io.pgkeel.dcs.EtcdDcsFactory;
import io.pgkeel.dcs.EtcdSettings;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The daemon: wires config, etcd, PostgreSQL, the HA loop and the REST API, and stops them in order. */
final class Agent {
    private static final Logger log = LoggerFactory.getLogger(Agent.class);

    private final RestApiServer api;
    private final HaLoop loop;
    private final Dcs dcs;

    private Agent(RestApiServer api, HaLoop loop, Dcs dcs) {
        this.api = api;
        this.loop = loop;
        this.dcs = dcs;
    }

    static Agent start(PgkeelConfig config) {
        Clock clock = Clock.system();
        DynamicConfig boot = config.bootstrapDynamic();
        // every etcd request is bounded: a quarter of the ttl, at least 1 s, at most retry_timeout
        Duration callTimeout = Duration.ofMillis(Math.max(1000, Math.min(boot.retryTimeout() * 1000L, boot.ttl() * 250L)));
        Dcs dcs = EtcdDcsFactory.connect(new EtcdSettings(
                config.etcd().hosts().stream().map(h -> "http://" + h).toList(), config.clusterPrefix(), config.name(),
                callTimeout, Version.PGKEEL, clock));
        AtomicReference<NodeSnapshot> snapshot = new AtomicReference<>();
        AtomicReference<DynamicConfig> dynamic = new AtomicReference<>(boot);
        PostgresController pg = new PostgresController(config, dynamic::get);
        HostPort pgAddress = config.postgresql().connectAddress();
        NodeIdentity identity = new NodeIdentity(config.scope(), config.name(), config.tags(), config.bootstrapDcs(),
                boot, config.postgresql().usePgRewind(), "postgres://" + pgAddress + "/postgres",
                config.restapi().apiUrl(), Version.PGKEEL);
        HaNode node = new HaNode(identity, dcs, pg, new HttpPeerClient(Duration.ofSeconds(2)), clock, s -> {
            snapshot.set(s);
            dynamic.set(s.cluster() != null && s.cluster().config().isPresent() ? s.cluster().config().get() : boot);
        });
        HostPort listen = config.restapi().listen();
        RestApiServer api = RestApiServer.start(listen.host(), listen.port(), snapshot::get, clock);
        HaLoop loop = new HaLoop(node);
        dcs.watch(loop::wakeup);
        loop.start();
        log.info("pgkeel {} started: member {} of cluster {}, REST API on {}", Version.PGKEEL, config.name(),
                config.scope(), listen);
        return new Agent(api, loop, dcs);
    }

    /** Clean stop: the loop finishes its cycle, PostgreSQL stops with a checkpoint, the leader key is released. */
    void stop() {
        log.info("stopping pgkeel");
        loop.stop();
        api.close();
        log.info("pgkeel stopped");
    }
}
