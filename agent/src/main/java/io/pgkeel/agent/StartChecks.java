package io.pgkeel.agent;

import io.pgkeel.agent.ha.NodeSettings;
import io.pgkeel.common.Clock;
import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.Member;
import io.pgkeel.common.dcs.Dcs;
import io.pgkeel.common.dcs.DcsException;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What stops the agent before it touches anything. (1) A second agent under the name of a live member: two agents
 * writing one member key, racing for one leader key as one name, is a split brain made by a typo. As Patroni 3.0.4+
 * ({@code ensure_unique_name} in patroni/__main__.py): when etcd has a member key with this name and that member's
 * REST API answers any HTTP request to {@code /liveness} within 3 s, the agent stops with the reason. (2) A safety
 * setting pgkeel cannot honour yet in the DCS config key ({@link #configKeyRefusal}).
 */
final class StartChecks {
    private static final Logger log = LoggerFactory.getLogger(StartChecks.class);
    static final Duration LIVENESS_TIMEOUT = Duration.ofSeconds(3);

    private StartChecks() {}

    /**
     * A safety setting pgkeel cannot honour yet in the DCS config key (standby_cluster,
     * ...): the agent does not start, as with the same setting in its YAML (issue 11 §3). Read once
     * at start; one written later stops promotions instead (HaPolicy). Empty when none is set or etcd cannot be read
     * (then {@link #check} has already said so).
     *
     * @param configKey the key's etcd path, for the message ({@code /service/batman/config})
     */
    static Optional<String> configKeyRefusal(Dcs dcs, String configKey) {
        ClusterView cluster;
        try {
            cluster = dcs.read();
        } catch (DcsException e) {
            return Optional.empty();
        }
        java.util.List<String> refused = cluster.config().map(NodeSettings::refusedSettings)
                .orElse(java.util.List.of());
        return refused.isEmpty() ? Optional.empty() : Optional.of("the DCS config key " + configKey + " asks for what"
                + " pgkeel cannot honour yet: " + String.join("; ", refused));
    }

    /**
     * @param answers  whether something answers HTTP at a member's {@code api_url}'s {@code /liveness} (any status)
     * @param readFor  how long to keep trying to read etcd (Patroni waits for the DCS before this check)
     * @return the reason to refuse, or empty to go on
     */
    static Optional<String> check(Dcs dcs, String name, Predicate<Member> answers, Duration readFor, Clock clock) {
        long deadline = clock.nanoTime() + readFor.toNanos();
        ClusterView cluster = null;
        DcsException last = null;
        while (cluster == null) {
            try {
                cluster = dcs.read();
            } catch (DcsException e) {
                last = e;
                if (clock.nanoTime() - deadline >= 0) {
                    // starting without the check beats not starting while etcd is down; said once, loudly
                    log.warn("could not check that no other node named '{}' runs: etcd: {}", name, last.getMessage());
                    return Optional.empty();
                }
                clock.sleepNanos(Duration.ofMillis(500).toNanos());
            }
        }
        Optional<Member> same = cluster.member(name);
        if (same.isPresent() && same.get().apiUrl() != null && answers.test(same.get())) {
            return Optional.of("Can't start; there is already a node named '" + name + "' running (its REST API at "
                    + same.get().apiUrl() + " answers): give this node another name");
        }
        return Optional.empty();
    }
}
