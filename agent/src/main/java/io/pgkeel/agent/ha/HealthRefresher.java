package io.pgkeel.agent.ha;

import io.pgkeel.common.Clock;
import io.pgkeel.common.pg.PgRunState;
import io.pgkeel.common.pg.PgStatus;
import io.pgkeel.common.pg.PostmasterStatus;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps what the REST API answers from as fresh as the postmaster, between HA cycles: every {@link #PERIOD} it
 * reads what the postmaster says of itself ({@link io.pgkeel.common.pg.LocalPostgres#postmaster()}: postmaster.pid
 * and whether its PID lives, no SQL) and, when the published {@link NodeSnapshot} says otherwise, republishes it
 * with PostgreSQL's run state and recovery flag corrected. So {@code GET /replica} on a replica whose postmaster
 * was killed answers 503, and {@code GET /} on a leader whose PostgreSQL came back answers 200, within
 * {@link #BOUND}, not at the next cycle (up to loop_wait). Patroni gets the same freshness by running SQL on every
 * request ({@code api.py get_postgresql_status}).
 *
 * <p>It never decides anything: the HA loop learns of PostgreSQL only through its own observe step. When the
 * postmaster's word changes, it wakes the loop so that step comes at once (a crashed PostgreSQL is restarted
 * sooner too). Thread: its own ({@code pg-health}); the snapshot is replaced by compare-and-set, so a cycle that
 * publishes meanwhile is never overwritten (a stale cycle's word is corrected at the next look).
 */
public final class HealthRefresher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HealthRefresher.class);

    /** How often the postmaster is looked at. */
    public static final Duration PERIOD = Duration.ofMillis(100);
    /**
     * What docs/rest-api.md promises: the run state behind a health answer is never older than this (a look every
     * {@link #PERIOD}, and room for the thread to be scheduled late on a loaded machine).
     */
    public static final Duration BOUND = Duration.ofMillis(250);

    private final Supplier<PostmasterStatus> postmaster;
    private final AtomicReference<NodeSnapshot> published;
    private final Runnable wakeup;
    private final Clock clock;
    private final Thread thread;
    private volatile boolean running = true;
    /** The word of the last look, null before the first. Confined to the refresher's thread (or a test's). */
    private PostmasterStatus last;

    /**
     * @param postmaster what the postmaster says now (cheap, any thread, never throws)
     * @param published  the snapshot the REST API answers from, which the HA loop sets at the end of each cycle
     * @param wakeup     runs the HA loop's next cycle now
     * @param clock      paces the looks
     */
    public HealthRefresher(Supplier<PostmasterStatus> postmaster, AtomicReference<NodeSnapshot> published,
                           Runnable wakeup, Clock clock) {
        this.postmaster = postmaster;
        this.published = published;
        this.wakeup = wakeup;
        this.clock = clock;
        this.thread = new Thread(this::run, "pg-health");
        this.thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    private void run() {
        long period = PERIOD.toNanos();
        while (running) {
            try {
                refresh();
            } catch (RuntimeException e) {
                log.error("refreshing the health state failed, please report it as a BUG", e);
            }
            clock.sleepNanos(period);
        }
    }

    /**
     * One look: republishes the snapshot if the postmaster contradicts it, and wakes the loop if the postmaster's
     * word changed since the last look (not at the first).
     *
     * @return whether the snapshot was republished
     */
    boolean refresh() {
        PostmasterStatus now = postmaster.get();
        boolean changed = last != null && now != last;
        last = now;
        boolean republished = false;
        NodeSnapshot s = published.get();
        if (s != null) {
            PgStatus fresh = refreshed(s.pg(), now);
            if (fresh != s.pg()) {
                republished = published.compareAndSet(s, s.withPg(fresh));
            }
        }
        if (changed) {
            log.debug("postmaster now {}: waking the HA loop", now);
            wakeup.run();
        }
        return republished;
    }

    /**
     * {@code published} as the postmaster's word makes it: the same instance when they agree; else with the run
     * state (and, when the postmaster serves connections, the recovery flag) the postmaster implies. A shutdown under
     * way refuses connections and reads as stopped. Positions, timeline and the rest stay the cycle's.
     */
    static PgStatus refreshed(PgStatus published, PostmasterStatus now) {
        PgRunState state = published.runState();
        return switch (now) {
            case ABSENT, STOPPING -> state == PgRunState.STOPPED ? published
                    : published.withRunState(PgRunState.STOPPED, published.inRecovery());
            case STARTING -> state == PgRunState.STARTING ? published
                    : published.withRunState(PgRunState.STARTING, published.inRecovery());
            case STANDBY -> published.isRunningReplica() ? published
                    : published.withRunState(PgRunState.RUNNING, true);
            case READY -> published.isRunningPrimary() ? published
                    : published.withRunState(PgRunState.RUNNING, false);
        };
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(PERIOD.multipliedBy(10).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
