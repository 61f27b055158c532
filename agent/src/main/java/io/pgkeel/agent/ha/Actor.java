package io.pgkeel.agent.ha;

import io.pgkeel.common.Clock;
import io.pgkeel.common.Lsn;
import io.pgkeel.common.cluster.Member;
import io.pgkeel.common.dcs.Dcs;
import io.pgkeel.common.dcs.DcsException;
import io.pgkeel.common.peer.FailsafeAnswer;
import io.pgkeel.common.peer.PeerClient;
import io.pgkeel.common.pg.LocalPostgres;
import io.pgkeel.common.pg.LocalPostgres.StopMode;
import io.pgkeel.common.pg.PostgresException;
import java.time.Duration;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out one {@link Action}, exactly as it says: every choice (what to wipe, whom to hand the key to, when to
 * give up) was made in the policy. A failure is returned in the {@link Outcome}, never thrown. Loop thread only.
 */
final class Actor {
    private static final Logger log = LoggerFactory.getLogger(Actor.class);
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    private final Dcs dcs;
    private final LocalPostgres pg;
    private final MemberKey memberKey;
    private final LeaseFence fence;
    private final OperatorInbox inbox;
    private final Clock clock;
    private final HaListener listener;
    private final PeerClient peers;

    Actor(Dcs dcs, LocalPostgres pg, MemberKey memberKey, LeaseFence fence, OperatorInbox inbox, Clock clock,
          HaListener listener) {
        this(dcs, pg, memberKey, fence, inbox, clock, listener, members -> List.of());
    }

    /** @param peers how a failsafe round asks the other members ({@code POST /failsafe}) */
    Actor(Dcs dcs, LocalPostgres pg, MemberKey memberKey, LeaseFence fence, OperatorInbox inbox, Clock clock,
          HaListener listener, PeerClient peers) {
        this.peers = peers;
        this.dcs = dcs;
        this.pg = pg;
        this.memberKey = memberKey;
        this.fence = fence;
        this.inbox = inbox;
        this.clock = clock;
        this.listener = listener;
    }

    /** @param cycleStartNanos when the cycle that decided {@code action} began (for the promotion metric) */
    Outcome act(Action action, Observation o, NodeIdentity identity, long cycleStartNanos) {
        String name = action.getClass().getSimpleName();
        try {
            return carryOut(action, o, identity, cycleStartNanos);
        } catch (DcsException | PostgresException e) {
            log.error("{} failed: {}", name, e.getMessage());
            return Outcome.failed(name + " failed: " + e.getMessage());
        } catch (RuntimeException e) {
            log.error("unexpected error while acting on {}, please report it as a BUG", action, e);
            return Outcome.failed(name + " failed: " + e);
        }
    }

    private Outcome carryOut(Action action, Observation o, NodeIdentity identity, long cycleStartNanos) {
        if (action instanceof Action.Wait || action instanceof Action.AwaitHandover) {
            return Outcome.DONE;
        } else if (action instanceof Action.LeadAsPrimary a) {
            return leadAsPrimary(a, o, identity);
        } else if (action instanceof Action.ApplyParameters a) {
            pg.applyParameters(a.parameters());
        } else if (action instanceof Action.DropReplicaSlots a) {
            Set<String> dropped = pg.dropUnusedSlots(a.slots());
            if (dropped.size() != a.slots().size()) {
                log.debug("kept replication slot(s) {}: something streams from them", a.slots().stream()
                        .filter(x -> !dropped.contains(x)).sorted().toList());
            }
            return Outcome.dropped(dropped);
        } else if (action instanceof Action.AcquireLeader a) {
            return acquireLeader(a, identity, cycleStartNanos);
        } else if (action instanceof Action.Promote a) {
            if (!syncBeforePromote(a.sync(), identity)) {
                return Outcome.DONE;
            }
            pg.promote();
            listener.promoted(clock.nanoTime() - cycleStartNanos);
            createSlotsQuietly(a.slotsAfterPromote());
        } else if (action instanceof Action.Demote a) {
            pg.stop(StopMode.IMMEDIATE);
            fence.disarm();
            if (a.releaseKey()) {
                dcs.releaseLeader();
            }
        } else if (action instanceof Action.Follow a) {
            pg.follow(member(o, a.leader()));
        } else if (action instanceof Action.StartPostgres a) {
            pg.start(a.asPrimary(), a.follow() == null ? null : member(o, a.follow()));
        } else if (action instanceof Action.ReattachLeader) {
            if (!dcs.reattachLeader()) {
                log.info("the leader key no longer names me");
            }
        } else if (action instanceof Action.Rewind a) {
            return rewind(a, o);
        } else if (action instanceof Action.RemoveDataDirectory) {
            pg.removeDataDirectory();
        } else if (action instanceof Action.CloneFromLeader a) {
            clone(member(o, a.leader()), o, identity);
        } else if (action instanceof Action.Bootstrap) {
            return bootstrap(identity);
        } else if (action instanceof Action.Switchover) {
            pg.stop(StopMode.FAST);
            fence.disarm();
        } else if (action instanceof Action.HandOver a) {
            handOver(a, o);
        } else if (action instanceof Action.ClearFailoverKey a) {
            inbox.refusedFailover(a.reason(), clock.nanoTime());
            dcs.deleteFailover(a.failoverRevision());
        } else if (action instanceof Action.ReleaseLeader) {
            dcs.releaseLeader();
        } else if (action instanceof Action.WriteSyncKey a) {
            if (!dcs.writeSync(a.leader(), a.voters(), a.quorum(), a.expectedRevision())) {
                log.info("synchronous replication key updated by someone else");
            }
        } else if (action instanceof Action.DeleteSyncKey a) {
            if (dcs.deleteSync(a.expectedRevision())) {
                log.info("disabled synchronous replication");
            }
        } else if (action instanceof Action.SetSyncStandbys a) {
            pg.setSynchronousStandbyNames(a.synchronousStandbyNames());
        } else if (action instanceof Action.AwaitSyncStandby) {
            return Outcome.DONE;
        } else if (action instanceof Action.FailsafeRound a) {
            return failsafeRound(a, o, identity);
        } else if (action instanceof Action.Restart a) {
            pg.stop(StopMode.FAST);
            pg.start(a.asPrimary(), a.follow() == null ? null : o.dcs().cluster().member(a.follow()).orElse(null));
        } else if (action instanceof Action.Reinitialize a) {
            Member source = member(o, a.leader());
            pg.stop(StopMode.IMMEDIATE);
            clone(source, o, identity);
        } else {
            throw new AssertionError("unhandled action " + action);
        }
        return Outcome.DONE;
    }

    private Outcome acquireLeader(Action.AcquireLeader a, NodeIdentity identity, long cycleStartNanos) {
        if (!dcs.tryAcquireLeader()) {
            log.info("lost the race for the leader key");
            return Outcome.DONE;
        }
        if (a.clearFailoverRevision() >= 0) {
            try {
                dcs.deleteFailover(a.clearFailoverRevision());
            } catch (DcsException e) {
                log.warn("could not clear the failover key: {}", e.getMessage());
            }
        }
        if (!a.promote()) {
            log.info("acquired session lock as a leader");
            return Outcome.acquired();
        }
        try {
            if (!syncBeforePromote(a.sync(), identity)) {
                return Outcome.acquired();
            }
            pg.promote();
        } catch (PostgresException e) {
            log.error("AcquireLeader failed: {}", e.getMessage());
            return new Outcome("AcquireLeader failed: " + e.getMessage(), true, Set.of(), false);
        }
        listener.promoted(clock.nanoTime() - cycleStartNanos);
        log.info("promoted self to leader by acquiring session lock");
        createSlotsQuietly(a.slotsAfterPromote());
        return Outcome.acquired();
    }

    /**
     * Synchronous replication before a promotion: the sync key first (CAS; false when someone else changed it: the
     * promotion waits for the next cycle), then synchronous_standby_names on the standby, so that its first commit as
     * primary waits as the key promises.
     */
    private boolean syncBeforePromote(Action.SyncBeforePromote sync, NodeIdentity identity) {
        if (sync == null) {
            return true;
        }
        if (sync.syncKeyRevision() >= 0
                && !dcs.writeSync(identity.name(), sync.voters(), sync.quorum(), sync.syncKeyRevision())) {
            log.info("postponing promotion because the synchronous replication key was updated by someone else");
            return false;
        }
        pg.setSynchronousStandbyNames(sync.synchronousStandbyNames());
        return true;
    }

    /** Right after promotion the replicas reconnect at once: have their slots ready (LeadAsPrimary retries). */
    private void createSlotsQuietly(Set<String> slots) {
        if (slots.isEmpty()) {
            return;
        }
        try {
            pg.createSlots(slots);
        } catch (PostgresException e) {
            log.warn("could not create replication slots after promotion: {}", e.getMessage());
        }
    }

    private Outcome rewind(Action.Rewind a, Observation o) {
        Member source = member(o, a.leader());
        pg.stop(StopMode.FAST);
        switch (pg.rewind(source)) {
            case DONE -> pg.startAfterRewind(source);
            case SOURCE_NOT_READY, TARGET_BUSY -> {
                // nothing changed; the next cycle tries again
            }
            case FAILED -> {
                log.warn("pg_rewind from {} failed", a.leader());
                return Outcome.failedRewind();
            }
        }
        return Outcome.DONE;
    }

    /**
     * A clone keeps the loop busy for minutes or hours, and the member key would go on saying "running" meanwhile:
     * it says "creating replica" (Patroni's words) from the start.
     */
    private void clone(Member source, Observation o, NodeIdentity identity) {
        pg.removeDataDirectory();
        memberKey.cloning(identity, o.memory());
        pg.cloneFrom(source);
        pg.start(false, source);
    }

    private Outcome bootstrap(NodeIdentity identity) {
        if (!dcs.tryInitialize("")) {
            log.info("another member won the race to bootstrap the cluster");
            return Outcome.DONE;
        }
        String sysid;
        try {
            sysid = pg.bootstrap();
        } catch (RuntimeException e) {
            // roll back what this action made (nothing that existed before is touched): the next cycle starts afresh
            log.error("bootstrap failed; giving the initialize key back so another member can try");
            try {
                pg.stop(StopMode.IMMEDIATE);
                pg.removeDataDirectory();
            } finally {
                dcs.cancelInitialize();
            }
            throw e;
        }
        if (!dcs.tryAcquireLeader()) {
            throw new PostgresException("bootstrapped, but the leader key was taken by someone else");
        }
        dcs.setInitialize(sysid);
        dcs.initializeConfig(identity.bootstrapDcs());
        log.info("bootstrapped a new cluster with system identifier {}", sysid);
        return Outcome.acquired();
    }

    private void handOver(Action.HandOver a, Observation o) {
        Member candidate = member(o, a.candidate());
        NodeMemory.Status written = o.memory().statusWritten();
        dcs.writeStatus(a.checkpointLsn(), written == null ? Set.of() : written.retainSlots());
        Action.SyncBeforePromote sync = a.syncKey();
        if (sync != null && !dcs.writeSync(a.candidate(), sync.voters(), sync.quorum(), sync.syncKeyRevision())) {
            // safe either way: without it the candidate needs a quorum of votes, like any other
            log.info("switchover: the sync key changed meanwhile; not handing it to '{}'", a.candidate());
        }
        if (!dcs.releaseLeader()) {
            log.warn("switchover: the leader key no longer named me when releasing it");
        }
        log.info("switchover: released the leader key to '{}' {} ms after postgres stopped at {}", a.candidate(),
                TimeUnit.NANOSECONDS.toMillis(clock.nanoTime() - o.memory().handover().stoppedAtNanos()),
                Lsn.format(a.checkpointLsn()));
        pg.startAfterHandover(candidate);
    }

    private Outcome leadAsPrimary(Action.LeadAsPrimary a, Observation o, NodeIdentity identity) {
        if (a.systemIdentifierToWrite() != null) {
            dcs.setInitialize(a.systemIdentifierToWrite());
        }
        if (a.writeConfig()) {
            dcs.initializeConfig(identity.bootstrapDcs());
        }
        if (!a.slotsToCreate().isEmpty()) {
            pg.createSlots(a.slotsToCreate());
        }
        Set<String> dropped = Set.of();
        if (!a.slotsToDrop().isEmpty()) {
            dropped = pg.dropUnusedSlots(a.slotsToDrop());
            if (!dropped.isEmpty()) {
                log.info("dropped replication slot(s) {}: their members have been gone from the cluster for over"
                        + " member_slots_ttl ({} s)", new TreeSet<>(dropped), o.self().dynamic().memberSlotsTtl());
            }
        }
        if (a.writeHistory()) {
            writeHistory(o, identity);
        }
        if (a.writeStatus()) {
            dcs.writeStatus(a.optime(), a.slotsToRetain());
        }
        if (a.failsafeToWrite().isPresent()) {
            dcs.writeFailsafe(a.failsafeToWrite().get());
            log.info("failsafe key written: {}", new java.util.TreeMap<>(a.failsafeToWrite().get()));
        } else if (a.deleteFailsafe()) {
            dcs.deleteFailsafe();
            log.info("failsafe key deleted: failsafe_mode is off");
        }
        return Outcome.dropped(dropped);
    }

    /**
     * {@code POST /failsafe} to every member of the round at once (Patroni's {@code check_failsafe_topology}), each
     * bounded by min(2 s, ttl/4) so that a round ends well inside the deadline it is to move. Confirmed only when every
     * member accepted; the send time is taken before the first request, so that every member's promise runs from a
     * later instant than the deadline it grants.
     */
    private Outcome failsafeRound(Action.FailsafeRound a, Observation o, NodeIdentity identity) {
        long sentAt = clock.nanoTime();
        if (a.members().isEmpty()) {
            return Outcome.failsafeConfirmed(sentAt);
        }
        Duration timeout = Duration.ofMillis(Math.min(2000, o.self().dynamic().ttl() * 250L));
        Map<String, FailsafeAnswer> answers = peers.postFailsafe(a.members(),
                failsafeBody(identity, o.self().dynamic().ttl()), timeout);
        List<String> refused = new java.util.ArrayList<>();
        for (String member : new java.util.TreeSet<>(a.members().keySet())) {
            FailsafeAnswer answer = answers.get(member);
            if (answer == null || !answer.accepted()) {
                refused.add(member + " (" + (answer == null ? "no answer" : answer.detail()) + ")");
            }
        }
        if (!refused.isEmpty()) {
            log.warn("failsafe: not every member confirmed this primary: {}", String.join(", ", refused));
            return Outcome.DONE;
        }
        log.info("{}", FailsafeRules.CONFIRMED);
        return Outcome.failsafeConfirmed(sentAt);
    }

    /**
     * Patroni's POST /failsafe body: who the primary is and where to reach it; and, pgkeel only (Patroni ignores it),
     * the ttl this primary counts its deadline with: a member that read a shorter ttl meanwhile (the primary cannot
     * read the config key) still promises this long.
     */
    static String failsafeBody(NodeIdentity identity, int ttlSeconds) {
        Map<String, Object> body = new java.util.LinkedHashMap<>();
        body.put("name", identity.name());
        body.put("conn_url", identity.connUrl());
        body.put("api_url", identity.apiUrl());
        body.put("ttl", ttlSeconds);
        try {
            return JSON.writeValueAsString(body);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Patroni's history key from the timeline history file; see {@link ClusterHistory#update}. */
    private void writeHistory(Observation o, NodeIdentity identity) {
        dcs.writeHistory(ClusterHistory.update(pg.timelineHistory(o.pg().timeline()), o.dcs().cluster().history(),
                clock.now().atZone(ZoneId.systemDefault()), identity.name()));
    }

    private static Member member(Observation o, String name) {
        return o.dcs().cluster().member(name)
                .orElseThrow(() -> new PostgresException("member '" + name + "' has no member key"));
    }
}
