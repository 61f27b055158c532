package io.pgkeel.agent.ha;

import java.util.Objects;

/**
 * What became of an operator's request: done, or refused with the kind of refusal (for the requester's answer) and
 * the loop's explanation (for the log).
 *
 * @param refusal null exactly when {@code done}
 */
public record RequestOutcome(boolean done, String message, RequestRefusal refusal) {

    public RequestOutcome {
        if (done != (refusal == null)) {
            throw new IllegalArgumentException("a request is either done or refused, not " + done + "/" + refusal);
        }
    }

    public static RequestOutcome done(String message) {
        return new RequestOutcome(true, message, null);
    }

    public static RequestOutcome refused(RequestRefusal refusal, String message) {
        return new RequestOutcome(false, message, Objects.requireNonNull(refusal, "refusal"));
    }
}
