package io.pgkeel.agent;

import io.pgkeel.common.Clock;
import io.pgkeel.config.PgkeelConfig;
import io.pgkeel.dcs.EtcdSettings;
import java.time.Duration;

/**
 * The one translation of the {@code etcd3} section into the DCS client's settings, shared by the agent and
 * {@code pgkeel ctl} so that both reach etcd alike (Patroni's {@code get_etcd_client}, used by patroni and
 * patronictl).
 */
public final class EtcdClientSettings {
    private EtcdClientSettings() {}

    /**
     * @param memberName  this agent's name (ctl: a name of its own; it holds no lease)
     * @param callTimeout bound on each etcd request
     */
    public static EtcdSettings of(PgkeelConfig config, String memberName, Duration callTimeout, String version,
                                  Clock clock) {
        PgkeelConfig.Etcd etcd = config.etcd();
        return new EtcdSettings(etcd.urls(), config.clusterPrefix(), memberName, callTimeout, version, clock,
                new EtcdSettings.Security(etcd.cacert(), etcd.cert(), etcd.key(), etcd.username(), etcd.password()));
    }
}
