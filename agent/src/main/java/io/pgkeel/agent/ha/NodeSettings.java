package io.pgkeel.agent.ha;

import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.cluster.Tags;
import io.pgkeel.common.cluster.Timing;
import io.pgkeel.config.PatroniKeys;
import java.util.List;
import java.util.Map;

/**
 * What decide needs to know about this node and the cluster settings in force this cycle.
 *
 * @param dynamic      the {@code config} key if present, else this node's {@code bootstrap.dcs}
 * @param usePgRewind  the effective use_pg_rewind (local setting wins over dynamic)
 * @param removeDataDirectoryOnRewindFailure    the effective remove_data_directory_on_rewind_failure (likewise)
 * @param removeDataDirectoryOnDivergedTimelines the effective remove_data_directory_on_diverged_timelines (likewise)
 * @param fenceMarginNanos how long before the lease can expire the primary must already have stopped taking writes
 * @param apiUrl       this member's REST API address as published ({@code api_url}), or null when unknown
 */
public record NodeSettings(String name, Map<String, Object> tags, DynamicConfig dynamic, boolean usePgRewind,
                           boolean removeDataDirectoryOnRewindFailure, boolean removeDataDirectoryOnDivergedTimelines,
                           long fenceMarginNanos, String apiUrl) {
    public NodeSettings {
        tags = Map.copyOf(tags);
    }

    /** Settings of a node whose REST address is not known. */
    public NodeSettings(String name, Map<String, Object> tags, DynamicConfig dynamic, boolean usePgRewind,
                        boolean removeDataDirectoryOnRewindFailure, boolean removeDataDirectoryOnDivergedTimelines,
                        long fenceMarginNanos) {
        this(name, tags, dynamic, usePgRewind, removeDataDirectoryOnRewindFailure,
                removeDataDirectoryOnDivergedTimelines, fenceMarginNanos, null);
    }

    /**
     * The safety settings in force that pgkeel cannot honour yet (a standby_cluster, ...;
     * {@link PatroniKeys}; synchronous_mode is not one since issue 12, failsafe_mode since issue 13), one sentence each. While any is set, no
     * replica promotes itself: a promotion is where the guarantee the operator asked for would be lost
     * (docs/decisions.md).
     */
    public List<String> refusedSettings() {
        return refusedSettings(dynamic);
    }

    /** {@link #refusedSettings()} of a config key read outside the loop (the agent's start checks). */
    public static List<String> refusedSettings(DynamicConfig config) {
        return PatroniKeys.refusals(PatroniKeys.checkDynamic(config.raw(), "config")).stream()
                .map(PatroniKeys.Finding::sentence).toList();
    }

    public boolean nofailover() {
        return Tags.nofailover(tags);
    }

    public int failoverPriority() {
        return Tags.failoverPriority(tags);
    }

    /** This node's settings with {@code dynamic} in force: a local {@code postgresql.*} switch wins over the key's. */
    public static NodeSettings of(NodeIdentity identity, DynamicConfig dynamic) {
        NodeIdentity.LocalOverrides local = identity.local();
        return new NodeSettings(identity.name(), identity.tags(), dynamic,
                local.usePgRewind().orElse(dynamic.usePgRewind()),
                local.removeDataDirectoryOnRewindFailure().orElse(dynamic.removeDataDirectoryOnRewindFailure()),
                local.removeDataDirectoryOnDivergedTimelines().orElse(dynamic.removeDataDirectoryOnDivergedTimelines()),
                fenceMarginFor(dynamic.ttl()), identity.apiUrl());
    }

    /** Every etcd request is bounded: a quarter of the ttl, at least 1 s, at most retry_timeout. */
    public static java.time.Duration callTimeoutFor(DynamicConfig c) {
        return java.time.Duration.ofMillis(Timing.callTimeoutMillis(c.ttl(), c.retryTimeout()));
    }

    /** Margin between the lease deadline and the moment a primary that cannot renew stops: ttl/5, within 1-5 s. */
    public static long fenceMarginFor(int ttlSeconds) {
        return Timing.fenceMarginMillis(ttlSeconds) * 1_000_000L;
    }
}
