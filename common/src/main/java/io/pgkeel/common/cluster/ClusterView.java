package io.pgkeel.common.cluster;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Everything under {@code /<namespace>/<scope>/}, read in one linearizable range request, so every field is
 * from the same etcd revision. Keys that held garbage are absent here (and were logged by the reader).
 *
 * @param initialize    the {@code initialize} key: the database system identifier ("" while bootstrapping)
 * @param lastLeaderLsn the leader's WAL position from the {@code status} key ({@code optime})
 * @param history       the {@code history} key: {@code [timeline, lsn, reason, timestamp, new leader]} entries
 * @param revision      the etcd revision the view was read at
 * @param retainedSlots from the {@code status} key ({@code retain_slots}, as Patroni 4): the members' slots the
 *                      leader keeps, departed members' included, so that a leader that never saw a departed
 *                      member still knows its slot for one
 * @param sync          the {@code sync} key (synchronous replication); absent when missing or empty ({@code {}},
 *                      no leader: Patroni's {@code SyncState.is_empty})
 * @param failsafe      the {@code failsafe} key (Patroni 3.0+): member name -> api_url of every member the leader
 *                      last saw; absent when missing, {@code {}}, or not a JSON object of strings (garbage is logged
 *                      by the reader), as Patroni discards such a key
 */
public record ClusterView(
        Optional<String> initialize,
        Optional<DynamicConfig> config,
        Optional<LeaderKey> leader,
        List<Member> members,
        Optional<Long> lastLeaderLsn,
        Optional<FailoverKey> failover,
        List<List<Object>> history,
        long revision,
        Set<String> retainedSlots,
        Optional<SyncKey> sync,
        Optional<Map<String, String>> failsafe) {

    public ClusterView {
        members = List.copyOf(members);
        history = List.copyOf(history);
        retainedSlots = Set.copyOf(retainedSlots);
        failsafe = failsafe == null ? Optional.empty()
                : failsafe.filter(f -> !f.isEmpty()).map(f -> java.util.Collections.unmodifiableMap(
                        new java.util.TreeMap<>(f)));
    }

    /** A view without a failsafe key. */
    public ClusterView(Optional<String> initialize, Optional<DynamicConfig> config, Optional<LeaderKey> leader,
            List<Member> members, Optional<Long> lastLeaderLsn, Optional<FailoverKey> failover,
            List<List<Object>> history, long revision, Set<String> retainedSlots, Optional<SyncKey> sync) {
        this(initialize, config, leader, members, lastLeaderLsn, failover, history, revision, retainedSlots, sync,
                Optional.empty());
    }

    /** The same view with {@code failsafe} as its failsafe key. */
    public ClusterView withFailsafe(Optional<Map<String, String>> failsafeKey) {
        return new ClusterView(initialize, config, leader, members, lastLeaderLsn, failover, history, revision,
                retainedSlots, sync, failsafeKey);
    }

    /** A view without a sync key. */
    public ClusterView(Optional<String> initialize, Optional<DynamicConfig> config, Optional<LeaderKey> leader,
            List<Member> members, Optional<Long> lastLeaderLsn, Optional<FailoverKey> failover,
            List<List<Object>> history, long revision, Set<String> retainedSlots) {
        this(initialize, config, leader, members, lastLeaderLsn, failover, history, revision, retainedSlots,
                Optional.empty());
    }

    /** The same view with {@code sync} as its sync key. */
    public ClusterView withSync(Optional<SyncKey> syncKey) {
        return new ClusterView(initialize, config, leader, members, lastLeaderLsn, failover, history, revision,
                retainedSlots, syncKey, failsafe);
    }

    /** A view whose status key names no retained slots. */
    public ClusterView(Optional<String> initialize, Optional<DynamicConfig> config, Optional<LeaderKey> leader,
            List<Member> members, Optional<Long> lastLeaderLsn, Optional<FailoverKey> failover,
            List<List<Object>> history, long revision) {
        this(initialize, config, leader, members, lastLeaderLsn, failover, history, revision, Set.of());
    }

    public static ClusterView empty() {
        return new ClusterView(Optional.empty(), Optional.empty(), Optional.empty(), List.of(), Optional.empty(),
                Optional.empty(), List.of(), 0);
    }

    public boolean isUnlocked() {
        return leader.isEmpty();
    }

    public Optional<Member> member(String name) {
        return members.stream().filter(m -> m.name().equals(name)).findFirst();
    }

    public Optional<Member> leaderMember() {
        return leader.flatMap(l -> member(l.name()));
    }

    public boolean isLeader(String name) {
        return leader.map(l -> l.name().equals(name)).orElse(false);
    }
}
