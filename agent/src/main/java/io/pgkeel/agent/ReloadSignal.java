package io.pgkeel.agent;

import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SIGHUP, Patroni's "reload the configuration" (patroni/__main__.py {@code sighup_handler}). The handler is installed
 * first thing in {@code pgkeel agent}, before the configuration is read and before the slow start (etcd, the start
 * checks, the REST API): until it is, a SIGHUP takes the JVM's default, an orderly exit with status 129, so a
 * supervisor's reload sent while the agent starts would kill it. A SIGHUP that arrives before the agent has started is
 * remembered and the configuration is re-read once it has (the file may have changed after it was first read); several
 * such signals make one reload.
 *
 * <p>Thread-safety: {@link #onSignal} runs on the JVM's signal thread, {@link #started} on the starting thread. Both
 * go through one atomic state (not started, a SIGHUP pending, or the reload itself), so a SIGHUP that races the end
 * of the start is either seen by {@link #started} or runs the reload itself; with a separate "pending" flag it could
 * be recorded just after {@link #started} had looked for it, and be lost.
 */
final class ReloadSignal {
    private static final Logger log = LoggerFactory.getLogger(ReloadSignal.class);

    /** Not started, no SIGHUP yet. Compared by identity, as is {@link #PENDING}. */
    private static final Runnable NOT_STARTED = () -> {};
    /** Not started, a SIGHUP came. */
    private static final Runnable PENDING = () -> {};

    /** {@link #NOT_STARTED}, {@link #PENDING}, or, once {@link #started}, what a SIGHUP does. */
    private final AtomicReference<Runnable> state = new AtomicReference<>(NOT_STARTED);
    /** Runs after onSignal has seen the agent not started and before it records that: the tests' race, else nothing. */
    private final Runnable seenNotStarted;

    ReloadSignal() {
        this(() -> {});
    }

    ReloadSignal(Runnable seenNotStarted) {
        this.seenNotStarted = seenNotStarted;
    }

    /**
     * Installs the handler (an early SIGHUP is then deferred, not fatal). A JVM started with SIGHUP ignored keeps it
     * ignored and installs nothing, silently: that is logged, with the ways to reload that still work.
     */
    static ReloadSignal install() {
        ReloadSignal hup = new ReloadSignal();
        try {
            sun.misc.SignalHandler before = sun.misc.Signal.handle(new sun.misc.Signal("HUP"), sig -> hup.onSignal());
            if (before == sun.misc.SignalHandler.SIG_IGN) {
                log.warn("SIGHUP was ignored when pgkeel started (nohup?), so it cannot re-read the configuration"
                        + " on SIGHUP; use POST /reload or pgkeel ctl reload, or start it through the pgkeel"
                        + " launcher");
            }
        } catch (IllegalArgumentException e) {
            log.warn("SIGHUP cannot be handled on this platform: {}", e.getMessage());
        }
        return hup;
    }

    /** The SIGHUP: re-read now when the agent runs, else once it has started. */
    void onSignal() {
        while (true) {
            Runnable now = state.get();
            if (now == PENDING) {
                return; // one reload for several early signals
            }
            if (now != NOT_STARTED) {
                now.run();
                return;
            }
            seenNotStarted.run();
            if (state.compareAndSet(NOT_STARTED, PENDING)) {
                log.info("SIGHUP while pgkeel is starting: the configuration is re-read once it has started");
                return;
            }
            // started() ran in between: look again, and reload with what it set
        }
    }

    /** The agent runs: SIGHUP now runs {@code reloadNow}, and so does a SIGHUP that came during the start, once. */
    void started(Runnable reloadNow) {
        if (state.getAndSet(reloadNow) == PENDING) {
            log.info("SIGHUP came while pgkeel was starting: re-reading the configuration now");
            reloadNow.run();
        }
    }
}
