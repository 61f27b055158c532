package io.pgkeel.agent.ha;

import io.pgkeel.common.Clock;
import java.util.Optional;

/**
 * This node's word to a primary running in failsafe mode (Patroni 3.0+, {@code POST /failsafe}; patroni/ha.py
 * {@code Failsafe}): once {@link #give given}, the node does not take the leader key, promote or bootstrap until
 * {@code ttl} has passed on its own monotonic clock. The primary keeps taking writes only up to {@code sentAt + ttl}
 * of a round every member accepted (its {@code sentAt} precedes each receipt), so while a promise runs nobody it was
 * given to can become a second primary (docs/decisions.md, "failsafe_mode").
 *
 * <p>{@link #claim} and {@link #give} exclude each other: a node about to become primary claims first and refuses
 * promises from then on, until {@link #release} (it is a replica again without the key). A promise outlives a config
 * change: failsafe_mode turned off refuses new promises (the REST handler's check), never cancels one given.
 *
 * <p>Thread-safe: the REST handler gives, the HA loop claims and releases; every method is {@code synchronized}.
 * One per agent, made by {@link HaNode}; an agent that restarts forgets its promises, which is why a restarted
 * replica waits one ttl before it races (HaPolicy).
 */
public final class FailsafePromise {
    /**
     * The primary a promise was given to.
     *
     * @param untilNanos monotonic time (this node's clock) until which this node does not race
     */
    public record FailsafeLeader(String name, String connUrl, String apiUrl, long untilNanos) {}

    private final Clock clock;
    /** Guarded by this. */
    private FailsafeLeader leader;
    /** Guarded by this. */
    private boolean claimed;

    public FailsafePromise(Clock clock) {
        this.clock = clock;
    }

    /**
     * {@code POST /failsafe} accepted: promises {@code name} not to race until now + {@code ttlNanos}. A later promise
     * never shortens an earlier one. Refused (false) while this node has {@link #claim claimed} the right to become
     * primary.
     */
    public synchronized boolean give(String name, String connUrl, String apiUrl, long ttlNanos) {
        if (claimed) {
            return false;
        }
        long until = clock.nanoTime() + ttlNanos;
        if (leader != null && leader.untilNanos() - until > 0) {
            until = leader.untilNanos();
        }
        leader = new FailsafeLeader(name, connUrl, apiUrl, until);
        return true;
    }

    /**
     * Before taking the leader key, promoting, bootstrapping or starting PostgreSQL as primary: false while a promise
     * runs; when true, {@link #give} refuses until {@link #release}.
     */
    public synchronized boolean claim() {
        if (runningAt(clock.nanoTime())) {
            return false;
        }
        claimed = true;
        return true;
    }

    /** The node is a replica again and does not hold the key: it may give promises again. */
    public synchronized void release() {
        claimed = false;
    }

    /** Whether this node has claimed the right to become primary (and refuses promises). */
    public synchronized boolean isClaimed() {
        return claimed;
    }

    /** The primary whose promise runs now, if any. */
    public synchronized Optional<FailsafeLeader> active() {
        return runningAt(clock.nanoTime()) ? Optional.of(leader) : Optional.empty();
    }

    private boolean runningAt(long nowNanos) {
        return leader != null && nowNanos - leader.untilNanos() < 0;
    }
}
