package io.pgkeel.agent.ha;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What one HA cycle does. Each action carries a stable one-sentence reason, logged once per cycle; runbooks and
 * tests match on these sentences, so change them only on purpose.
 *
 * <p>Each action also states its {@link Traits} (how soon the next cycle runs, whether PostgreSQL may have changed,
 * which callback its own doing fires, how it answers an operator's request, whether the cycle is routine), in its
 * record and nowhere else. Adding an action means adding its record, its rows in the policy's table tests, its branch
 * in {@code Actor} and, where it has them, its rows in {@link NodeMemory#acted} (what it leaves to remember) and in
 * {@link Role#TRANSITIONS} (the roles it moves a node between).
 *
 * <p>An action that fails half way rolls back only what it made itself (initdb's or pg_basebackup's half-made data
 * directory); destroying anything that existed before it (a data directory pg_rewind could not fix, a replica to
 * rebuild) is always a decision of its own, with its own sentence.
 */
public sealed interface Action permits Action.Bootstrap, Action.CloneFromLeader,
        Action.StartPostgres, Action.AcquireLeader, Action.ReattachLeader, Action.LeadAsPrimary, Action.Promote,
        Action.Demote, Action.Follow, Action.Rewind, Action.RemoveDataDirectory, Action.Switchover,
        Action.AwaitHandover, Action.HandOver, Action.ClearFailoverKey, Action.ReleaseLeader, Action.Restart,
        Action.Reinitialize, Action.DropReplicaSlots, Action.ApplyParameters, Action.WriteSyncKey,
        Action.DeleteSyncKey, Action.SetSyncStandbys, Action.AwaitSyncStandby, Action.FailsafeRound, Action.Wait {

    String reason();

    Traits traits();

    /**
     * Carried out, this action deletes the leader key: what this cycle publishes must no longer say "holds the key",
     * although the view it read before acting did (else /leader answers 200 on two nodes until the next cycle).
     */
    default boolean releasesLeaderKey() {
        return this instanceof HandOver || this instanceof ReleaseLeader || this instanceof Demote d && d.releaseKey();
    }

    /** How soon the next cycle runs after an action that did not fail (a failed one waits loop_wait). */
    enum Pace {
        /** At once: a switchover's leader checks its candidates right after stopping. */
        NOW(0),
        /** In 20 ms: a switchover's leader waits for a candidate to receive its shutdown checkpoint. */
        POLL(20),
        /** In 100 ms: the node is in the middle of a change; the next step follows quickly. */
        SOON(100),
        /** After loop_wait, or earlier to renew the lease before the fence deadline. */
        STEADY(-1);

        /** Milliseconds to the next cycle; -1 for loop_wait. */
        final long millis;

        Pace(long millis) {
            this.millis = millis;
        }
    }

    /** Which of Patroni's callbacks the action's own doing fires (besides on_start/on_role_change when it runs). */
    enum Callback {
        NONE,
        /** It stops a running PostgreSQL on purpose: {@code on_stop}. */
        ON_STOP,
        /** It restarts PostgreSQL: {@code on_restart} once it runs again (instead of on_start). */
        ON_RESTART
    }

    /** How an operator's request (restart, reinitialize) is answered when this action is the cycle's decision. */
    enum Answer {
        /** The request was not granted: refused with this action's reason. */
        REFUSAL,
        /** Granted: answered once carried out, with the error if it failed. */
        WHEN_DONE,
        /** Granted, and long (a clone can take hours): answered as soon as it starts, as Patroni does. */
        WHEN_STARTED
    }

    /**
     * The properties of an action that the loop acts on.
     *
     * @param reprobe carrying it out may change what PostgreSQL reports (run state, role, pending restart): probe it
     *                again before publishing
     * @param routine nothing more urgent happens in this cycle: an operator's request may be granted instead, and
     *                upkeep (runtime parameters, a replica's stale slots) may be done instead
     */
    record Traits(Pace pace, boolean reprobe, Callback callback, Answer answer, boolean routine) {
        static final Traits ROUTINE = new Traits(Pace.STEADY, false, Callback.NONE, Answer.REFUSAL, true);
        static final Traits STEADY = new Traits(Pace.STEADY, false, Callback.NONE, Answer.REFUSAL, false);
        static final Traits SOON = new Traits(Pace.SOON, false, Callback.NONE, Answer.REFUSAL, false);
        static final Traits STEADY_REPROBE = new Traits(Pace.STEADY, true, Callback.NONE, Answer.REFUSAL, false);
        static final Traits SOON_REPROBE = new Traits(Pace.SOON, true, Callback.NONE, Answer.REFUSAL, false);
        static final Traits SOON_REPROBE_STOPS = new Traits(Pace.SOON, true, Callback.ON_STOP, Answer.REFUSAL, false);
    }

    /**
     * Race for the {@code initialize} key; the winner runs initdb, starts as primary and takes the leader key. If
     * initdb or the first start fails, the action rolls back what it made itself: it stops that postmaster, removes
     * the half-made data directory and deletes the initialize key, so another member (or this one) can try again.
     */
    record Bootstrap(String reason) implements Action {
        public Traits traits() {
            return Traits.SOON_REPROBE;
        }
    }

    /** Remove the data directory, pg_basebackup from the leader, then start as its replica. */
    record CloneFromLeader(String leader, String reason) implements Action {
        public Traits traits() {
            return Traits.SOON_REPROBE;
        }
    }

    /**
     * Start the local postmaster.
     *
     * @param follow the leader whose WAL to stream, or null (a primary, or a replica with no leader to follow yet)
     */
    record StartPostgres(boolean asPrimary, String follow, String reason) implements Action {
        public Traits traits() {
            return Traits.STEADY_REPROBE;
        }
    }

    /**
     * Synchronous replication before a promotion (Patroni's {@code process_sync_replication_prepromote}): CAS-write
     * the {@code sync} key naming me as its leader with {@code voters} and {@code quorum} (expecting mod revision
     * {@code syncKeyRevision}, 0: absent; negative: no key to write), then set {@code synchronousStandbyNames} on the
     * standby (null: the configured value), so that the first
     * commit after the promotion already waits as the sync key promises. If the sync key changed meanwhile, the
     * promotion is postponed to the next cycle.
     */
    record SyncBeforePromote(Set<String> voters, int quorum, String synchronousStandbyNames, long syncKeyRevision) {
        /** synchronous_mode off: no sync key written, synchronous_standby_names back to the configured value. */
        public static final SyncBeforePromote UNMANAGED = new SyncBeforePromote(Set.of(), 0, null, -1);

        public SyncBeforePromote {
            voters = Set.copyOf(voters);
        }
    }

    /**
     * CAS-create the leader key on my lease; when won, delete the failover key of revision
     * {@code clearFailoverRevision} (it has done its job; -1: none), and when {@code promote}, do {@code sync} first
     * (when not null), promote the local standby at once and create {@code slotsAfterPromote} for the replicas. Never
     * promotes without the key.
     */
    record AcquireLeader(boolean promote, Set<String> slotsAfterPromote, long clearFailoverRevision,
                         SyncBeforePromote sync, String reason) implements Action {
        public AcquireLeader {
            slotsAfterPromote = Set.copyOf(slotsAfterPromote);
        }

        /** Without synchronous replication to set up first. */
        public AcquireLeader(boolean promote, Set<String> slotsAfterPromote, long clearFailoverRevision, String reason) {
            this(promote, slotsAfterPromote, clearFailoverRevision, null, reason);
        }

        public Traits traits() {
            return Traits.SOON_REPROBE;
        }
    }

    /** The leader key still names me but rides on an older lease of mine: move it onto my current lease. */
    record ReattachLeader(String reason) implements Action {
        public Traits traits() {
            return Traits.SOON;
        }
    }

    /**
     * I hold the key and run as primary: create the replication slots the other members need, drop (if unused)
     * those of members gone for longer than {@code member_slots_ttl}, write the {@code initialize}/{@code config}
     * keys if they are missing, bring {@code history} up to my timeline when it is behind, and, when
     * {@code writeStatus}, publish my WAL position and the members' slots I keep, departed members' included
     * ({@code slotsToRetain}), in {@code status}; put the {@code failsafe} key when {@code failsafeToWrite} is present
     * (failsafe_mode on and the key differs: Patroni's {@code _failsafe_config}), delete it when {@code deleteFailsafe}
     * (failsafe_mode off and the key exists: pgkeel only).
     */
    record LeadAsPrimary(long optime, Set<String> slotsToCreate, Set<String> slotsToDrop, Set<String> slotsToRetain,
                         boolean writeStatus, String systemIdentifierToWrite, boolean writeConfig,
                         boolean writeHistory, java.util.Optional<Map<String, String>> failsafeToWrite,
                         boolean deleteFailsafe, String reason) implements Action {
        public LeadAsPrimary {
            slotsToCreate = Set.copyOf(slotsToCreate);
            slotsToDrop = Set.copyOf(slotsToDrop);
            slotsToRetain = Set.copyOf(slotsToRetain);
            failsafeToWrite = failsafeToWrite.map(Map::copyOf);
        }

        /** Leading without touching the failsafe key. */
        public LeadAsPrimary(long optime, Set<String> slotsToCreate, Set<String> slotsToDrop, Set<String> slotsToRetain,
                             boolean writeStatus, String systemIdentifierToWrite, boolean writeConfig,
                             boolean writeHistory, String reason) {
            this(optime, slotsToCreate, slotsToDrop, slotsToRetain, writeStatus, systemIdentifierToWrite, writeConfig,
                    writeHistory, java.util.Optional.empty(), false, reason);
        }

        public Traits traits() {
            return Traits.ROUTINE;
        }

        /** The same work, with a different sentence. */
        LeadAsPrimary withReason(String newReason) {
            return new LeadAsPrimary(optime, slotsToCreate, slotsToDrop, slotsToRetain, writeStatus,
                    systemIdentifierToWrite, writeConfig, writeHistory, failsafeToWrite, deleteFailsafe, newReason);
        }
    }

    /**
     * I hold the key but PostgreSQL is a standby: do {@code sync} first (when not null), promote it, then create the
     * replicas' slots.
     */
    record Promote(Set<String> slotsAfterPromote, SyncBeforePromote sync, String reason) implements Action {
        public Promote {
            slotsAfterPromote = Set.copyOf(slotsAfterPromote);
        }

        /** Without synchronous replication to set up first. */
        public Promote(Set<String> slotsAfterPromote, String reason) {
            this(slotsAfterPromote, null, reason);
        }

        public Traits traits() {
            return Traits.SOON_REPROBE;
        }
    }

    /**
     * Stop taking writes now: {@code pg_ctl stop -m immediate}. The next cycles restart PostgreSQL as a replica
     * (through pg_rewind when it diverged).
     *
     * @param releaseKey delete the leader key (if it still names me) once stopped
     */
    record Demote(boolean releaseKey, String reason) implements Action {
        public Traits traits() {
            return Traits.SOON_REPROBE_STOPS;
        }
    }

    /** Point primary_conninfo at {@code leader} (or at nobody when null) and reload. */
    record Follow(String leader, String reason) implements Action {
        public Traits traits() {
            return Traits.STEADY_REPROBE;
        }
    }

    /**
     * This former primary may have diverged from {@code leader}: stop, pg_rewind, and start as its replica. If the
     * source is not ready yet nothing else happens; if pg_rewind fails, the next cycle decides what becomes of the
     * data directory ({@link RemoveDataDirectory}).
     */
    record Rewind(String leader, String reason) implements Action {
        public Traits traits() {
            return Traits.SOON_REPROBE_STOPS;
        }
    }

    /** pg_rewind failed: remove the stopped data directory, so that the next cycle clones it anew from the leader. */
    record RemoveDataDirectory(String reason) implements Action {
        public Traits traits() {
            return Traits.SOON_REPROBE;
        }
    }

    /**
     * Planned switchover, run by the leader, step 1: stop PostgreSQL with a shutdown checkpoint. Writes stop here;
     * the next cycles wait ({@link AwaitHandover}) until one of {@code candidates} has received WAL up to that
     * checkpoint and then {@link HandOver} the key, or give up and keep it.
     *
     * @param candidates healthy members, best first; the named candidate alone when the request named one
     * @param failoverRevision the failover key's mod revision, to clear it if the switchover is abandoned
     */
    record Switchover(List<String> candidates, long failoverRevision, String reason) implements Action {
        public Switchover {
            candidates = List.copyOf(candidates);
        }

        public Traits traits() {
            return new Traits(Pace.NOW, true, Callback.ON_STOP, Answer.REFUSAL, false);
        }
    }

    /** A switchover's leader, stopped, waits a little longer for a candidate to receive its shutdown checkpoint. */
    record AwaitHandover(String reason) implements Action {
        public Traits traits() {
            return new Traits(Pace.POLL, false, Callback.NONE, Answer.REFUSAL, false);
        }
    }

    /**
     * Switchover, last step: {@code candidate} has every byte up to my shutdown checkpoint, so its promotion loses
     * nothing. Write the checkpoint as the leader's last position in {@code status}; with synchronous replication,
     * hand the {@code sync} key to the candidate ({@code syncKey}: its {@code voters} and {@code quorum} written with
     * the candidate as leader, CAS on {@code syncKeyRevision}; null: none), so that it may be promoted without
     * gathering a quorum: it holds every acknowledged commit. Then release the leader key and start as the candidate's
     * standby (no pg_rewind needed: my WAL is a prefix of its).
     */
    record HandOver(String candidate, long checkpointLsn, SyncBeforePromote syncKey, String reason) implements Action {
        /** Without synchronous replication. */
        public HandOver(String candidate, long checkpointLsn, String reason) {
            this(candidate, checkpointLsn, null, reason);
        }

        public Traits traits() {
            return Traits.SOON_REPROBE;
        }
    }

    /** Delete the {@code failover} key (CAS on its revision): the request cannot or need not be carried out. */
    record ClearFailoverKey(long failoverRevision, String reason) implements Action {
        public Traits traits() {
            return Traits.SOON;
        }
    }

    /** Delete the leader key without touching PostgreSQL (pause mode: the key holder no longer runs as primary). */
    record ReleaseLeader(String reason) implements Action {
        public Traits traits() {
            return Traits.SOON;
        }
    }

    /** An operator asked for a restart: stop with a checkpoint, start again in the same role. */
    record Restart(boolean asPrimary, String follow, String reason) implements Action {
        public Traits traits() {
            return new Traits(Pace.SOON, true, Callback.ON_RESTART, Answer.WHEN_DONE, false);
        }
    }

    /** An operator asked to rebuild this replica: stop, remove the data directory, clone from {@code leader}. */
    record Reinitialize(String leader, String reason) implements Action {
        public Traits traits() {
            return new Traits(Pace.SOON, true, Callback.ON_STOP, Answer.WHEN_STARTED, false);
        }
    }

    /**
     * I am a running replica that still has slots of this cluster's (kept from when it was primary, or permanent
     * ones): drop those nobody streams from. On a standby they would hold back its WAL for ever.
     */
    record DropReplicaSlots(Set<String> slots, String reason) implements Action {
        public DropReplicaSlots {
            slots = Set.copyOf(slots);
        }

        public Traits traits() {
            return Traits.STEADY;
        }
    }

    /**
     * Rewrite the running PostgreSQL's configuration with {@code parameters}, the config key's
     * {@code postgresql.parameters}, and reload it (Patroni applies them at runtime too); those that need a restart
     * then show as pending_restart.
     */
    record ApplyParameters(Map<String, String> parameters, String reason) implements Action {
        public ApplyParameters {
            parameters = Map.copyOf(parameters);
        }

        public Traits traits() {
            return Traits.SOON_REPROBE;
        }
    }

    /**
     * Synchronous replication, one step of the leader's: CAS-write the {@code sync} key (Patroni's format) naming me
     * as leader with {@code voters} and {@code quorum}, expecting mod revision {@code expectedRevision} (0: absent).
     * Each step keeps every acknowledged commit on any member that may be promoted ({@link SyncRules#safe}).
     */
    record WriteSyncKey(String leader, Set<String> voters, int quorum, long expectedRevision, String reason)
            implements Action {
        public WriteSyncKey {
            voters = Set.copyOf(voters);
        }

        public Traits traits() {
            return Traits.SOON;
        }
    }

    /** synchronous_mode is off: CAS-delete the {@code sync} key (mod revision {@code expectedRevision}). */
    record DeleteSyncKey(long expectedRevision, String reason) implements Action {
        public Traits traits() {
            return Traits.SOON;
        }
    }

    /**
     * Synchronous replication, one step of the leader's: set {@code synchronous_standby_names} to
     * {@code synchronousStandbyNames} and reload (null: no longer managed; the configured value applies again).
     */
    record SetSyncStandbys(String synchronousStandbyNames, String reason) implements Action {
        public Traits traits() {
            return Traits.SOON_REPROBE;
        }
    }

    /**
     * A newly listed synchronous standby has not yet flushed what the primary had when it was listed: look again in
     * a moment, so that the sync key can name it soon (at most a couple of seconds; then the routine cycle resumes).
     */
    record AwaitSyncStandby(String reason) implements Action {
        public Traits traits() {
            return Traits.SOON;
        }
    }

    /**
     * A running primary that cannot reach the DCS, with failsafe_mode on, asks every other member the failsafe
     * topology names to confirm it ({@code POST /failsafe}, Patroni's {@code check_failsafe_topology}). When every one
     * accepts, the primary may keep taking writes until the round's send time plus ttl (minus the fence margin); the
     * outcome carries that send time. Not routine: nothing may take its place in the cycle.
     *
     * @param members member name -> api_url of every member to ask (the topology without me); empty for a single
     *                member, which is confirmed at once (Patroni: "A single node cluster")
     */
    record FailsafeRound(Map<String, String> members, String reason) implements Action {
        public FailsafeRound {
            members = Map.copyOf(members);
        }

        public Traits traits() {
            return Traits.STEADY;
        }
    }

    /**
     * Nothing to change this cycle.
     *
     * @param refusal when this cycle refuses an operator's request: which refusal, for the requester's answer; else
     *                null
     */
    record Wait(String reason, RequestRefusal refusal) implements Action {
        public Wait(String reason) {
            this(reason, null);
        }

        public Traits traits() {
            return Traits.ROUTINE;
        }
    }
}
