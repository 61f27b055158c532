package io.pgkeel.agent.ha;

import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** How the REST API hands operator requests to the HA loop (implemented by {@link OperatorInbox}; thread-safe). */
public interface OperatorChannel {

    /** A request for the next cycle; completes once that cycle carried it out or refused it. */
    CompletableFuture<RequestOutcome> submit(OperatorRequest request);

    /**
     * Plans a restart for {@code at} (wall clock), only if this member then has {@code role} (null: any). False when
     * one is planned already.
     */
    boolean scheduleRestart(Instant at, String role);

    /** The planned restart, until it is due or cancelled. */
    Optional<ScheduledRestart> scheduledRestart();

    /** Cancels the planned restart; false when there was none. */
    boolean cancelScheduledRestart();

    /** Why this node last refused a failover key, and when (monotonic). */
    Optional<FailoverRefusal> lastFailoverRefusal();
}
