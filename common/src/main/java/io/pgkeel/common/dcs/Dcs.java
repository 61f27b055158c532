package io.pgkeel.common.dcs;

import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.Member;
import java.util.Map;

/**
 * The distributed configuration store, seen from one agent (one scope, one member name, one lease).
 *
 * <p>Every method is bounded by the implementation's call timeout and throws {@link DcsException} on failure
 * (timeout, connection loss, lease not found); none blocks forever. Methods marked CAS are atomic
 * compare-and-set transactions; the others are plain puts. The lease-related methods are timing-critical: the
 * HA loop derives its own lease deadline from {@link LeaseRenewal#sentAtNanos()}.
 *
 * <p>Implementations are thread-safe: the HA loop and the REST API's operator writes ({@link #read},
 * {@link #writeConfig}, {@link #writeFailover}, {@link #deleteFailover}) call one instance concurrently.
 */
public interface Dcs extends AutoCloseable {

    /** Linearizable read of everything under the cluster prefix. Keys holding garbage are left out and logged. */
    ClusterView read();

    /**
     * Refreshes this agent's lease once, granting a new one when there is none or it expired. The leader key and
     * the member key ride on it. A new lease is granted with {@code ttlSeconds}. Timing-critical.
     */
    LeaseRenewal keepAlive(long ttlSeconds);

    /** CAS: creates {@code leader = <me>} on my lease if the key does not exist. True when I now hold it. */
    boolean tryAcquireLeader();

    /**
     * CAS: when {@code leader} still says {@code <me>} but rides on another (older) lease of mine, moves it onto my
     * current lease. True when the key is now mine on my lease.
     */
    boolean reattachLeader();

    /** CAS: deletes {@code leader} only if it says {@code <me>}, so the others race at once. */
    boolean releaseLeader();

    /** Puts {@code members/<me>} on my lease. */
    void publishMember(Member me);

    /** CAS: creates {@code initialize} if absent. True when this agent won the bootstrap race. */
    boolean tryInitialize(String systemIdentifier);

    /** Puts {@code initialize} (the system identifier, once known). */
    void setInitialize(String systemIdentifier);

    /** Deletes {@code initialize} after a failed bootstrap, so another node may try. */
    void cancelInitialize();

    /** CAS: writes the {@code config} key if absent (the bootstrap.dcs section, once). */
    boolean initializeConfig(Map<String, Object> dynamicConfig);

    /**
     * CAS: writes the whole {@code config} key if its mod revision is still {@code expectedModRevision} (0: the
     * key must not exist); a negative revision writes unconditionally. False when someone else changed it first.
     */
    boolean writeConfig(Map<String, Object> dynamicConfig, long expectedModRevision);

    /**
     * CAS: writes the {@code failover} key {@code {"leader": .., "member": .., "scheduled_at": ..}} (null fields left
     * out) if its mod revision is still {@code expectedModRevision} (0: the key must not exist; negative: always).
     */
    boolean writeFailover(String leader, String member, String scheduledAt, long expectedModRevision);

    /**
     * CAS: deletes the {@code failover} key if its mod revision is still {@code expectedModRevision} (negative:
     * whatever it holds). True when this call deleted it.
     */
    boolean deleteFailover(long expectedModRevision);

    /**
     * CAS: writes the {@code sync} key {@code {"leader": .., "quorum": .., "sync_standby": "a,b"}} (voters sorted,
     * {@code sync_standby} null when there are none) if its mod revision is still {@code expectedModRevision} (0: the
     * key must not exist). True when written; false when someone else changed it first.
     */
    boolean writeSync(String leader, java.util.Collection<String> voters, int quorum, long expectedModRevision);

    /** CAS: deletes the {@code sync} key if its mod revision is still {@code expectedModRevision}. True when deleted. */
    boolean deleteSync(long expectedModRevision);

    /**
     * Puts the {@code failsafe} key (Patroni 3.0+ {@code write_failsafe}): {@code {"<member>":"<api_url>",...}} as
     * Python's compact JSON, on no lease: it outlives the leader, so the members it names are known while the DCS
     * is not accessible.
     */
    void writeFailsafe(Map<String, String> topology);

    /** Deletes the {@code failsafe} key (the leader does when failsafe_mode is off; pgkeel only). */
    void deleteFailsafe();

    /** Changes the bound on every later call (retry_timeout or ttl changed in the config key). */
    default void callTimeout(java.time.Duration timeout) {
    }

    /** Deletes every key under the cluster prefix ({@code pgkeel ctl remove}). */
    void removeCluster();

    /** Puts {@code history}: {@code [[timeline, lsn, reason, timestamp, new leader], ...]}. */
    void writeHistory(java.util.List<java.util.List<Object>> history);

    /**
     * Puts {@code status} with the leader's WAL position (Patroni's {@code optime}) and the members' slots it keeps,
     * departed members' included ({@code retain_slots} as Patroni 4 writes it, left out when empty).
     */
    void writeStatus(long optime, java.util.Set<String> retainSlots);

    /**
     * Calls {@code onChange} (on a DCS thread; it must be fast) whenever the {@code leader}, {@code config},
     * {@code failover} or {@code initialize} key changes or vanishes, when a new member key appears, and when the
     * watch itself breaks.
     */
    void watch(Runnable onChange);

    /** Revokes the lease (member key, and leader key if held, vanish at once) and closes the client. */
    @Override
    void close();
}
