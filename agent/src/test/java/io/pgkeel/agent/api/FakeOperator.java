package io.pgkeel.agent.api;

import io.pgkeel.agent.ha.FailoverRefusal;
import io.pgkeel.agent.ha.OperatorChannel;
import io.pgkeel.agent.ha.OperatorRequest;
import io.pgkeel.agent.ha.RequestOutcome;
import io.pgkeel.agent.ha.ScheduledRestart;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/** The HA loop's side of operator requests, for REST tests: answers with {@code answer}, keeps one schedule. */
final class FakeOperator implements OperatorChannel {
    Function<OperatorRequest, CompletableFuture<RequestOutcome>> answer =
            r -> new CompletableFuture<>();
    Instant scheduled;
    String scheduledRole;

    @Override
    public CompletableFuture<RequestOutcome> submit(OperatorRequest request) {
        return answer.apply(request);
    }

    @Override
    public boolean scheduleRestart(Instant at, String role) {
        if (scheduled != null) {
            return false;
        }
        scheduled = at;
        scheduledRole = role;
        return true;
    }

    @Override
    public boolean cancelScheduledRestart() {
        boolean had = scheduled != null;
        scheduled = null;
        return had;
    }

    @Override
    public Optional<ScheduledRestart> scheduledRestart() {
        return scheduled == null ? Optional.empty() : Optional.of(new ScheduledRestart(scheduled, scheduledRole));
    }

    @Override
    public Optional<FailoverRefusal> lastFailoverRefusal() {
        return Optional.empty();
    }
}
