package io.pgkeel.common.cluster;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the dynamic configuration from a map (the {@code config} key's JSON, or {@code bootstrap.dcs} in YAML).
 * Lenient: a bad or missing value keeps its default and adds a sentence naming the key to {@code problems}, so
 * one typo typed into etcd never stops the agent.
 */
public final class DynamicConfigParser {
    private DynamicConfigParser() {}

    public static DynamicConfig parse(Map<String, Object> raw, String where, List<String> problems) {
        pgHba(raw, where, problems);
        failsafeMode(raw, where, problems); // named here, read on demand
        secondsValue(raw, raw.containsKey("primary_stop_timeout") || !raw.containsKey("master_stop_timeout")
                ? "primary_stop_timeout" : "master_stop_timeout", 0, where, problems); // named here, read on demand
        Map<String, Object> pg = raw.get("postgresql") instanceof Map<?, ?> m ? asStringMap(m) : Map.of();
        Map<String, String> params = new LinkedHashMap<>();
        if (pg.get("parameters") instanceof Map<?, ?> p) {
            p.forEach((k, v) -> params.put(String.valueOf(k), v == null ? "" : String.valueOf(v)));
        }
        Timing timing = timing(raw, where, problems);
        return new DynamicConfig(
                timing.ttl(),
                timing.loopWait(),
                timing.retryTimeout(),
                longValue(raw, "maximum_lag_on_failover", DynamicConfig.DEFAULT_MAXIMUM_LAG_ON_FAILOVER, where, problems),
                boolValue(pg, "use_pg_rewind", false, where + ".postgresql", problems),
                boolValue(pg, "use_slots", true, where + ".postgresql", problems),
                secondsValue(raw, "member_slots_ttl", DynamicConfig.DEFAULT_MEMBER_SLOTS_TTL, where, problems),
                PermanentSlots.physical(raw, where, problems),
                boolValue(raw, "pause", false, where, problems),
                secondsValue(raw, raw.containsKey("primary_start_timeout") || !raw.containsKey("master_start_timeout")
                        ? "primary_start_timeout" : "master_start_timeout", DynamicConfig.DEFAULT_PRIMARY_START_TIMEOUT,
                        where, problems),
                boolValue(pg, "remove_data_directory_on_rewind_failure", false, where + ".postgresql", problems),
                boolValue(pg, "remove_data_directory_on_diverged_timelines", false, where + ".postgresql", problems),
                sync(raw, where, problems),
                params,
                raw,
                0);
    }

    /**
     * The ttl, loop_wait and retry_timeout in force for {@code raw}, with Patroni's minimums and adjustments
     * ({@link Timing#adjust}); a value that is not a whole number is a problem and keeps its default.
     */
    public static Timing timing(Map<String, Object> raw, String where, List<String> problems) {
        return Timing.adjust(intValue(raw, "ttl", DynamicConfig.DEFAULT_TTL, where, problems),
                intValue(raw, "loop_wait", DynamicConfig.DEFAULT_LOOP_WAIT, where, problems),
                intValue(raw, "retry_timeout", DynamicConfig.DEFAULT_RETRY_TIMEOUT, where, problems));
    }

    /**
     * {@code synchronous_mode} ({@link SyncMode#parse}), {@code synchronous_mode_strict} ({@link #patroniBool}),
     * {@code synchronous_node_count} (at least 1: Patroni's validator) and {@code maximum_lag_on_syncnode} (bytes, -1
     * or more). A bad value is named in {@code problems}; a bad synchronous_mode counts as on and a bad
     * synchronous_mode_strict as true, so that a typo never weakens what the operator asked for quietly; a bad number
     * keeps its default.
     */
    static SyncSettings sync(Map<String, Object> raw, String where, List<String> problems) {
        Object modeValue = raw.get("synchronous_mode");
        SyncMode mode = SyncMode.parse(modeValue);
        if (mode == null) {
            problems.add(where + ".synchronous_mode: expected on, off or quorum (or true/false, yes/no, 1/0), got '"
                    + modeValue + "'; using on");
            mode = SyncMode.ON;
        }
        Object strictValue = raw.get("synchronous_mode_strict");
        Boolean strict = strictValue == null ? Boolean.FALSE : patroniBool(strictValue);
        if (strict == null) {
            problems.add(where + ".synchronous_mode_strict: expected true or false (or on/off, yes/no, 1/0), got '"
                    + strictValue + "'; using true");
            strict = true;
        }
        int count = intValue(raw, "synchronous_node_count", 1, where, problems);
        if (count < 1) {
            problems.add(where + ".synchronous_node_count: must be at least 1, got " + count + "; using 1");
            count = 1;
        }
        long maxLag = longValue(raw, "maximum_lag_on_syncnode", -1, where, problems);
        if (maxLag < -1) {
            problems.add(where + ".maximum_lag_on_syncnode: must be -1 (no limit) or more bytes, got " + maxLag
                    + "; using -1");
            maxLag = -1;
        }
        return new SyncSettings(mode, strict, count, maxLag);
    }

    /** {@code failsafe_mode}: see {@link DynamicConfig#failsafeMode}; a bad value is named and counts as off. */
    static boolean failsafeMode(Map<String, Object> raw, String where, List<String> problems) {
        Object v = raw.get("failsafe_mode");
        if (v == null) {
            return false;
        }
        Boolean on = patroniBool(v);
        if (on == null) {
            problems.add(where + ".failsafe_mode: expected true or false (or on/off, yes/no, 1/0), got '" + v
                    + "'; using false");
            return false;
        }
        return on;
    }

    /**
     * Patroni's {@code parse_bool} (patroni/utils.py) of a YAML or JSON value: {@code str(value).lower()} is one of
     * on/true/yes/1 (true) or off/false/no/0 (false); null for anything else. As Python's {@code str}, a whole
     * number 1 or 0 counts, 1.0 does not, and no blank is trimmed.
     */
    static Boolean patroniBool(Object value) {
        if (value instanceof Boolean b) {
            return b;
        }
        String s;
        if (value instanceof Integer || value instanceof Long || value instanceof Short
                || value instanceof java.math.BigInteger) {
            s = value.toString();
        } else if (value instanceof String str) {
            s = str.toLowerCase(java.util.Locale.ROOT);
        } else {
            return null;
        }
        return switch (s) {
            case "on", "true", "yes", "1" -> Boolean.TRUE;
            case "off", "false", "no", "0" -> Boolean.FALSE;
            default -> null;
        };
    }

    /** {@code postgresql.pg_hba}: a list of pg_hba.conf lines; anything else is named in {@code problems}. */
    static List<String> pgHba(Map<String, Object> raw, String where, List<String> problems) {
        Object pg = raw.get("postgresql");
        Object hba = pg instanceof Map<?, ?> m ? m.get("pg_hba") : null;
        if (hba == null) {
            return List.of();
        }
        if (!(hba instanceof List<?> lines) || lines.stream().anyMatch(l -> !(l instanceof String))) {
            problems.add(where + ".postgresql.pg_hba: expected a list of pg_hba.conf lines, got '" + hba + "'");
            return List.of();
        }
        return lines.stream().map(String.class::cast).toList();
    }

    static Map<String, Object> asStringMap(Map<?, ?> m) {
        Map<String, Object> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put(String.valueOf(k), v));
        return out;
    }

    private static int intValue(Map<String, Object> raw, String key, int dflt, String where, List<String> problems) {
        long v = longValue(raw, key, dflt, where, problems);
        if (v > Integer.MAX_VALUE || v < Integer.MIN_VALUE) {
            problems.add(where + "." + key + ": " + v + " is out of range; using " + dflt);
            return dflt;
        }
        return (int) v;
    }

    private static long longValue(Map<String, Object> raw, String key, long dflt, String where, List<String> problems) {
        Object v = raw.get(key);
        if (v == null) {
            return dflt;
        }
        if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) {
            return n.longValue();
        }
        if (v instanceof String s) {
            try {
                return Long.parseLong(s.trim());
            } catch (NumberFormatException e) {
                // fall through to the problem below
            }
        }
        problems.add(where + "." + key + ": expected a whole number, got '" + v + "'; using " + dflt);
        return dflt;
    }

    /** Seconds as a whole number, or with Patroni's units: "90s", "30min", "2h", "1d". Negative is refused. */
    static int secondsValue(Map<String, Object> raw, String key, int dflt, String where, List<String> problems) {
        Object v = raw.get(key);
        if (v == null) {
            return dflt;
        }
        long seconds = -1;
        if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) {
            seconds = n.longValue();
        } else if (v instanceof String s) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\s*(\\d{1,9})\\s*(s|min|h|d)?\\s*").matcher(s);
            if (m.matches()) {
                long unit = m.group(2) == null ? 1 : switch (m.group(2)) {
                    case "min" -> 60;
                    case "h" -> 3600;
                    case "d" -> 86400;
                    default -> 1;
                };
                seconds = Long.parseLong(m.group(1)) * unit;
            }
        }
        if (seconds < 0 || seconds > Integer.MAX_VALUE) {
            problems.add(where + "." + key + ": expected seconds (a whole number, or with s, min, h or d), got '" + v
                    + "'; using " + dflt);
            return dflt;
        }
        return (int) seconds;
    }

    private static boolean boolValue(Map<String, Object> raw, String key, boolean dflt, String where, List<String> problems) {
        Object v = raw.get(key);
        if (v == null) {
            return dflt;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        if (v instanceof String s) {
            switch (s.trim().toLowerCase(java.util.Locale.ROOT)) {
                case "true", "on", "yes", "1":
                    return true;
                case "false", "off", "no", "0":
                    return false;
                default:
                    break;
            }
        }
        problems.add(where + "." + key + ": expected true or false, got '" + v + "'; using " + dflt);
        return dflt;
    }
}
