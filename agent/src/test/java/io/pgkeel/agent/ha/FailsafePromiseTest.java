package io.pgkeel.agent.ha;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.testing.FakeClock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A promise to a primary in failsafe mode: given, held for ttl, excluded by a claim (patroni/ha.py Failsafe). */
class FailsafePromiseTest {
    private static final long TTL = TimeUnit.SECONDS.toNanos(30);

    private final FakeClock clock = new FakeClock();
    private final FailsafePromise promise = new FailsafePromise(clock);

    @Test
    void aGivenPromiseRunsForTtlOnThisNodesClockThenExpires() {
        assertThat(promise.active()).isEmpty();
        long given = clock.nanoTime();
        assertThat(promise.give("a", "postgres://a:5432/postgres", "http://a:8008/patroni", TTL)).isTrue();
        assertThat(promise.active()).contains(new FailsafePromise.FailsafeLeader("a", "postgres://a:5432/postgres",
                "http://a:8008/patroni", given + TTL));
        clock.advance(Duration.ofSeconds(30).minusNanos(1));
        assertThat(promise.active()).isPresent();
        assertThat(promise.claim()).as("no claim while the promise runs").isFalse();
        clock.advance(Duration.ofNanos(1));
        assertThat(promise.active()).isEmpty();
        assertThat(promise.claim()).isTrue();
    }

    @Test
    void aClaimRefusesPromisesUntilReleased() {
        assertThat(promise.claim()).isTrue();
        assertThat(promise.isClaimed()).isTrue();
        assertThat(promise.give("a", null, "http://a:8008/patroni", TTL)).isFalse();
        assertThat(promise.active()).isEmpty();
        promise.release();
        assertThat(promise.isClaimed()).isFalse();
        assertThat(promise.give("a", null, "http://a:8008/patroni", TTL)).isTrue();
        assertThat(promise.active()).isPresent();
    }

    @Test
    void aLaterPromiseNeverShortensAnEarlierOne() {
        promise.give("a", null, "http://a:8008/patroni", TTL);
        long firstUntil = promise.active().orElseThrow().untilNanos();
        clock.advance(Duration.ofSeconds(1));
        // a shorter ttl (the config key changed) or another primary asking: the first promise still holds
        assertThat(promise.give("b", null, "http://b:8008/patroni", TimeUnit.SECONDS.toNanos(5))).isTrue();
        assertThat(promise.active().orElseThrow().untilNanos()).isEqualTo(firstUntil);
        assertThat(promise.active().orElseThrow().name()).isEqualTo("b");
        clock.advance(Duration.ofSeconds(10));
        assertThat(promise.give("a", null, "http://a:8008/patroni", TTL)).isTrue();
        assertThat(promise.active().orElseThrow().untilNanos()).isEqualTo(clock.nanoTime() + TTL);
    }

    @Test
    void releaseWithoutAClaimChangesNothing() {
        promise.give("a", null, "http://a:8008/patroni", TTL);
        promise.release();
        assertThat(promise.active()).isPresent();
        assertThat(promise.claim()).isFalse();
        assertThat(promise.isClaimed()).isFalse();
    }
}
