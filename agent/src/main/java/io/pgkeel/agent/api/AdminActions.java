package io.pgkeel.agent.api;

import io.pgkeel.agent.ha.FailsafePromise;
import io.pgkeel.agent.ha.NodeSnapshot;
import io.pgkeel.agent.ha.OperatorChannel;
import io.pgkeel.agent.ha.OperatorRequest;
import io.pgkeel.agent.ha.RequestOutcome;
import io.pgkeel.agent.ha.RequestRefusal;
import io.pgkeel.common.Clock;
import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.ConfigPatch;
import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.cluster.FailoverKey;
import io.pgkeel.common.cluster.Member;
import io.pgkeel.common.cluster.ScheduledAt;
import io.pgkeel.common.cluster.SyncMode;
import io.pgkeel.common.dcs.Dcs;
import io.pgkeel.common.dcs.DcsException;
import io.pgkeel.common.peer.PeerClient;
import io.pgkeel.common.peer.PeerStatus;
import io.pgkeel.config.PatroniKeys;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The REST API's write operations. They call etcd, peers and the HA loop, so the handler runs them on its own
 * executor, never on the event loop. Each returns the HTTP status and body Patroni would (a String body is sent as
 * text, as Patroni does; anything else as JSON).
 */
public final class AdminActions {
    /**
     * An HTTP answer: status and a body (text when a String, Python's error page when a {@link SendError}, else
     * JSON), and warnings sent as {@code Warning} headers (the body keeps Patroni's shape).
     */
    public record Result(int status, Object body, List<String> warnings, Map<String, String> headers) {
        public Result {
            warnings = List.copyOf(warnings);
            headers = Map.copyOf(headers);
        }

        public Result(int status, Object body, List<String> warnings) {
            this(status, body, warnings, Map.of());
        }

        public Result(int status, Object body) {
            this(status, body, List.of());
        }

        /** Patroni's {@code send_error(status)}: the standard error page of Python's http.server, no text of ours. */
        static Result error(int status) {
            return new Result(status, new SendError(null));
        }
    }

    /** The body of Python's {@code send_error}, with {@code message} in place of the status's reason when set. */
    record SendError(String message) {}

    /**
     * What the write endpoints need from the rest of the agent.
     *
     * @param failsafe the promises POST /failsafe gives ({@link io.pgkeel.agent.ha.HaNode#failsafe()})
     */
    public record Hooks(Runnable wakeLoop, Runnable reload, PeerClient peers, OperatorChannel operator, Clock clock,
                        FailsafePromise failsafe) {
        /** Hooks whose promises nobody else reads (tests of the other endpoints). */
        public Hooks(Runnable wakeLoop, Runnable reload, PeerClient peers, OperatorChannel operator, Clock clock) {
            this(wakeLoop, reload, peers, operator, clock, new FailsafePromise(clock));
        }
    }

    private static final Logger log = LoggerFactory.getLogger(AdminActions.class);
    private static final long RESTART_WAIT_SECONDS = 300;

    private final Dcs dcs;
    private final Supplier<NodeSnapshot> snapshot;
    private final Hooks hooks;

    public AdminActions(Dcs dcs, Supplier<NodeSnapshot> snapshot, Hooks hooks) {
        this.dcs = dcs;
        this.snapshot = snapshot;
        this.hooks = hooks;
    }

    /**
     * PATCH /config: the config key read now (not the published snapshot, which may predate it right after
     * bootstrap), the patch merged in, validated, then compare-and-set on the revision read, as Patroni's
     * do_PATCH_config. Runs on the write executor, never on the event loop.
     */
    Result patchConfig(Map<String, Object> patch) {
        Optional<DynamicConfig> current;
        try {
            current = dcs.read().config();
        } catch (DcsException e) {
            log.warn("PATCH /config: could not read the configuration from DCS: {}", e.getMessage());
            return Result.error(503); // api.py do_PATCH_config: the cluster could not be read
        }
        if (current.isEmpty()) {
            return Result.error(503); // api.py do_PATCH_config: send_error(503), no config key to patch
        }
        Map<String, Object> merged = ConfigPatch.merge(current.get().raw(), patch);
        return write(current.get().raw(), merged, current.get().modRevision());
    }

    /** PUT /config: the whole configuration, validated, written as given. */
    Result putConfig(Map<String, Object> config) {
        NodeSnapshot s = snapshot.get();
        Map<String, Object> before = s == null || s.cluster() == null ? Map.of()
                : s.cluster().config().map(DynamicConfig::raw).orElse(Map.of());
        return write(before, config, -1);
    }

    /**
     * Writes the new config key unless a value has the wrong type, or the edit switches on a safety setting pgkeel
     * cannot honour yet (400, naming the key: docs/decisions.md); ignored keys and adjusted timing are warnings.
     */
    private Result write(Map<String, Object> before, Map<String, Object> config, long expectedRevision) {
        List<String> problems = ConfigPatch.problems(config);
        if (!problems.isEmpty()) {
            return new Result(400, Map.of("error", String.join("; ", problems)));
        }
        PatroniKeys.EditCheck check = PatroniKeys.checkEdit(before, config);
        if (!check.refused().isEmpty()) {
            return new Result(400, Map.of("error", String.join("; ", check.refused())));
        }
        try {
            if (!dcs.writeConfig(config, expectedRevision)) {
                log.info("{} /config: the configuration was changed by someone else meanwhile",
                        expectedRevision < 0 ? "PUT" : "PATCH");
                return Result.error(409); // api.py do_PATCH_config: send_error(409)
            }
        } catch (DcsException e) {
            log.warn("could not write the configuration to DCS: {}", e.getMessage());
            return Result.error(502); // api.py do_PUT_config: send_error(502)
        }
        hooks.wakeLoop().run();
        check.warnings().forEach(w -> log.warn("configuration written through the REST API: {}", w));
        return new Result(200, config, check.warnings());
    }

    /** POST /reload: as SIGHUP. */
    Result reload() {
        hooks.reload().run();
        return new Result(202, "reload scheduled");
    }

    /**
     * POST /switchover and POST /failover, with Patroni's validation, status codes and messages: write the failover
     * key, wake the loop, then watch etcd until another member holds the leader key (200), the key is cleared without
     * a new leader (503, with the leader's reason when it is this node), or time runs out (503).
     */
    Result switchover(Map<String, Object> body, boolean failoverEndpoint) {
        String action = failoverEndpoint ? "failover" : "switchover";
        String leader = text(body, "leader");
        String candidate = Optional.ofNullable(text(body, "candidate")).orElse(text(body, "member"));
        String scheduledText = text(body, "scheduled_at");
        ClusterView c;
        try {
            c = dcs.read();
        } catch (DcsException e) {
            return new Result(503, "could not read the cluster from DCS: " + e.getMessage());
        }
        boolean paused = c.config().map(DynamicConfig::pause).orElse(false);
        if (failoverEndpoint && candidate == null) {
            return new Result(400, "Failover could be performed only to a specific candidate");
        }
        if (!failoverEndpoint && leader == null) {
            return new Result(400, "Switchover could be performed only from a specific leader");
        }
        Instant scheduledAt = null;
        if (scheduledText != null) {
            if (failoverEndpoint) {
                return new Result(400, "Failover can't be scheduled");
            }
            if (paused) {
                return new Result(400, "Can't schedule switchover in the paused state");
            }
            try {
                scheduledAt = ScheduledAt.parse(scheduledText).toInstant();
            } catch (ScheduledAt.Invalid e) {
                return unparseable(e, action);
            }
            if (scheduledAt.isBefore(hooks.clock().now())) {
                return new Result(422, "Cannot schedule " + action + " in the past");
            }
        }
        if (paused && candidate == null) {
            return new Result(400, "Switchover is possible only to a specific candidate in a paused state");
        }
        if (failoverEndpoint && leader != null) {
            action = "switchover"; // Patroni: a failover request naming the leader is a switchover
        }
        if (leader != null && leader.equals(candidate)) {
            return new Result(400, "Switchover target and source are the same");
        }
        if (scheduledAt == null) {
            Optional<String> impossible = whyImpossible(c, leader, candidate, action);
            if (impossible.isPresent()) {
                return new Result(412, impossible.get());
            }
        }
        try {
            dcs.writeFailover(leader, candidate, scheduledAt == null ? null : scheduledAt.toString(), -1);
        } catch (DcsException e) {
            return new Result(503, "failed to write failover key into DCS");
        }
        long writtenAt = hooks.clock().nanoTime();
        hooks.wakeLoop().run();
        if (scheduledAt != null) {
            return new Result(202, title(action) + " scheduled");
        }
        return awaitNewLeader(c.leader().map(l -> l.name()).orElse(null), candidate, action, c, writtenAt);
    }

    /**
     * Patroni's API-side check (api.py is_failover_possible, ha.py is_failover_possible): the leader matches, and some
     * candidate is up and allowed to promote. Unlike Patroni, not its lag: a peer's position in its REST answer is as
     * of its last cycle (Patroni's runs SQL per request), so after a WAL segment switch a healthy replica would look
     * 16 MB behind; the leader checks lag on live data and refuses with 503 (docs/decisions.md).
     */
    private Optional<String> whyImpossible(ClusterView c, String leader, String candidate, String action) {
        if (leader != null && (c.leader().isEmpty() || !c.leader().get().name().equals(leader))) {
            return Optional.of("leader name does not match");
        }
        // synchronous replication: a switchover goes only to a member the sync key names (Patroni 4.1 checks this in
        // on mode; issue 12 asks it in quorum mode too, with the same answer)
        boolean syncOn = SyncRole.settings(c).mode().isOn();
        Predicate<String> named = name -> c.sync().map(k -> k.matches(name, false)).orElse(false);
        List<Member> members;
        if (candidate != null) {
            if (action.equals("switchover") && syncOn && !named.test(candidate)) {
                return Optional.of("candidate name does not match with sync_standby");
            }
            members = c.member(candidate).stream().toList();
            if (members.isEmpty()) {
                return Optional.of("candidate does not exists");
            }
        } else if (syncOn) {
            members = c.members().stream().filter(m -> named.test(m.name())).toList();
            if (members.isEmpty()) {
                return Optional.of(action + " is not possible: can not find sync_standby");
            }
        } else {
            members = c.members().stream().filter(m -> !c.isLeader(m.name()) && m.apiUrl() != null).toList();
            if (members.isEmpty()) {
                return Optional.of(action + " is not possible: cluster does not have members except leader");
            }
        }
        List<PeerStatus> statuses = hooks.peers().fetch(members);
        if (candidate != null && statuses.stream().anyMatch(PeerStatus::promisedFailsafe)) {
            // pgkeel only: it could not promote before its promise ends, and the leader would have stopped for it
            return Optional.of(action + " is not possible: candidate '" + candidate + "' promised a primary in"
                    + " failsafe mode not to become primary for now (failsafe_mode_is_active)");
        }
        for (PeerStatus st : statuses) {
            if (st.reachable() && st.running() && !st.nofailover() && !st.promisedFailsafe()
                    && (c.isUnlocked() || st.inRecovery())) {
                return Optional.empty();
            }
        }
        return Optional.of(action + " is not possible: no good candidates have been found");
    }

    private Result awaitNewLeader(String oldLeader, String candidate, String action, ClusterView before,
                                  long writtenAt) {
        int loopWait = before.config().map(DynamicConfig::loopWait).orElse(DynamicConfig.DEFAULT_LOOP_WAIT);
        long deadline = hooks.clock().nanoTime() + TimeUnit.SECONDS.toNanos(2L * Math.max(10, loopWait));
        String past = action.equals("failover") ? "failed over" : "switched over";
        while (hooks.clock().nanoTime() - deadline < 0) {
            hooks.clock().sleepNanos(TimeUnit.MILLISECONDS.toNanos(100));
            ClusterView c;
            try {
                c = dcs.read();
            } catch (DcsException e) {
                continue;
            }
            if (c.leader().isPresent() && !c.leader().get().name().equals(oldLeader)) {
                String now = c.leader().get().name();
                return new Result(200, candidate == null || candidate.equals(now)
                        ? "Successfully " + past + " to \"" + now + "\""
                        : title(past) + " to \"" + now + "\" instead of \"" + candidate + "\"");
            }
            if (c.failover().isEmpty() && c.leader().isPresent()) {
                log.info("{} failed{}", action, leaderReason(writtenAt));
                return new Result(503, title(action) + " failed"); // api.py poll_failover_result
            }
        }
        long waited = 2L * Math.max(10, loopWait);
        return new Result(503, title(action) + " status unknown after " + waited + " seconds; operation may still be"
                + " in progress");
    }

    /** When this node is the leader that refused the request, its reason. */
    private String leaderReason(long since) {
        return hooks.operator().lastFailoverRefusal().filter(r -> r.atNanos() - since >= 0).map(r -> ": " + r.reason()).orElse("");
    }

    /** DELETE /switchover: cancel a scheduled switchover. */
    Result cancelSwitchover() {
        try {
            Optional<FailoverKey> f = dcs.read().failover();
            if (f.isEmpty() || f.get().scheduledAt() == null) {
                return new Result(404, "no switchover is scheduled");
            }
            return dcs.deleteFailover(f.get().modRevision())
                    ? new Result(200, "scheduled switchover deleted")
                    : Result.error(409); // api.py do_DELETE_switchover: send_error(409)
        } catch (DcsException e) {
            return new Result(503, "could not reach DCS: " + e.getMessage());
        }
    }

    /** POST /restart: restart PostgreSQL in its role, now (scheduled restarts are not supported yet). */
    Result restart(Map<String, Object> body) {
        String role = text(body, "role");
        if (role != null) {
            role = switch (role) {
                case "primary", "master" -> "primary";
                case "replica" -> "replica";
                case "standby_leader" -> "standby_leader";
                default -> null;
            };
            if (role == null) {
                return new Result(400, "PostgreSQL role should be either primary, standby_leader, or replica");
            }
        }
        for (String key : body.keySet()) {
            if (!List.of("schedule", "role", "postgres_version", "timeout", "restart_pending").contains(key)) {
                return new Result(400, "Unknown filter for the scheduled restart: " + key);
            }
        }
        if (body.containsKey("timeout") && !(body.get("timeout") instanceof Number n && n.doubleValue() > 0)) {
            return new Result(400, "Timeout should be a positive number of seconds");
        }
        NodeSnapshot s = snapshot.get();
        String version = text(body, "postgres_version");
        if (version != null) {
            int wanted = versionNumber(version);
            if (wanted < 0) {
                // postgresql/misc.py postgres_version_to_int
                return new Result(400, version.matches("[0-9.]+")
                        ? "Invalid PostgreSQL version format: X.Y or X.Y.Z is accepted: " + version
                        : "Invalid PostgreSQL version: " + version);
            }
            if (s == null || s.pg().serverVersion() >= wanted) {
                return new Result(503, "restart conditions are not satisfied");
            }
        }
        String schedule = text(body, "schedule");
        if (schedule != null) {
            return scheduleRestart(schedule, role, s);
        }
        if (Boolean.TRUE.equals(body.get("restart_pending")) && (s == null || !s.pg().pendingRestart())) {
            return new Result(503, "restart conditions are not satisfied");
        }
        return awaitRequest(new OperatorRequest.Restart(role), "restarted successfully", "restart failed");
    }

    private Result scheduleRestart(String schedule, String role, NodeSnapshot s) {
        if (s != null && s.cluster() != null && s.cluster().config().map(DynamicConfig::pause).orElse(false)) {
            return new Result(500, "Can't schedule restart in the paused state"); // api.py: status_code 500
        }
        Instant at;
        try {
            at = ScheduledAt.parse(schedule).toInstant();
        } catch (ScheduledAt.Invalid e) {
            return unparseable(e, "restart");
        }
        if (at.isBefore(hooks.clock().now())) {
            return new Result(422, "Cannot schedule restart in the past");
        }
        if (!hooks.operator().scheduleRestart(at, role)) {
            return new Result(409, "Another restart is already scheduled");
        }
        hooks.wakeLoop().run();
        return new Result(202, "Restart scheduled");
    }

    /** DELETE /restart: cancel the scheduled restart (the loop is woken to publish that at once). */
    Result cancelRestart() {
        if (!hooks.operator().cancelScheduledRestart()) {
            return new Result(404, "no restarts are scheduled");
        }
        hooks.wakeLoop().run();
        return new Result(200, "scheduled restart deleted");
    }

    /** POST /reinitialize: wipe this replica and clone it again from the leader. */
    Result reinitialize() {
        return awaitRequest(new OperatorRequest.Reinitialize(), "reinitialize started", "reinitialize failed");
    }

    /** POST /citus and /mpp: this node is never a Citus coordinator, so Patroni's answer is a plain "OK". */
    Result mpp() {
        return new Result(200, "OK");
    }

    /** The longest failsafe promise a member gives, in its own ttls ({@link #failsafe}). */
    static final int MAX_PROMISE_TTLS = 10;

    /**
     * POST /failsafe from a primary that runs without the DCS (Patroni 4.1 api.py {@code do_POST_failsafe}, ha.py
     * {@code update_failsafe}): 500 {@code Running as a leader} when this node runs as a primary, or has claimed the
     * right to become one (the promise would be a lie); else this node promises not to race for ttl seconds (the
     * config key's, as last read) and answers 200 {@code Accepted} with its received/replayed LSN in the {@code lsn}
     * header. The body was checked to be a non-empty JSON object; {@code name}, {@code conn_url} and {@code api_url}
     * must be strings (Patroni fails the request with a KeyError; pgkeel answers 400 naming the field).
     * failsafe_mode off (502) is the handler's check, before the body is read, as Patroni's. 500 {@code Failsafe
     * promise not recorded: ...} when the promise's end cannot be written to disk (pgkeel only: a promise a restart
     * would forget is none).
     */

    Result failsafe(Map<String, Object> body) {
        for (String field : List.of("name", "conn_url", "api_url")) {
            if (!(body.get(field) instanceof String v) || v.isBlank()) {
                return new Result(400, "Invalid failsafe request: '" + field + "' must be a non-empty string");
            }
        }
        if (body.get("slots") != null && !(body.get("slots") instanceof Map)) {
            return new Result(400, "Invalid failsafe request: 'slots' must be an object of slot name to LSN");
        }
        NodeSnapshot s = snapshot.get();
        String name = (String) body.get("name");
        if (s == null) {
            return Result.error(503); // nothing published yet: no promise from a node that knows nothing
        }
        if (s.pg().isRunningPrimary()) {
            return new Result(500, "Running as a leader");
        }
        // at least the ttl a pgkeel primary says it counts its deadline with (it cannot read a shorter one written
        // meanwhile); Patroni sends none: this member's own, as Patroni promises. A promise far longer than this
        // member's ttl is refused, not shortened (the primary counts on all of it): one request must not stop every
        // failover for days
        long asked = body.get("ttl") instanceof Number n && n.longValue() > 0 ? n.longValue() : 0;
        if (asked > MAX_PROMISE_TTLS * s.ttl()) {
            log.warn("POST /failsafe from {}: refused, it asks for a {} s promise, more than {} times this member's ttl"
                    + " ({} s)", name, asked, MAX_PROMISE_TTLS, s.ttl());
            return new Result(400, "Invalid failsafe request: 'ttl' " + asked + " is more than " + MAX_PROMISE_TTLS
                    + " times this member's ttl (" + s.ttl() + " s)");
        }
        long ttl = Math.max(s.ttl(), asked);
        try {
            if (!hooks.failsafe().give(name, (String) body.get("conn_url"), (String) body.get("api_url"),
                    TimeUnit.SECONDS.toNanos(ttl))) {
                log.info("POST /failsafe from {}: refused, this member is about to become primary", name);
                return new Result(500, "Running as a leader");
            }
        } catch (FailsafePromise.NotRecorded e) {
            // a promise a restart of this agent would forget is none: the primary must not count on it
            log.error("POST /failsafe from {}: refused, {}", name, e.getMessage());
            return new Result(500, "Failsafe promise not recorded: " + e.getMessage());
        }
        long lsn = s.pg().walPosition();
        return new Result(200, "Accepted", List.of(), lsn > 0 ? Map.of("lsn", Long.toString(lsn)) : Map.of());
    }

    /** POST /sigterm: Patroni schedules a shutdown only on Windows under behave; elsewhere it just answers. */
    Result sigterm() {
        return new Result(202, "shutdown scheduled");
    }

    private Result awaitRequest(OperatorRequest request, String success, String failure) {
        String name = request instanceof OperatorRequest.Restart ? "restart" : "reinitialize";
        CompletableFuture<RequestOutcome> outcome = hooks.operator().submit(request);
        hooks.wakeLoop().run();
        try {
            RequestOutcome o = outcome.get(RESTART_WAIT_SECONDS, TimeUnit.SECONDS);
            if (!o.done()) {
                log.info("{} refused: {}", name, o.message());
                return new Result(503, patroniRefusal(name, o.refusal(), failure));
            }
            if (request instanceof OperatorRequest.Restart && !awaitRunning()) {
                log.warn("restart: postgres did not accept connections within {} s", RESTART_WAIT_SECONDS);
                return new Result(503, "postgres is still starting"); // ha.py restart
            }
            return new Result(200, success);
        } catch (TimeoutException e) {
            log.warn("{}: no answer from the HA loop within {} s", name, RESTART_WAIT_SECONDS);
            return new Result(503, failure);
        } catch (ExecutionException e) {
            log.warn("{} failed", name, e.getCause());
            return new Result(503, failure);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(503, failure);
        }
    }

    /**
     * The text Patroni's ha.py answers a refused {@code request} ("restart", "reinitialize") with, by the kind of
     * refusal ({@code Ha.restart}, {@code Ha.reinitialize}); {@code failure} for a request the loop did not carry out.
     */
    static String patroniRefusal(String request, RequestRefusal refusal, String failure) {
        return switch (refusal) {
            case CONDITIONS_NOT_SATISFIED -> "restart conditions are not satisfied";
            case ALREADY_IN_PROGRESS -> request + " already in progress";
            case I_AM_THE_LEADER -> "I am the leader, can not reinitialize";
            case CLUSTER_HAS_NO_LEADER -> "Cluster has no leader, can not reinitialize";
            case NOT_CARRIED_OUT -> failure;
        };
    }

    /**
     * The loop starts PostgreSQL and goes on (a leader must keep renewing its lease): wait here, off the loop, until
     * a snapshot published after the restart shows it running.
     */
    private boolean awaitRunning() {
        long since = hooks.clock().nanoTime();
        long deadline = since + TimeUnit.SECONDS.toNanos(RESTART_WAIT_SECONDS);
        while (hooks.clock().nanoTime() - deadline < 0) {
            NodeSnapshot s = snapshot.get();
            if (s != null && s.lastCycleNanos() - since >= 0
                    && s.pg().runState() == io.pgkeel.common.pg.PgRunState.RUNNING) {
                return true;
            }
            hooks.clock().sleepNanos(TimeUnit.MILLISECONDS.toNanos(100));
        }
        return false;
    }

    /** "15.2" → 150002, "9.6.3" → 90603; -1 when not a version. */
    static int versionNumber(String v) {
        String[] parts = v.trim().split("\\.");
        try {
            int major = Integer.parseInt(parts[0]);
            if (major >= 10) {
                return parts.length == 2 ? major * 10000 + Integer.parseInt(parts[1]) : -1;
            }
            return parts.length == 3 ? major * 10000 + Integer.parseInt(parts[1]) * 100 + Integer.parseInt(parts[2]) : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Patroni's answers to a scheduled time it cannot use. */
    private static Result unparseable(ScheduledAt.Invalid e, String action) {
        return e.missingZone() ? new Result(400, "Timezone information is mandatory for the scheduled " + action)
                : new Result(422, "Unable to parse scheduled timestamp. It should be in an unambiguous format, e.g."
                        + " ISO 8601");
    }

    private static String text(Map<String, Object> body, String key) {
        Object v = body.get(key);
        return v == null || v.toString().isBlank() ? null : v.toString();
    }

    private static String title(String s) {
        return Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }
}
