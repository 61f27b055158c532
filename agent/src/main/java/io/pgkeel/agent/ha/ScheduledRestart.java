package io.pgkeel.agent.ha;

import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Map;
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

    /**
     * As GET /patroni and the member key show it: {@code {"schedule": ..., "role": ...}} (role only when set). Patroni
     * also keeps the request's other filters and, in the member key, {@code postmaster_start_time}; pgkeel plans
     * restarts by time and role only.
     */
    public Map<String, Object> asPatroni() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("schedule", scheduleText());
        if (role != null) {
            out.put("role", role);
        }
        return out;
    }
}
