package io.pgkeel.agent.ha;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** What the inbox answers an operator's request with, by what the cycle decided and how acting went. */
class OperatorInboxTest {
    private static final Instant NOW = Instant.parse("2026-11-30T10:00:00Z");

    static Arguments row(String name, OperatorRequest request, Action decided, Outcome outcome, RequestOutcome answer) {
        return Arguments.of(Named.of(name, request), decided, outcome, answer);
    }

    static Stream<Arguments> rows() {
        OperatorRequest restart = new OperatorRequest.Restart(null);
        OperatorRequest reinit = new OperatorRequest.Reinitialize();
        return Stream.of(
                row("restart granted and done", restart, new Action.Restart(false, "a", "restarting postgres as requested"),
                        Outcome.DONE, RequestOutcome.done("restarting postgres as requested")),
                row("restart granted, failed", restart, new Action.Restart(false, "a", "restarting"),
                        Outcome.failed("pg_ctl said no"), RequestOutcome.refused(RequestRefusal.NOT_CARRIED_OUT,
                                "pg_ctl said no")),
                row("restart refused: wrong role", restart, new Action.Wait("not restarting: this member is a replica,"
                                + " not a primary", RequestRefusal.CONDITIONS_NOT_SATISFIED), Outcome.DONE,
                        RequestOutcome.refused(RequestRefusal.CONDITIONS_NOT_SATISFIED,
                                "not restarting: this member is a replica, not a primary")),
                row("reinitialize refused on the leader", reinit, new Action.Wait("not reinitializing: I am the leader,"
                                + " can not reinitialize", RequestRefusal.I_AM_THE_LEADER), Outcome.DONE,
                        RequestOutcome.refused(RequestRefusal.I_AM_THE_LEADER,
                                "not reinitializing: I am the leader, can not reinitialize")),
                row("reinitialize refused: no leader", reinit, new Action.Wait("no leader", RequestRefusal
                                .CLUSTER_HAS_NO_LEADER), Outcome.DONE,
                        RequestOutcome.refused(RequestRefusal.CLUSTER_HAS_NO_LEADER, "no leader")),
                row("a more urgent action took the cycle", reinit, new Action.Demote(true, "demoting self because the"
                                + " leader lease could not be renewed"), Outcome.DONE,
                        RequestOutcome.refused(RequestRefusal.NOT_CARRIED_OUT,
                                "demoting self because the leader lease could not be renewed")),
                row("a plain wait (the loop did not get to it)", restart, new Action.Wait("no action"), Outcome.DONE,
                        RequestOutcome.refused(RequestRefusal.NOT_CARRIED_OUT, "no action")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void answersWithTheKindOfRefusal(OperatorRequest request, Action decided, Outcome outcome, RequestOutcome answer) {
        OperatorInbox inbox = new OperatorInbox();
        CompletableFuture<RequestOutcome> f = inbox.submit(request);
        assertThat(inbox.next(NOW)).contains(request);
        inbox.decided(decided);
        inbox.carriedOut(decided, outcome);
        assertThat(f).isCompletedWithValue(answer);
    }

    @Test
    void aSecondRequestWhileOneIsPendingIsAlreadyInProgress() {
        OperatorInbox inbox = new OperatorInbox();
        inbox.submit(new OperatorRequest.Restart(null));
        assertThat(inbox.submit(new OperatorRequest.Reinitialize())).isCompletedWithValue(RequestOutcome.refused(
                RequestRefusal.ALREADY_IN_PROGRESS, "another request is already in progress"));
    }

    @Test
    void aPlannedRestartIsVisibleUntilDueOrCancelled() {
        OperatorInbox inbox = new OperatorInbox();
        assertThat(inbox.scheduledRestart()).isEmpty();
        Instant at = NOW.plusSeconds(60);
        assertThat(inbox.scheduleRestart(at, "replica")).isTrue();
        assertThat(inbox.scheduledRestart()).contains(new ScheduledRestart(at, "replica"));
        assertThat(inbox.cancelScheduledRestart()).isTrue();
        assertThat(inbox.scheduledRestart()).isEmpty();

        inbox.scheduleRestart(at, null);
        inbox.next(NOW);
        assertThat(inbox.scheduledRestart()).as("not yet due").contains(new ScheduledRestart(at, null));
        assertThat(inbox.next(at)).contains(new OperatorRequest.Restart(null));
        assertThat(inbox.scheduledRestart()).as("due: it became a request").isEmpty();
    }

    @Test
    void theScheduleShowsInPatronisIsoformat() {
        assertThat(new ScheduledRestart(Instant.parse("2026-01-01T01:00:00Z"), null).scheduleText())
                .isEqualTo("2026-01-01T01:00:00+00:00");
        assertThat(new ScheduledRestart(Instant.parse("2026-01-01T01:00:00.250Z"), null).scheduleText())
                .isEqualTo("2026-01-01T01:00:00.250000+00:00");
    }
}
