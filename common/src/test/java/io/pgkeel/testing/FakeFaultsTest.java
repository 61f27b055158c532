package io.pgkeel.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgkeel.common.dcs.DcsException;
import io.pgkeel.common.dcs.LeaseRenewal;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The simulation's newer faults: a drifting machine clock, etcd slower than the call timeout, a lost etcd member. */
class FakeFaultsTest {
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    @ParameterizedTest(name = "rate {0}")
    @ValueSource(doubles = {0.95, 1.0, 1.05})
    void aDriftClockRunsAtItsRateAndConvertsBothWays(double rate) {
        FakeClock base = new FakeClock();
        DriftClock own = new DriftClock(base);
        base.advance(Duration.ofSeconds(3));
        own.setRate(rate);
        long start = own.nanoTime();
        assertThat(start).as("a rate change keeps the reading continuous").isEqualTo(base.nanoTime());
        base.advance(Duration.ofSeconds(100));
        assertThat(own.nanoTime() - start).isCloseTo((long) (100 * SECOND * rate), Offset.offset(2L));
        long deadline = own.nanoTime() + 10 * SECOND;
        long at = own.toBase(deadline);
        assertThat(own.toOwn(at)).as("the base time found reads at least the deadline").isGreaterThanOrEqualTo(deadline);
        assertThat(own.toOwn(at - 2)).isLessThan(deadline);
        assertThat(own.toBaseDuration(10 * SECOND)).isCloseTo(at - base.nanoTime(), Offset.offset(2L));
    }

    @Test
    void aLeaseRefreshReportsTheAgentsSendTimeAndExpiresOnEtcdsClock() {
        FakeClock base = new FakeClock();
        DriftClock slow = new DriftClock(base);
        slow.setRate(0.95);
        base.advance(Duration.ofSeconds(20));
        FakeDcs dcs = new FakeDcs(base);
        LeaseRenewal r = dcs.session("a", slow).keepAlive(10);
        assertThat(r.sentAtNanos()).isEqualTo(slow.nanoTime()).isNotEqualTo(base.nanoTime());
        assertThat(dcs.leaseExpiry(r.leaseId())).contains(base.nanoTime() + 10 * SECOND);
    }

    @Test
    void slowEtcdTimesOutEveryRequestAfterBlockingTheCallerYetExtendsTheLease() {
        FakeClock clock = new FakeClock();
        FakeDcs dcs = new FakeDcs(clock);
        FakeDcs.Session a = dcs.session("a");
        FakeDcs.Session b = dcs.session("b");
        long lease = a.keepAlive(10).leaseId();
        dcs.slow("a", 2 * SECOND);
        clock.advance(Duration.ofSeconds(5));
        assertThatThrownBy(a::read).isInstanceOf(DcsException.class).hasMessageContaining("timed out");
        assertThatThrownBy(() -> a.keepAlive(10)).isInstanceOf(DcsException.class);
        assertThat(a.takeBlockedNanos()).isEqualTo(4 * SECOND);
        assertThat(a.takeBlockedNanos()).isZero();
        assertThat(dcs.leaseExpiry(lease)).as("the late refresh reached etcd")
                .contains(clock.nanoTime() + 2 * SECOND + 10 * SECOND);
        assertThat(b.read()).as("only a is slow").isNotNull();
        dcs.slow("*", SECOND);
        assertThatThrownBy(b::read).isInstanceOf(DcsException.class);
        dcs.answerPromptly();
        assertThat(a.read()).isNotNull();
    }

    @Test
    void aClientOnALostEtcdMemberFailsItsNextRequestsOnly() {
        FakeClock clock = new FakeClock();
        FakeDcs dcs = new FakeDcs(clock);
        FakeDcs.Session a = dcs.session("a");
        dcs.failNext("a", 1, SECOND);
        assertThatThrownBy(a::read).isInstanceOf(DcsException.class).hasMessageContaining("member lost");
        assertThat(a.takeBlockedNanos()).isEqualTo(SECOND);
        assertThat(a.read()).as("the client moved to a live member").isNotNull();
    }
}
