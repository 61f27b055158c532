package io.pgkeel.dcs;

import io.pgkeel.common.Clock;
import java.time.Duration;
import java.util.List;

/**
 * How to reach etcd and who this agent is there.
 *
 * @param endpoints   {@code http://host:port} of each etcd member
 * @param prefix      the cluster prefix, {@code /service/<scope>/}
 * @param callTimeout bound on every single request; the HA loop never waits longer for etcd
 */
public record EtcdSettings(List<String> endpoints, String prefix, String memberName, Duration callTimeout,
                           String agentVersion, Clock clock) {
    public EtcdSettings {
        endpoints = List.copyOf(endpoints);
        if (!prefix.endsWith("/")) {
            prefix = prefix + "/";
        }
    }
}
