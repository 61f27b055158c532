package io.pgkeel.common.cluster;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** Patroni's member tags: {@code nofailover}, {@code failover_priority}, {@code noloadbalance}, custom keys. */
public final class Tags {
    private Tags() {}

    /**
     * Never race for the leader key. A {@code nofailover} tag that is present decides on its own (Patroni 3.2.2+,
     * patroni/tags.py: "value of bool tag takes precedence over priority tag"); without it, a
     * {@code failover_priority} of 0 or less means never.
     */
    public static boolean nofailover(Map<String, Object> tags) {
        Object tag = tags.get("nofailover");
        if (tag != null) {
            return truthy(tag);
        }
        Integer priority = priority(tags.get("failover_priority"));
        return priority != null && priority <= 0;
    }

    /**
     * Never picked as a synchronous standby (Patroni's {@code nosync}; like {@link #nofailover}, a present
     * {@code nosync} decides on its own, else a {@code sync_priority} of 0 or less means never: patroni/tags.py).
     */
    public static boolean nosync(Map<String, Object> tags) {
        Object tag = tags.get("nosync");
        if (tag != null) {
            return truthy(tag);
        }
        Integer priority = priority(tags.get("sync_priority"));
        return priority != null && priority <= 0;
    }

    /**
     * Patroni's {@code sync_priority} (4.1, patroni/tags.py {@code _priority_tag}): higher is picked as synchronous
     * standby first; 0 when {@code nosync} is true, else the tag (0 or less: never, {@link #nosync}), else 1 (also for
     * a value that is not a whole number).
     */
    public static int syncPriority(Map<String, Object> tags) {
        if (truthy(tags.get("nosync"))) {
            return 0;
        }
        Integer priority = priority(tags.get("sync_priority"));
        return priority == null ? 1 : priority;
    }

    /**
     * The rank among members equally far ahead: 0 when {@code nofailover} is true, else {@code failover_priority},
     * else 1 (also for a value that is not a whole number), as Patroni's.
     */
    public static int failoverPriority(Map<String, Object> tags) {
        if (truthy(tags.get("nofailover"))) {
            return 0;
        }
        Integer priority = priority(tags.get("failover_priority"));
        return priority == null ? 1 : priority;
    }

    /**
     * Patroni's start-up warnings for tags that say two things (patroni/config.py, validate_tag): nofailover or
     * nosync true with a positive failover_priority or sync_priority, or false with one of 0 or less. Empty when
     * they agree; the boolean tag wins either way.
     */
    public static List<String> conflicts(Map<String, Object> tags) {
        List<String> out = new ArrayList<>();
        conflict(tags, "nofailover", "failover_priority").ifPresent(out::add);
        conflict(tags, "nosync", "sync_priority").ifPresent(out::add);
        return List.copyOf(out);
    }

    private static java.util.Optional<String> conflict(Map<String, Object> tags, String boolName, String priorityName) {
        if (!tags.containsKey(boolName)) {
            return java.util.Optional.empty();
        }
        Integer priority = priority(tags.get(priorityName));
        boolean on = truthy(tags.get(boolName));
        if (priority == null || on == priority <= 0) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of("tags: conflicting configuration between " + boolName + ": " + on + " and "
                + priorityName + ": " + priority + "; " + boolName + ": " + on + " wins");
    }

    private static Integer priority(Object v) {
        if (v instanceof Number n) {
            return n.intValue();
        }
        if (v instanceof String s) {
            try {
                return Integer.parseInt(s.trim());
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return null;
    }

    /** Patroni's own boolean tags; they default to off, so Patroni leaves out those that are off. */
    private static final Set<String> BOOLEAN_TAGS = Set.of("clonefrom", "nofailover", "noloadbalance", "nosync", "nostream");

    /**
     * The tags a node advertises (member key, GET /patroni, health-check filters), from those configured, as
     * Patroni's {@code Tags._filter_tags} (patroni/tags.py): a boolean tag that is off (falsy in Python's sense:
     * false, 0, "", an empty list or map, null) is left out, except {@code nofailover} beside
     * {@code failover_priority} and {@code nosync} beside {@code sync_priority}, which settle a contradiction
     * between the two. Custom tags are kept whatever their value.
     */
    public static Map<String, Object> advertised(Map<String, Object> configured) {
        Map<String, Object> out = new LinkedHashMap<>();
        configured.forEach((tag, value) -> {
            if (!BOOLEAN_TAGS.contains(tag) || pythonTruthy(value)
                    || tag.equals("nofailover") && configured.containsKey("failover_priority")
                    || tag.equals("nosync") && configured.containsKey("sync_priority")) {
                out.put(tag, value);
            }
        });
        return out;
    }

    /** Python's truth value of a JSON/YAML value: a non-empty string is true, even "false". */
    public static boolean pythonTruthy(Object v) {
        if (v == null) {
            return false;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        if (v instanceof Number n) {
            return n.doubleValue() != 0;
        }
        if (v instanceof CharSequence s) {
            return s.length() > 0;
        }
        if (v instanceof Collection<?> c) {
            return !c.isEmpty();
        }
        return !(v instanceof Map<?, ?> m) || !m.isEmpty();
    }

    public static boolean truthy(Object v) {
        if (v instanceof Boolean b) {
            return b;
        }
        if (v instanceof String s) {
            String t = s.trim().toLowerCase(Locale.ROOT);
            return t.equals("true") || t.equals("on") || t.equals("yes") || t.equals("1");
        }
        return v instanceof Number n && n.intValue() != 0;
    }
}
