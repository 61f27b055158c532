package io.pgkeel.common.cluster;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** Patroni's member tags: {@code nofailover}, {@code failover_priority}, {@code noloadbalance}, custom keys. */
public final class Tags {
    private Tags() {}

    /** {@code nofailover: true}, or {@code failover_priority <= 0}: never race for the leader key. */
    public static boolean nofailover(Map<String, Object> tags) {
        return truthy(tags.get("nofailover")) || (tags.containsKey("failover_priority") && failoverPriority(tags) <= 0);
    }

    /** Defaults to 1, as Patroni's. A value that is not a number counts as the default. */
    public static int failoverPriority(Map<String, Object> tags) {
        Object v = tags.get("failover_priority");
        if (v instanceof Number n) {
            return n.intValue();
        }
        if (v instanceof String s) {
            try {
                return Integer.parseInt(s.trim());
            } catch (NumberFormatException e) {
                return 1;
            }
        }
        return 1;
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
    private static boolean pythonTruthy(Object v) {
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
