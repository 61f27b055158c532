package io.pgkeel.common.cluster;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Patroni's {@code permanent_slots} (or its older name {@code slots}): replication slots the primary keeps
 * whichever member it is, for consumers outside the cluster (a standby in another data centre, a backup tool
 * streaming WAL). pgkeel keeps the physical ones; logical ones (Patroni copies their position to the replicas)
 * are not supported yet and are only named, so the agent can warn.
 */
public final class PermanentSlots {
    private static final Pattern SLOT_NAME = Pattern.compile("[a-z0-9_]{1,63}");

    private PermanentSlots() {}

    /** Patroni's key, or its older name when only that one is present. */
    private static String key(Map<String, Object> raw) {
        return raw.containsKey("permanent_slots") ? "permanent_slots" : "slots";
    }

    private static Map<?, ?> section(Map<String, Object> raw) {
        return raw.get(key(raw)) instanceof Map<?, ?> m ? m : Map.of();
    }

    /** The physical slots to keep on the primary; a malformed entry is left out and named in {@code problems}. */
    static Set<String> physical(Map<String, Object> raw, String where, List<String> problems) {
        String key = key(raw);
        Object v = raw.get(key);
        if (v != null && !(v instanceof Map<?, ?>)) {
            problems.add(where + "." + key + ": expected a map of slot names to {type: physical} or {type: logical,"
                    + " database: ..., plugin: ...}, got '" + v + "'");
            return Set.of();
        }
        Set<String> names = new LinkedHashSet<>();
        section(raw).forEach((k, spec) -> {
            String name = String.valueOf(k);
            String at = where + "." + key + "." + name;
            if (!SLOT_NAME.matcher(name).matches()) {
                problems.add(at + ": a slot name is 1 to 63 characters of a-z, 0-9 and _");
                return;
            }
            Object type = spec instanceof Map<?, ?> m ? m.get("type") : null;
            if (spec != null && !(spec instanceof Map<?, ?>)) {
                problems.add(at + ": expected {type: physical} or {type: logical, database: ..., plugin: ...}, got '"
                        + spec + "'");
            } else if (type == null || "physical".equals(type)) {
                names.add(name);
            } else if (!"logical".equals(type)) {
                problems.add(at + ".type: expected physical or logical, got '" + type + "'");
            }
        });
        return names;
    }

    /** The logical slots listed, which pgkeel does not keep (yet). */
    public static Set<String> logical(Map<String, Object> raw) {
        Set<String> names = new LinkedHashSet<>();
        section(raw).forEach((k, spec) -> {
            if (spec instanceof Map<?, ?> m && "logical".equals(m.get("type"))) {
                names.add(String.valueOf(k));
            }
        });
        return names;
    }
}
