package io.pgkeel.agent.ha;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs {@link HaNode#runCycle()} on one named thread ({@code ha-loop}), sleeping between cycles until the next
 * cycle is due or a DCS watch event wakes it; and runs the lease fence on another ({@code lease-fence}), which
 * sleeps exactly until the armed deadline, so a loop blocked in I/O cannot keep a primary writable past its lease.
 */
public final class HaLoop {
    private static final Logger log = LoggerFactory.getLogger(HaLoop.class);

    private final HaNode node;
    private final io.pgkeel.common.Clock clock;
    private final Object wakeLock = new Object();
    private final Thread fenceThread;
    private final Thread loopThread;
    /** Guarded by wakeLock. */
    private boolean woken;
    private volatile boolean running = true;

    public HaLoop(HaNode node, io.pgkeel.common.Clock clock) {
        this.node = node;
        this.clock = clock;
        this.loopThread = new Thread(this::run, "ha-loop");
        this.fenceThread = new Thread(this::runFence, "lease-fence");
        this.fenceThread.setDaemon(true);
        this.fenceThread.setPriority(Thread.MAX_PRIORITY);
    }

    public void start() {
        node.onFenceChange(() -> LockSupport.unpark(fenceThread));
        fenceThread.start();
        loopThread.start();
    }

    /** Sleeps until the armed deadline (or until it moves), then lets the node enforce it. */
    private void runFence() {
        while (running) {
            java.util.OptionalLong deadline = node.fenceDeadline();
            long now = clock.nanoTime();
            if (deadline.isPresent() && deadline.getAsLong() - now <= 0) {
                try {
                    node.checkFence();
                } catch (RuntimeException e) {
                    log.error("lease fence failed", e);
                }
                continue;
            }
            // park until the deadline, or for a while when disarmed; arm/disarm unpark us early
            LockSupport.parkNanos(this, deadline.isPresent() ? deadline.getAsLong() - now : TimeUnit.SECONDS.toNanos(60));
        }
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
        long deadline = clock.nanoTime() + nanos;
        synchronized (wakeLock) {
            while (running && !woken) {
                long left = deadline - clock.nanoTime();
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
        LockSupport.unpark(fenceThread);
        node.shutdown();
    }
}
