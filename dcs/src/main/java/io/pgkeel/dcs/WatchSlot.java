package io.pgkeel.dcs;

import java.io.Closeable;
import java.io.IOException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one live etcd watch of an {@link EtcdDcs}, by generation: each (re)start of the watch is a new generation, and
 * only the current generation's watcher is kept open. A watcher is made outside any lock (jetcd calls back on its own
 * threads, and may do so before {@code watch()} returns), so a generation can be replaced, or the slot closed, while
 * its watcher is still being made; {@link #start} then closes that watcher itself, since nobody else will ever see it.
 * Before this class, EtcdDcs assigned the watcher after {@code watch()} returned without that check, and a watch
 * restarted (a member moved on, an error) or closed meanwhile left an orphaned stream that jetcd kept resuming.
 *
 * <p>Thread-safety: the generation, the watcher and {@code closed} are guarded by {@code this}; watchers are closed
 * outside the lock.
 */
final class WatchSlot {
    private static final Logger log = LoggerFactory.getLogger(WatchSlot.class);

    private long generation;
    private Closeable watcher;
    private boolean closed;

    /** A new generation, replacing the current one (its watcher is closed); the generation to {@link #start}. */
    long next() {
        Closeable old;
        long g;
        synchronized (this) {
            g = ++generation;
            old = watcher;
            watcher = null;
        }
        closeQuietly(old);
        return g;
    }

    /** Whether {@code g} is still the live generation (its callbacks count). */
    synchronized boolean isCurrent(long g) {
        return !closed && g == generation;
    }

    /** The live generation (to replace it). */
    synchronized long current() {
        return generation;
    }

    /**
     * Makes generation {@code g}'s watcher with {@code watch}, unless {@code g} is no longer current; a watcher whose
     * generation was replaced or closed while it was being made is closed here.
     */
    void start(long g, Supplier<? extends Closeable> watch) {
        if (!isCurrent(g)) {
            return;
        }
        Closeable made = watch.get();
        boolean kept;
        synchronized (this) {
            kept = !closed && g == generation;
            if (kept) {
                watcher = made;
            }
        }
        if (!kept) {
            closeQuietly(made);
        }
    }

    /**
     * Replaces generation {@code g} by {@code g + 1} and closes its watcher; false when {@code g} was replaced already
     * or the slot is closed (so only the first of several errors of one watcher restarts the watch).
     */
    boolean replace(long g) {
        Closeable old;
        synchronized (this) {
            if (closed || g != generation) {
                return false;
            }
            generation = g + 1;
            old = watcher;
            watcher = null;
        }
        closeQuietly(old);
        return true;
    }

    /** Closes the live watcher; no generation starts after this. */
    void close() {
        Closeable old;
        synchronized (this) {
            closed = true;
            old = watcher;
            watcher = null;
        }
        closeQuietly(old);
    }

    private static void closeQuietly(Closeable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (IOException | RuntimeException e) {
            log.debug("closing a replaced watch: {}", e.toString());
        }
    }
}
