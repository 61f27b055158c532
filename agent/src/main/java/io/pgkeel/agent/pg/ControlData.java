package io.pgkeel.agent.pg;

import io.pgkeel.common.Lsn;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * pg_controldata's output, {@code name: value} per line (run with LC_ALL=C, so the names are the English ones of
 * PostgreSQL's {@code src/bin/pg_controldata/pg_controldata.c}). Empty when pg_controldata failed: every question
 * then has the "unknown" answer.
 *
 * @param fields the values by name, trimmed
 */
record ControlData(Map<String, String> fields) {
    static final ControlData NONE = new ControlData(Map.of());

    ControlData {
        fields = Map.copyOf(fields);
    }

    static ControlData parse(List<String> lines) {
        Map<String, String> out = new HashMap<>();
        for (String line : lines) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                out.put(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
            }
        }
        return new ControlData(out);
    }

    /** "Database cluster state", e.g. "in production", "shut down in recovery"; "" when unknown. */
    String state() {
        return fields.getOrDefault("Database cluster state", "");
    }

    /** "Database system identifier" as printed (a decimal number), or null. */
    String systemIdentifier() {
        return fields.get("Database system identifier");
    }

    /** "Latest checkpoint's TimeLineID"; 0 when unknown. */
    int checkpointTimeline() {
        String s = fields.get("Latest checkpoint's TimeLineID");
        try {
            return s == null ? 0 : Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /**
     * The state is one a primary leaves: running, or shut down (cleanly or not) since. A standby's says "in archive
     * recovery" or "shut down in recovery".
     */
    boolean ranAsPrimary() {
        String state = state();
        return state.equals("in production") || state.equals("shut down") || state.equals("shutting down");
    }

    /** The latest checkpoint's LSN of a primary shut down cleanly ("shut down"); else -1. */
    long shutdownCheckpoint() {
        if (!"shut down".equals(fields.get("Database cluster state"))) {
            return -1;
        }
        try {
            return Lsn.parse(fields.getOrDefault("Latest checkpoint location", ""));
        } catch (IllegalArgumentException e) {
            return -1;
        }
    }
}
