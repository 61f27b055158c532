package io.pgkeel.common.cluster;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Edits of the dynamic configuration (the {@code config} key), shared by PATCH /config and {@code ctl edit-config}:
 * RFC 7386 JSON merge patch (null deletes) and the checks a new configuration must pass before it is written.
 */
public final class ConfigPatch {
    private ConfigPatch() {}

    /** {@code target} with {@code patch} merged in; neither argument is changed. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> merge(Map<String, Object> target, Map<String, Object> patch) {
        Map<String, Object> out = new LinkedHashMap<>(target);
        patch.forEach((k, v) -> {
            if (v == null) {
                out.remove(k);
            } else if (v instanceof Map<?, ?> vm && out.get(k) instanceof Map<?, ?> tm) {
                out.put(k, merge((Map<String, Object>) tm, (Map<String, Object>) vm));
            } else {
                out.put(k, v);
            }
        });
        return out;
    }

    /** Sentences naming each value of the wrong type; empty when the config may be written. */
    public static List<String> problems(Map<String, Object> config) {
        List<String> problems = new ArrayList<>();
        // wrong types only: odd timing is adjusted with a warning as Patroni 4.1 does (Timing), never refused
        DynamicConfigParser.parse(config, "config", problems);
        return problems;
    }
}
