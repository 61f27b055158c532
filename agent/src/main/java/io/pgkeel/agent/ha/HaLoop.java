package io.pgkeel.agent.ha;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs {@link HaNode#runCycle()} on one named thread ({@code ha-loop}), sleeping between cycles until the next
 * cycle is due or a DCS watch event wakes it; and checks the lease fence every 50 ms on another
 * ({@code lease-fence}), so a loop blocked in I/O cannot keep a primary writable past its lease.
 */
public final class HaLoop {
    private static final Logger log = LoggerFactory.getLogger(HaLoop.class);
    private static final long FENCE_PERIOD_MILLIS = 50;

    private final HaNode node;
    private final Object wakeLock = new Object();
    private final ScheduledExecutorService fenceTimer;
    private final Thread loopThread;
    /** Guarded by wakeLock. */
    private boolean woken;
    private volatile boolean running = true;

    public HaLoop(HaNode node) {
        this.node = node;
        this.loopThread = new Thread(this::run, "ha-loop");
        this.fenceTimer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "lease-fence");
            t.setDaemon(true);
            t.setPriority(Thread.MAX_PRIORITY);
            return t;
        });
    }

    public void start() {
        fenceTimer.scheduleAtFixedRate(() -> {
            try {
                node.checkFence();
            } catch (RuntimeException e) {
                log.error("lease fence check failed", e);
            }
        }, FENCE_PERIOD_MILLIS, FENCE_PERIOD_MILLIS, TimeUnit.MILLISECONDS);
        loopThread.start();
    }

    /** Runs the next cycle now (a leader key change was seen, or an operator asked for it). */
    public void wakeup() {
        synchronized (wakeLock) {
            woken = true;
            wakeLock.notifyAll();
        }
    }

    private void run() {
        while (running) {
            long waitNanos;
            try {
                waitNanos = node.runCycle();
            } catch (RuntimeException e) {
                log.error("unexpected error in the HA cycle, please report it as a BUG", e);
                waitNanos = TimeUnit.SECONDS.toNanos(1);
            }
            sleep(waitNanos);
        }
    }

    private void sleep(long nanos) {
        long deadline = System.nanoTime() + nanos;
        synchronized (wakeLock) {
            while (running && !woken) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(wakeLock, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            woken = false;
        }
    }

    /** Stops cycling, then runs the node's clean shutdown on the caller's thread. */
    public void stop() {
        running = false;
        wakeup();
        try {
            loopThread.join(TimeUnit.SECONDS.toMillis(60));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        fenceTimer.shutdownNow();
        node.shutdown();
    }
}
