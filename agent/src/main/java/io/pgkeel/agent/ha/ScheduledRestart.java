package io.pgkeel.agent.ha;

import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Objects;

/**
 * A restart of PostgreSQL an operator planned for later ({@code POST /restart} with {@code schedule}), kept in the
 * agent's memory as Patroni keeps it ({@code Patroni.scheduled_restart}).
 *
 * @param schedule when the restart is due (wall clock)
 * @param role     restart only if this member then has this role ("primary" or "replica"); null for any
 */
public record ScheduledRestart(Instant schedule, String role) {
    public ScheduledRestart {
        Objects.requireNonNull(schedule, "schedule");
    }

    /** {@link #schedule} as Patroni shows it (Python's {@code isoformat()}), in UTC: {@code 2026-01-01T01:00:00+00:00}. */
    public String scheduleText() {
        return ClusterHistory.timestamp(schedule.atZone(ZoneOffset.UTC));
    }
}
