package io.pgkeel.common.cluster;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The {@code sync} key, as Patroni writes it: {@code {"leader":"pg1","quorum":1,"sync_standby":"pg2,pg3"}}
 * (patroni/dcs/__init__.py, SyncState). On mode: only the leader and the members in {@code sync_standby} may be
 * promoted. Quorum mode: a candidate must see {@code quorum} members of leader + voters not ahead of it.
 *
 * @param leader      the primary that wrote it
 * @param voters      {@code sync_standby}, split on commas (PostgreSQL compares standby names case-insensitively,
 *                    so does {@link #matches})
 * @param quorum      {@code quorum}; 0 when absent (Patroni 3.x does not write it)
 * @param modRevision the key's etcd mod revision, for compare-and-set writes
 */
public record SyncKey(String leader, List<String> voters, int quorum, long modRevision) {
    public SyncKey {
        voters = List.copyOf(voters);
    }

    /** Patroni's {@code sync_standby} text: the names, comma separated; empty list for null or blank. */
    public static List<String> splitNames(String syncStandby) {
        List<String> out = new ArrayList<>();
        if (syncStandby != null) {
            for (String s : syncStandby.split(",")) {
                if (!s.isBlank()) {
                    out.add(s.trim());
                }
            }
        }
        return out;
    }

    /** Patroni's {@code SyncState.matches}: {@code name} is a voter, or (with {@code orLeader}) the leader. */
    public boolean matches(String name, boolean orLeader) {
        if (name == null) {
            return false;
        }
        String n = name.toLowerCase(Locale.ROOT);
        if (orLeader && leader != null && leader.toLowerCase(Locale.ROOT).equals(n)) {
            return true;
        }
        return voters.stream().anyMatch(v -> v.toLowerCase(Locale.ROOT).equals(n));
    }

    /** The {@code leader} field names {@code name}. */
    public boolean leaderIs(String name) {
        return name != null && leader != null && leader.equalsIgnoreCase(name);
    }
}
