package io.pgkeel.agent.ha;

import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.cluster.Tags;
import java.util.Map;
import java.util.Optional;

/**
 * The local, static facts about this node that the loop needs (from the YAML file).
 *
 * @param tags              the tags this node advertises: as configured, less those Patroni leaves out
 *                          ({@link Tags#advertised})
 * @param bootstrapDcs      {@code bootstrap.dcs} as written: becomes the {@code config} key once
 * @param bootstrapDynamic  the same, parsed: in force until the {@code config} key can be read
 * @param local             the {@code postgresql.*} switches of the local file, which win over the config key's
 */
public record NodeIdentity(String scope, String name, Map<String, Object> tags, Map<String, Object> bootstrapDcs,
                           DynamicConfig bootstrapDynamic, LocalOverrides local, String connUrl,
                           String apiUrl, String version) {
    public NodeIdentity {
        tags = Map.copyOf(Tags.advertised(tags));
        bootstrapDcs = Map.copyOf(bootstrapDcs);
    }

    /**
     * The {@code postgresql.*} switches set in the local file: each wins over the config key's when present (Patroni
     * merges the local {@code postgresql} section over the dynamic one, patroni/config.py).
     */
    public record LocalOverrides(Optional<Boolean> usePgRewind, Optional<Boolean> removeDataDirectoryOnRewindFailure,
                                 Optional<Boolean> removeDataDirectoryOnDivergedTimelines) {
        public static final LocalOverrides NONE = new LocalOverrides(Optional.empty(), Optional.empty(),
                Optional.empty());
    }
}
