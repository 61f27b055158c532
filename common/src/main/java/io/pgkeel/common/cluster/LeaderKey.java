package io.pgkeel.common.cluster;

import java.util.Objects;

/**
 * The {@code leader} key: its value is the holder's member name; it rides on the holder's lease.
 *
 * @param leaseId        the etcd lease the key is attached to (0 if none)
 * @param createRevision a fencing token: it changes every time the key is created anew
 */
public record LeaderKey(String name, long leaseId, long createRevision, long modRevision) {
    public LeaderKey {
        Objects.requireNonNull(name, "name");
    }
}
