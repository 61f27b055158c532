package io.pgkeel.agent.ha;

import io.pgkeel.common.Lsn;
import io.pgkeel.common.cluster.ScheduledAt;
import io.pgkeel.common.pg.LocalPostgres.TimelineSwitch;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Patroni's {@code history} key, {@code [[timeline, lsn, reason, timestamp, new leader], ...]}, rebuilt from the
 * timeline history file by the leader, as Patroni's {@code Ha.update_cluster_history} does. Pure.
 */
final class ClusterHistory {
    private ClusterHistory() {}

    /**
     * One entry per line of the history file, oldest first. An entry already in the key for the same switch (same
     * timeline and LSN) keeps every field after the reason that it had, whichever Patroni version wrote it: 4 fields
     * (timestamp) before Patroni 2.0, 5 (and the new leader's name) since, more if a later version adds some. The
     * newest switch, mine, is stamped {@code now} with my name when the key has no timestamp for it (Patroni stamps
     * the history file's mtime); entries for older switches the key does not know stay 3 fields, as in Patroni. An
     * entry for another LSN on that timeline describes another switch and is replaced, as Patroni does.
     *
     * @param switches the lines of {@code pg_wal/<my timeline>.history}, oldest first
     * @param inKey    the entries the history key holds now, in whatever shape they were written
     * @param now      wall time, in the zone to write the offset of (Patroni writes its local zone's)
     */
    static List<List<Object>> update(List<TimelineSwitch> switches, List<List<Object>> inKey, ZonedDateTime now,
                                     String me) {
        Map<Long, List<Object>> known = new HashMap<>();
        for (List<Object> e : inKey) {
            if (e.size() >= 2) {
                integer(e.get(0)).ifPresent(tl -> known.put(tl, e));
            }
        }
        List<List<Object>> history = new ArrayList<>();
        for (int i = 0; i < switches.size(); i++) {
            TimelineSwitch s = switches.get(i);
            List<Object> entry = new ArrayList<>(List.of((long) s.parentTimeline(), s.switchLsn(), s.reason()));
            List<Object> previous = known.get((long) s.parentTimeline());
            if (previous != null && lsn(previous.get(1)).equals(OptionalLong.of(s.switchLsn()))) {
                entry.addAll(previous.subList(Math.min(3, previous.size()), previous.size()));
            }
            if (i == switches.size() - 1) {
                if (entry.size() == 3) {
                    entry.add(timestamp(now));
                }
                if (entry.size() == 4) {
                    entry.add(me);
                }
            }
            history.add(List.copyOf(entry));
        }
        return history;
    }

    /**
     * {@code t} as Python's {@code datetime.isoformat()} writes an aware datetime, the form of Patroni's history
     * timestamps: {@code 2020-12-10T18:37:06.718112+08:00}; microseconds, left out when zero; a numeric offset.
     */
    static String timestamp(ZonedDateTime t) {
        return ScheduledAt.isoformat(t.toOffsetDateTime());
    }

    private static OptionalLong integer(Object v) {
        if (v instanceof Long || v instanceof Integer) {
            return OptionalLong.of(((Number) v).longValue());
        }
        if (v instanceof String s && s.trim().matches("\\d{1,18}")) {
            return OptionalLong.of(Long.parseLong(s.trim()));
        }
        return OptionalLong.empty();
    }

    /** An LSN as Patroni writes it (an integer), or as a tool might: a digit string or {@code 0/3000060}. */
    private static OptionalLong lsn(Object v) {
        OptionalLong n = integer(v);
        if (n.isPresent() || !(v instanceof String s)) {
            return n;
        }
        try {
            return OptionalLong.of(Lsn.parse(s.trim()));
        } catch (IllegalArgumentException e) {
            return OptionalLong.empty();
        }
    }
}
