package io.pgkeel.agent.ha;

import io.pgkeel.common.Clock;
import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.DcsView;
import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.cluster.DynamicConfigParser;
import io.pgkeel.common.cluster.Member;
import io.pgkeel.common.cluster.PermanentSlots;
import io.pgkeel.common.dcs.Dcs;
import io.pgkeel.common.dcs.DcsException;
import io.pgkeel.common.dcs.LeaseRenewal;
import io.pgkeel.common.peer.PeerClient;
import io.pgkeel.common.peer.PeerStatus;
import io.pgkeel.common.pg.LocalPostgres;
import io.pgkeel.common.pg.PgStatus;
import io.pgkeel.config.PatroniKeys;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gathers one cycle's {@link Observation} as {@link ObservationPlan} says: lease renewal, one linearizable read of
 * the cluster, a probe of PostgreSQL, and the other members' answers when the decision weighs them. Every failure
 * becomes data ({@code DcsView.unreachable}), so nothing acts on a half-read view. Loop thread only.
 */
final class Observer {
    private static final Logger log = LoggerFactory.getLogger(Observer.class);

    private final Dcs dcs;
    private final LocalPostgres pg;
    private final PeerClient peerClient;
    private final Clock clock;
    private final HaListener listener;
    private final FailsafePromise failsafe;

    Observer(Dcs dcs, LocalPostgres pg, PeerClient peerClient, Clock clock, HaListener listener,
             FailsafePromise failsafe) {
        this.dcs = dcs;
        this.pg = pg;
        this.peerClient = peerClient;
        this.clock = clock;
        this.listener = listener;
        this.failsafe = failsafe;
    }

    /** A lease renewal's result: the lease as it stands, and the DCS failure that stopped it (null on success). */
    private record Renewal(LeaseStatus lease, DcsView failure) {}

    Observation observe(NodeMemory memory, NodeIdentity identity, Optional<OperatorRequest> request) {
        String me = identity.name();
        LeaseStatus lease = memory.lease().notRenewed();
        DcsView view = null;
        boolean renewed = false;
        if (ObservationPlan.renewFirst(memory, me, clock.nanoTime())) {
            Renewal r = renew(lease, memory.dynamic().ttl());
            lease = r.lease();
            view = r.failure();
            renewed = view == null;
        }
        ClusterView read = null;
        Instant wall = clock.now();
        if (view == null) {
            try {
                read = dcs.read();
                view = DcsView.reachable(read);
            } catch (DcsException e) {
                view = DcsView.unreachable(e.getMessage());
            }
        }
        DynamicConfig dynamic = memory.dynamic();
        if (read != null && read.config().isPresent()) {
            dynamic = read.config().get();
            configRead(memory, dynamic, "<namespace>/" + identity.scope() + "/config");
        }
        if (!renewed && view.isReachable() && ObservationPlan.renewBeforeDeciding(view.cluster(), me)) {
            Renewal r = renew(lease, dynamic.ttl());
            lease = r.lease();
            if (r.failure() != null) {
                view = r.failure();
            }
        }
        PgStatus status = pg.probe();
        NodeSettings self = NodeSettings.of(identity, dynamic);
        List<PeerStatus> peers = List.of();
        Map<String, Long> receivedLsn = Map.of();
        if (view.isReachable()) {
            ClusterView c = view.cluster();
            peers = switch (ObservationPlan.peers(memory, c, status, self, wall)) {
                case NONE -> List.of();
                case STATUS -> fetchPeers(c, pausedLeaderGone(c, memory, me), me, false);
                case STATUS_WITH_LIVE_WAL -> fetchPeers(c, List.of(), me, true);
            };
            // a switchover's candidates are asked how far they received; quorum voters only on my timeline
            int timeline = status.timeline();
            Function<Member, OptionalLong> ask = Switchovers.isHandingOver(memory, c, status, me) ? pg::receivedLsnOf
                    : m -> pg.receivedLsnOnTimeline(m, timeline);
            receivedLsn = receivedLsn(c, ObservationPlan.receivedLsnToAsk(memory, c, status, self), ask);
        }
        long now = clock.nanoTime();
        NodeMemory seen = memory.observed(read, view, status, lease, me, now, wall.getEpochSecond());
        return new Observation(view, status, peers, receivedLsn, self, now, wall, request, seen, failsafe.active());
    }

    /** PostgreSQL again, after an action that may have changed it. */
    PgStatus probe() {
        return pg.probe();
    }

    /**
     * A config key read: the etcd call bound follows ttl and retry_timeout; ignored settings, adjusted timing and
     * unsupported slots are named once per revision, a safety setting pgkeel cannot honour every cycle.
     */
    private void configRead(NodeMemory memory, DynamicConfig cfg, String configKey) {
        if (cfg.retryTimeout() != memory.dynamic().retryTimeout() || cfg.ttl() != memory.dynamic().ttl()) {
            dcs.callTimeout(NodeSettings.callTimeoutFor(cfg));
        }
        PatroniKeys.checkDynamic(cfg.raw(), "DCS config key " + configKey).stream()
                .filter(f -> f.verdict() == PatroniKeys.Verdict.REFUSED)
                .forEach(f -> log.error("{}; no replica of this cluster promotes itself while it is set", f.sentence()));
        if (cfg.modRevision() != memory.logicalSlotsConfigRevision()) {
            PatroniKeys.checkDynamic(cfg.raw(), "DCS config key " + configKey).stream()
                    .filter(f -> f.verdict() != PatroniKeys.Verdict.REFUSED)
                    .forEach(f -> log.warn("{}", f.sentence()));
            DynamicConfigParser.timing(cfg.raw(), "DCS config key " + configKey, new ArrayList<>()).adjustments()
                    .forEach(a -> log.warn("DCS config key {}: {}", configKey, a));
            Set<String> logical = PermanentSlots.logical(cfg.raw());
            if (!logical.isEmpty()) {
                log.warn("config.permanent_slots: logical slots are not supported yet; not keeping {}",
                        new TreeSet<>(logical));
            }
        }
    }

    /** One lease refresh. */
    private Renewal renew(LeaseStatus before, int ttlSeconds) {
        try {
            LeaseRenewal r = dcs.keepAlive(ttlSeconds);
            listener.leaseRenewed(clock.nanoTime() - r.sentAtNanos());
            return new Renewal(new LeaseStatus(r.leaseId(), r.sentAtNanos() + TimeUnit.SECONDS.toNanos(r.ttlSeconds()),
                    true), null);
        } catch (DcsException e) {
            return new Renewal(before.notRenewed(), DcsView.unreachable(e.getMessage()));
        }
    }

    /**
     * The paused leader at its last known api_url, when its member key has lapsed and it is to be asked: its agent may
     * be alive and cut from etcd only, and its answer decides whether I may race (PausedPolicy).
     */
    private static List<Member> pausedLeaderGone(ClusterView c, NodeMemory memory, String me) {
        NodeMemory.PausedLeader p = memory.pausedLeader();
        if (p == null || p.apiUrl() == null || c.member(p.name()).isPresent()
                || !ObservationPlan.awaitsPausedLeader(memory, c, me)) {
            return List.of();
        }
        return List.of(new Member(p.name(), null, p.apiUrl(), null, null, 0, 0, null, Map.of(), 0));
    }

    /** @param extra asked too, though etcd has no member key of theirs */
    private List<PeerStatus> fetchPeers(ClusterView c, List<Member> extra, String me, boolean liveWal) {
        List<Member> others = java.util.stream.Stream.concat(c.members().stream(), extra.stream())
                .filter(m -> !m.name().equals(me)).toList();
        if (others.isEmpty()) {
            return List.of();
        }
        List<PeerStatus> fetched = peerClient.fetch(others);
        if (!liveWal) {
            return fetched;
        }
        List<PeerStatus> out = new ArrayList<>();
        for (PeerStatus p : fetched) {
            Optional<Member> m = c.member(p.name());
            OptionalLong live = p.reachable() && p.inRecovery() && m.isPresent() && m.get().connUrl() != null
                    ? pg.receivedLsnOf(m.get()) : OptionalLong.empty();
            out.add(live.isPresent() ? p.withWalPosition(live.getAsLong()) : p);
        }
        return out;
    }

    /** Each named member's answer to {@code ask}, live; a member that cannot be asked is missing. */
    private Map<String, Long> receivedLsn(ClusterView c, List<String> names, Function<Member, OptionalLong> ask) {
        Map<String, Long> out = new HashMap<>();
        for (String name : names) {
            c.member(name).ifPresent(m -> ask.apply(m).ifPresent(lsn -> out.put(name, lsn)));
        }
        return out;
    }
}
