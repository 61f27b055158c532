package io.pgkeel.agent.api;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgkeel.agent.ha.HaListener;
import io.pgkeel.agent.ha.NodeSnapshot;
import io.pgkeel.common.cluster.Tags;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.ChronoField;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * {@code GET /metrics}: Patroni's metric names and {@code {scope, name}} labels (so its dashboards keep working),
 * read from the published snapshot at scrape time, plus pgkeel's own loop metrics. The only Micrometer user.
 */
public final class Metrics implements HaListener {
    private static final DateTimeFormatter PG_TIMESTAMP = new DateTimeFormatterBuilder()
            .appendPattern("yyyy-MM-dd HH:mm:ss").optionalStart().appendFraction(ChronoField.NANO_OF_SECOND, 1, 9, true)
            .optionalEnd().appendPattern("XXX").toFormatter();

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Supplier<NodeSnapshot> snapshot;
    private final Timer cycleTimer;
    private final Timer leaseTimer;
    private final Timer promoteTimer;
    private final ConcurrentHashMap<String, Counter> decisions = new ConcurrentHashMap<>();

    public Metrics(String scope, String name, String version, Supplier<NodeSnapshot> snapshot) {
        this.snapshot = snapshot;
        registry.config().commonTags("scope", scope, "name", name);
        gauge("patroni.version", "Patroni-compatible agent version without periods (pgkeel's own version).",
                s -> paddedVersion(version));
        gauge("patroni.postgres.running", "Value is 1 if Postgres is running, 0 otherwise.",
                s -> bit(s.pg().isRunning()));
        gauge("patroni.postmaster.start.time", "Epoch seconds since Postgres started.",
                s -> epochSeconds(s.pg().postmasterStartTime()));
        gauge("patroni.primary", "Value is 1 if this node is the leader, 0 otherwise.",
                s -> bit(HealthRoutes.leads(s) && s.pg().isRunningPrimary()));
        gauge("patroni.xlog.location", "Current location of the Postgres transaction log, 0 if not the leader.",
                s -> s.pg().isRunningPrimary() ? s.pg().walPosition() : 0);
        gauge("patroni.standby.leader", "Value is 1 if this node is the standby_leader, 0 otherwise.",
                s -> bit("standby_leader".equals(s.role())));
        gauge("patroni.replica", "Value is 1 if this node is a replica, 0 otherwise.",
                s -> bit(s.pg().isRunningReplica()));
        gauge("patroni.sync.standby", "Value is 1 if this node is a sync standby, 0 otherwise.",
                s -> bit(StatusJson.isSyncStandby(s)));
        gauge("patroni.quorum.standby", "Value is 1 if this node is a quorum standby, 0 otherwise.",
                s -> bit(StatusJson.isQuorumStandby(s)));
        gauge("patroni.xlog.received.location", "Current location of the received transaction log, 0 if not a replica.",
                s -> s.pg().isRunningReplica() ? s.pg().receiveLsn() : 0);
        gauge("patroni.xlog.replayed.location", "Current location of the replayed transaction log, 0 if not a replica.",
                s -> s.pg().isRunningReplica() ? s.pg().replayLsn() : 0);
        gauge("patroni.xlog.replayed.timestamp", "Timestamp of the replayed transaction log, 0 if unknown.",
                s -> s.pg().isRunningReplica() ? epochSeconds(s.pg().detail().replayedTimestamp()) : 0);
        gauge("patroni.xlog.paused", "Value is 1 if the Postgres xlog replay is paused, 0 otherwise.",
                s -> bit(s.pg().isRunningReplica() && s.pg().detail().replayPaused()));
        gauge("patroni.postgres.streaming", "Value is 1 if Postgres is streaming, 0 otherwise.",
                s -> bit("streaming".equals(s.pg().replicationState())));
        gauge("patroni.postgres.in.archive.recovery", "Value is 1 if Postgres is replicating from archive, 0 otherwise.",
                s -> bit("in archive recovery".equals(s.pg().replicationState())));
        gauge("patroni.postgres.server.version", "Version of Postgres (if running), 0 otherwise.",
                s -> s.pg().serverVersion());
        gauge("patroni.cluster.unlocked", "Value is 1 if the cluster is unlocked, 0 if locked.",
                s -> bit(StatusJson.isClusterUnlocked(s)));
        gauge("patroni.failsafe.mode.is.active", "Value is 1 if failsafe mode is active, 0 if inactive.",
                s -> bit(StatusJson.isFailsafeActive(s)));
        gauge("patroni.failsafe.mode.enabled", "Value is 1 if failsafe_mode is enabled, 0 otherwise.",
                s -> bit(StatusJson.isFailsafeModeEnabled(s)));
        gauge("patroni.failsafe.member", "Value is 1 if this node is a member of failsafe, 0 otherwise.",
                s -> bit(StatusJson.isFailsafeMember(s)));
        gauge("patroni.postgres.timeline", "Postgres timeline of this node (if running), 0 otherwise.",
                s -> s.pg().isRunning() ? s.pg().timeline() : 0);
        gauge("patroni.dcs.last.seen", "Epoch timestamp when DCS was last contacted successfully.",
                NodeSnapshot::dcsLastSeenEpochSeconds);
        gauge("patroni.pending.restart", "Value is 1 if the node needs a restart, 0 otherwise.",
                s -> bit(s.pg().pendingRestart()));
        gauge("patroni.is.paused", "Value is 1 if auto failover is disabled, 0 otherwise.",
                s -> bit(StatusJson.isPaused(s)));
        gauge("patroni.postgres.state", "Numeric representation of Postgres state (Patroni's codes: 5=running,"
                + " 6=starting, 12=stopped).", s -> s.pg().initialized() ? s.pg().runState().patroniIndex() : 12);
        // Patroni's _priority_tag: a true nofailover wins, else failover_priority as set (default 1)
        gauge("patroni.failover.priority", "Failover priority of this node (0 with nofailover).",
                s -> Tags.truthy(s.identity().tags().get("nofailover")) ? 0
                        : Tags.failoverPriority(s.identity().tags()));
        cycleTimer = Timer.builder("pgkeel.ha.cycle").description("Duration of one HA cycle (observe, decide, act).")
                .register(registry);
        leaseTimer = Timer.builder("pgkeel.lease.renew").description("Latency of a successful lease refresh.")
                .register(registry);
        promoteTimer = Timer.builder("pgkeel.promote").description("From the deciding cycle's start to a promoted"
                + " PostgreSQL.").register(registry);
    }

    private void gauge(String name, String help, ToDoubleFunction<NodeSnapshot> value) {
        Gauge.builder(name, snapshot, sup -> {
            NodeSnapshot s = sup.get();
            return s == null ? 0 : value.applyAsDouble(s);
        }).description(help).register(registry);
    }

    /** The Prometheus text exposition. Reads only the snapshot: no I/O. */
    public String scrape() {
        return registry.scrape();
    }

    @Override
    public void cycle(String action, long nanos) {
        cycleTimer.record(nanos, TimeUnit.NANOSECONDS);
        decisions.computeIfAbsent(action, a -> Counter.builder("pgkeel.ha.decisions")
                .description("HA cycles by the action decided.").tag("action", a).register(registry)).increment();
    }

    @Override
    public void leaseRenewed(long nanos) {
        leaseTimer.record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void promoted(long nanos) {
        promoteTimer.record(nanos, TimeUnit.NANOSECONDS);
    }

    private static double bit(boolean b) {
        return b ? 1 : 0;
    }

    /** Patroni's padding: 3.0.2 -> 030002 (printed as the number 30002). */
    static double paddedVersion(String version) {
        StringBuilder sb = new StringBuilder();
        for (String part : version.split("\\.")) {
            String digits = part.replaceAll("\\D.*", "");
            sb.append(String.format("%2s", digits.isEmpty() ? "0" : digits).replace(' ', '0'));
        }
        return Double.parseDouble(sb.toString());
    }

    static double epochSeconds(String pgTimestamp) {
        if (pgTimestamp == null) {
            return 0;
        }
        // PostgreSQL prints "+00", Patroni (Python) "+00:00": accept both
        String text = pgTimestamp.matches(".*[+-]\\d\\d") ? pgTimestamp + ":00" : pgTimestamp;
        try {
            OffsetDateTime t = OffsetDateTime.parse(text, PG_TIMESTAMP);
            return t.toEpochSecond() + t.getNano() / 1e9;
        } catch (RuntimeException e) {
            return 0;
        }
    }
}
