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
 * @param localUsePgRewind  {@code postgresql.use_pg_rewind} in the local file, which wins when set
 */
public record NodeIdentity(String scope, String name, Map<String, Object> tags, Map<String, Object> bootstrapDcs,
                           DynamicConfig bootstrapDynamic, Optional<Boolean> localUsePgRewind, String connUrl,
                           String apiUrl, String version) {
    public NodeIdentity {
        tags = Map.copyOf(Tags.advertised(tags));
        bootstrapDcs = Map.copyOf(bootstrapDcs);
    }
}
