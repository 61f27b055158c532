package io.pgkeel.common.dcs;

/**
 * A successful lease refresh.
 *
 * @param sentAtNanos monotonic time at which the refresh request was sent: etcd cannot expire the lease before
 *                    {@code sentAtNanos + ttlSeconds}, so deadlines are measured from here, never from receipt
 * @param granted     true when this refresh had to grant a new lease (the previous one was lost)
 */
public record LeaseRenewal(long leaseId, long sentAtNanos, long ttlSeconds, boolean granted) {}
