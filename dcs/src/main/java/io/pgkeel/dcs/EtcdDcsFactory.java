package io.pgkeel.dcs;

import io.pgkeel.common.dcs.Dcs;

/** The one public way in: the jetcd implementation stays package-private. */
public final class EtcdDcsFactory {
    private EtcdDcsFactory() {}

    public static Dcs connect(EtcdSettings settings) {
        return new EtcdDcs(settings);
    }
}
