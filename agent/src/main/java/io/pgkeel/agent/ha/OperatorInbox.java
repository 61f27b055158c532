package io.pgkeel.agent.ha;

import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What operators hand the HA loop, and what it answers: one pending request (restart, reinitialize) at a time, a
 * restart planned for later (Patroni keeps it in the agent's memory too), the last failover key refused, and a
 * re-read configuration (SIGHUP, POST /reload) to take between two cycles. Any thread hands in; the loop takes out.
 */
public final class OperatorInbox implements OperatorChannel {
    private static final Logger log = LoggerFactory.getLogger(OperatorInbox.class);

    private record Pending(OperatorRequest request, CompletableFuture<RequestOutcome> outcome) {}

    /** A re-read configuration for the loop: the new identity and what else to apply on the loop thread. */
    record Reload(NodeIdentity identity, Runnable applyOnLoop) {}

    private final AtomicReference<Pending> pending = new AtomicReference<>();
    private final AtomicReference<ScheduledRestart> scheduledRestart = new AtomicReference<>();
    private final AtomicReference<FailoverRefusal> lastFailoverRefusal = new AtomicReference<>();
    private final AtomicReference<Reload> reload = new AtomicReference<>();
    /** The request the current cycle decides on (loop thread only): one handed in meanwhile waits for the next. */
    private Pending inCycle;

    /** A request that arrives while another is pending is refused at once. */
    @Override
    public CompletableFuture<RequestOutcome> submit(OperatorRequest request) {
        Pending p = new Pending(request, new CompletableFuture<>());
        if (!pending.compareAndSet(null, p)) {
            p.outcome().complete(RequestOutcome.refused(RequestRefusal.ALREADY_IN_PROGRESS,
                    "another request is already in progress"));
        }
        return p.outcome();
    }

    @Override
    public boolean scheduleRestart(Instant at, String role) {
        return scheduledRestart.compareAndSet(null, new ScheduledRestart(at, role));
    }

    @Override
    public Optional<ScheduledRestart> scheduledRestart() {
        return Optional.ofNullable(scheduledRestart.get());
    }

    @Override
    public boolean cancelScheduledRestart() {
        return scheduledRestart.getAndSet(null) != null;
    }

    @Override
    public Optional<FailoverRefusal> lastFailoverRefusal() {
        return Optional.ofNullable(lastFailoverRefusal.get());
    }

    /** The loop cleared a failover key instead of acting on it, for the REST API's answer to the request. */
    void refusedFailover(String reason, long atNanos) {
        lastFailoverRefusal.set(new FailoverRefusal(atNanos, reason));
    }

    /** Asks the loop to take a re-read configuration at the start of its next cycle (a later one replaces it). */
    public void requestReload(NodeIdentity identity, Runnable applyOnLoop) {
        reload.set(new Reload(identity, applyOnLoop));
    }

    /** The loop: a reload waiting to be applied, taken out. */
    Optional<Reload> takeReload() {
        return Optional.ofNullable(reload.getAndSet(null));
    }

    /**
     * The loop: the request this cycle decides on, if any. A planned restart whose time has come becomes an ordinary
     * request first, with nobody waiting for its answer.
     */
    Optional<OperatorRequest> next(Instant wallNow) {
        ScheduledRestart due = scheduledRestart.get();
        if (due != null && !wallNow.isBefore(due.schedule()) && pending.get() == null
                && scheduledRestart.compareAndSet(due, null)) {
            log.info("the restart scheduled for {} is due", due.schedule());
            submit(new OperatorRequest.Restart(due.role()));
        }
        inCycle = pending.get();
        return Optional.ofNullable(inCycle).map(Pending::request);
    }

    /** The loop decided on the pending request: a long action that grants it answers before it is carried out. */
    void decided(Action action) {
        if (action.traits().answer() == Action.Answer.WHEN_STARTED) {
            answer(RequestOutcome.done(action.reason()));
        }
    }

    /**
     * The loop carried out its decision: the pending request is answered (granted and done, failed, or refused). A
     * refusal is typed by the decision that refused it ({@link Action.Wait#refusal}); any other action in its place
     * was more urgent, and the request was not carried out.
     */
    void carriedOut(Action action, Outcome outcome) {
        if (action.traits().answer() == Action.Answer.WHEN_DONE) {
            answer(outcome.ok() ? RequestOutcome.done(action.reason())
                    : RequestOutcome.refused(RequestRefusal.NOT_CARRIED_OUT, outcome.error()));
            return;
        }
        RequestRefusal refusal = action instanceof Action.Wait w && w.refusal() != null ? w.refusal()
                : RequestRefusal.NOT_CARRIED_OUT;
        answer(RequestOutcome.refused(refusal, action.reason()));
    }

    private void answer(RequestOutcome answer) {
        if (inCycle != null) {
            pending.compareAndSet(inCycle, null);
            inCycle.outcome().complete(answer);
            inCycle = null;
        }
    }
}
