package io.pgkeel.agent.ha;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgkeel.common.Clock;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 * <p>A promise outlives the agent too: {@link #give} records its end in its {@link AgentFile} (wall clock, since a
 * restart loses the monotonic one) before it returns, and a new agent reads it back and keeps it, with
 * {@link #CLOCK_STEP_MARGIN} for a wall clock stepped forward meanwhile (pgkeel only: Patroni's members forget their
 * promises when they restart). A restarted replica also waits one ttl before it races (HaPolicy), for a record lost.
 *
 * <p>Thread-safe: the REST handler gives, the HA loop claims and releases; every method is {@code synchronized}.
 * One per agent, made by {@link HaNode}.
 */
public final class FailsafePromise {
    private static final Logger log = LoggerFactory.getLogger(FailsafePromise.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * Added to a promise read back from disk: the wall clock may have been stepped forward (NTP) while the agent was
     * down, which would end the promise early by as much. Slewing (at most 0.5 ms/s) is far inside it.
     */
    public static final Duration CLOCK_STEP_MARGIN = Duration.ofSeconds(10);

    /**
     * The primary a promise was given to.
     *
     * @param untilNanos monotonic time (this node's clock) until which this node does not race
     * @param askedNanos monotonic time of the last {@code POST /failsafe} that gave or renewed it (for the log)
     */
    public record FailsafeLeader(String name, String connUrl, String apiUrl, long untilNanos, long askedNanos) {}

    /** {@link #give} could not record the promise in its {@link AgentFile}: not given (POST /failsafe answers 500). */
    public static final class NotRecorded extends RuntimeException {
        NotRecorded(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final Clock clock;
    private final AgentFile disk;
    /** Guarded by this. */
    private FailsafeLeader leader;
    /** Guarded by this. */
    private boolean claimed;

    /** Promises kept in memory only (a restarted agent forgets them). */
    public FailsafePromise(Clock clock) {
        this(clock, AgentFile.NONE);
    }

    /** Promises recorded on {@code disk}; one recorded by an earlier agent that still runs is kept. */
    public FailsafePromise(Clock clock, AgentFile disk) {
        this.clock = clock;
        this.disk = disk;
        this.leader = readBack();
    }

    /**
     * {@code POST /failsafe} accepted: promises {@code name} not to race until now + {@code ttlNanos}. A later promise
     * never shortens an earlier one. Refused (false) while this node has {@link #claim claimed} the right to become
     * primary.
     *
     * @throws NotRecorded when the promise's end could not be written to disk: it is not given (a promise a restart
     *                     forgets is none); an earlier one still runs
     */
    public synchronized boolean give(String name, String connUrl, String apiUrl, long ttlNanos) {
        if (claimed) {
            return false;
        }
        long now = clock.nanoTime();
        long until = now + ttlNanos;
        if (leader != null && leader.untilNanos() - until > 0) {
            until = leader.untilNanos();
        }
        Instant givenAt = clock.now();
        ObjectNode record = JSON.createObjectNode().put("name", name).put("conn_url", connUrl).put("api_url", apiUrl)
                .put("given_at", givenAt.toString()).put("until", givenAt.plusNanos(until - now).toString());
        try {
            disk.write(record.toString());
        } catch (IOException | RuntimeException e) {
            throw new NotRecorded("could not record the failsafe promise in " + disk + ": " + e.getMessage(), e);
        }
        leader = new FailsafeLeader(name, connUrl, apiUrl, until, now);
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

    /**
     * The promise an earlier agent recorded, if it still runs: until its wall-clock end plus
     * {@link #CLOCK_STEP_MARGIN}, but never longer from now than it was when given (plus the margin), so that a wall
     * clock stepped backward does not stretch it. An unreadable record is logged and ignored: the wait of one ttl after
     * the start (HaPolicy) is what is left.
     */
    private FailsafeLeader readBack() {
        Optional<String> text;
        try {
            text = disk.read();
        } catch (IOException | RuntimeException e) {
            log.error("could not read the failsafe promise recorded in {}: {}; waiting one ttl before racing instead",
                    disk, e.getMessage());
            return null;
        }
        if (text.isEmpty()) {
            return null;
        }
        try {
            JsonNode r = JSON.readTree(text.get());
            String name = r.path("name").asText(null);
            Instant givenAt = Instant.parse(r.path("given_at").asText(""));
            Instant until = Instant.parse(r.path("until").asText(""));
            if (name == null || until.isBefore(givenAt)) {
                throw new IOException("'name', 'given_at' and 'until' (not before 'given_at') are required");
            }
            Instant now = clock.now();
            Duration margin = CLOCK_STEP_MARGIN;
            Duration left = Duration.between(now, until.plus(margin));
            Duration longest = Duration.between(givenAt, until.plus(margin));
            if (left.compareTo(longest) > 0) {
                left = longest;
            }
            if (left.isNegative() || left.isZero()) {
                return null;
            }
            Duration sinceAsked = Duration.between(givenAt, now);
            long askedNanos = clock.nanoTime() - (sinceAsked.isNegative() ? 0 : sinceAsked.toNanos());
            log.warn("keeping the failsafe promise to primary '{}' recorded before this agent started: not racing for"
                    + " {} more s", name, TimeUnit.NANOSECONDS.toSeconds(left.toNanos()));
            return new FailsafeLeader(name, r.path("conn_url").asText(null), r.path("api_url").asText(null),
                    clock.nanoTime() + left.toNanos(), askedNanos);
        } catch (IOException | DateTimeParseException e) {
            log.error("ignoring the failsafe promise recorded in {}, which is not one: {}; waiting one ttl before racing"
                    + " instead", disk, e.getMessage());
            return null;
        }
    }
}
