package io.pgkeel.agent.api;

import io.pgkeel.agent.ha.NodeSnapshot;
import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.dcs.Dcs;
import io.pgkeel.common.dcs.DcsException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The REST API's write operations. They call etcd, so the handler runs them on its own executor, never on the
 * event loop. Each returns the HTTP status and JSON body Patroni would.
 */
public final class AdminActions {
    /** An HTTP answer: status and a JSON-serializable body. */
    public record Result(int status, Object body) {}

    private final Dcs dcs;
    private final Supplier<NodeSnapshot> snapshot;
    private final Runnable wakeLoop;
    private final Runnable reload;

    /**
     * @param wakeLoop runs the HA loop's next cycle now (so a config change applies at once)
     * @param reload   re-reads the local configuration file (as SIGHUP)
     */
    public AdminActions(Dcs dcs, Supplier<NodeSnapshot> snapshot, Runnable wakeLoop, Runnable reload) {
        this.dcs = dcs;
        this.snapshot = snapshot;
        this.wakeLoop = wakeLoop;
        this.reload = reload;
    }

    /** PATCH /config: merge patch, validated, then compare-and-set on the revision this node last read. */
    Result patchConfig(Map<String, Object> patch) {
        NodeSnapshot s = snapshot.get();
        Optional<DynamicConfig> current = s == null || s.cluster() == null ? Optional.empty() : s.cluster().config();
        if (current.isEmpty()) {
            return new Result(503, Map.of("error", "no configuration in DCS to patch"));
        }
        Map<String, Object> merged = ConfigPatch.merge(current.get().raw(), patch);
        return write(merged, current.get().modRevision());
    }

    /** PUT /config: the whole configuration, validated, written as given. */
    Result putConfig(Map<String, Object> config) {
        return write(config, -1);
    }

    private Result write(Map<String, Object> config, long expectedRevision) {
        List<String> problems = ConfigPatch.problems(config);
        if (!problems.isEmpty()) {
            return new Result(400, Map.of("error", String.join("; ", problems)));
        }
        try {
            if (!dcs.writeConfig(config, expectedRevision)) {
                return new Result(409, Map.of("error", "the configuration was changed by someone else meanwhile; read"
                        + " it again and retry"));
            }
        } catch (DcsException e) {
            return new Result(502, Map.of("error", "could not write the configuration to DCS: " + e.getMessage()));
        }
        wakeLoop.run();
        return new Result(200, config);
    }

    /** POST /reload: as SIGHUP. */
    Result reload() {
        reload.run();
        return new Result(202, "reload scheduled");
    }
}
