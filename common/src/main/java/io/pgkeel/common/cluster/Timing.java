package io.pgkeel.common.cluster;

import java.util.ArrayList;
import java.util.List;

/**
 * The effective {@code ttl}, {@code loop_wait} and {@code retry_timeout} (seconds) for the values written in the
 * config key or {@code bootstrap.dcs}, with the sentences that say what was adjusted.
 *
 * <p>Patroni 4.1 ({@code patroni/config.py}, {@code Config._validate_and_adjust_timeouts}) never refuses a timing: it
 * raises each value to its minimum, then, when {@code loop_wait + 2 * retry_timeout > ttl}, lowers {@code loop_wait}
 * to {@code ttl - 2 * retry_timeout}, or, when even {@code loop_wait = 1} does not fit, sets {@code loop_wait = 1}
 * and {@code retry_timeout = (ttl - 1) / 2}; each change is a warning. pgkeel does the same, with one difference
 * (docs/decisions.md): Patroni raises a ttl below 20 to 20; pgkeel keeps any ttl from {@link #MIN_TTL} up, because
 * its safety comes from the lease fence, which is derived from the ttl actually granted to the lease.
 *
 * @param ttl          seconds the leader lease lives without a renewal
 * @param loopWait     seconds between HA cycles
 * @param retryTimeout seconds a DCS or PostgreSQL call may be retried
 * @param adjustments  one sentence per value changed, empty when the written values are used as they are
 */
public record Timing(int ttl, int loopWait, int retryTimeout, List<String> adjustments) {
    /** pgkeel's shortest lease (Patroni: 20): a fence margin of 1 s still leaves the leader 3 s per renewal. */
    public static final int MIN_TTL = 4;
    /** Patroni's minimum loop_wait. */
    public static final int MIN_LOOP_WAIT = 1;
    /** Patroni's minimum retry_timeout. */
    public static final int MIN_RETRY_TIMEOUT = 3;
    /** What one HA cycle's own work (probe, read, decide) is allowed before the renewal that follows it. */
    static final long CYCLE_WORK_MILLIS = 1000;

    public Timing {
        adjustments = List.copyOf(adjustments);
    }

    /** The values in force for the written ones: never refuses, as Patroni. */
    public static Timing adjust(int ttl, int loopWait, int retryTimeout) {
        List<String> notes = new ArrayList<>();
        int lw = atLeast("loop_wait", loopWait, MIN_LOOP_WAIT, notes);
        int rt = atLeast("retry_timeout", retryTimeout, MIN_RETRY_TIMEOUT, notes);
        int t = atLeast("ttl", ttl, MIN_TTL, notes);
        if (MIN_LOOP_WAIT + 2L * rt > t) {
            int newRt = Math.max(1, (t - MIN_LOOP_WAIT) / 2);
            notes.add("loop_wait + 2 * retry_timeout must not exceed ttl (" + t + "): adjusting loop_wait from " + lw
                    + " to " + MIN_LOOP_WAIT + " and retry_timeout from " + rt + " to " + newRt);
            lw = MIN_LOOP_WAIT;
            rt = newRt;
        } else if (lw + 2L * rt > t) {
            int newLw = t - 2 * rt;
            notes.add("loop_wait + 2 * retry_timeout must not exceed ttl (" + t + ") with retry_timeout " + rt
                    + ": adjusting loop_wait from " + lw + " to " + newLw);
            lw = newLw;
        }
        // pgkeel's own rule: a healthy leader's next renewal (after loop_wait, the cycle's work and a slow etcd call)
        // lands before the fence stops its writes at ttl - margin; else the fence would fire on a healthy cluster
        long roomMillis = t * 1000L - fenceMarginMillis(t) - callTimeoutMillis(t, rt) - CYCLE_WORK_MILLIS;
        int maxLw = (int) Math.max(MIN_LOOP_WAIT, roomMillis / 1000);
        if (lw > maxLw) {
            notes.add("loop_wait " + lw + " leaves a leader no time to renew its lease before the fence (ttl " + t
                    + " - " + fenceMarginMillis(t) / 1000.0 + " s): adjusting loop_wait from " + lw + " to " + maxLw);
            lw = maxLw;
        }
        return new Timing(t, lw, rt, notes);
    }

    /**
     * Milliseconds between the fence deadline and the lease's expiry: ttl/5, within 1-5 s. A primary that has not
     * renewed by {@code lease valid until - margin} stops taking writes.
     */
    public static long fenceMarginMillis(int ttlSeconds) {
        return Math.max(1000, Math.min(5000, ttlSeconds * 200L));
    }

    /** Bound on every etcd request in milliseconds: a quarter of the ttl, at least 1 s, at most retry_timeout. */
    public static long callTimeoutMillis(int ttlSeconds, int retryTimeoutSeconds) {
        return Math.max(1000, Math.min(retryTimeoutSeconds * 1000L, ttlSeconds * 250L));
    }

    private static int atLeast(String key, int value, int min, List<String> notes) {
        if (value < min) {
            notes.add(key + "=" + value + " can't be smaller than " + min + ", adjusting to " + min);
            return min;
        }
        return value;
    }
}
