package io.pgkeel.common.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class TimingTest {

    /** Written ttl, loop_wait, retry_timeout; the values in force; a word of the warning (empty: none). */
    @ParameterizedTest(name = "ttl={0} loop_wait={1} retry_timeout={2}")
    @CsvSource(delimiter = '|', nullValues = "-", value = {
        // Patroni's defaults, and the cases: accepted; Patroni 4.1 lowers loop_wait, then retry_timeout
        "30 | 10 | 10 | 30 | 10 | 10 | -",
        "20 | 10 | 10 | 20 |  1 |  9 | adjusting loop_wait from 10 to 1 and retry_timeout from 10 to 9",
        "20 | 10 |  5 | 20 | 10 |  5 | -",
        "30 | 10 | 15 | 30 |  1 | 14 | retry_timeout from 15 to 14",
        "30 | 15 | 10 | 30 | 10 | 10 | adjusting loop_wait from 15 to 10",
        "12 | 10 | 10 | 12 |  1 |  5 | retry_timeout from 10 to 5",
        // minimums: loop_wait 1 and retry_timeout 3 as Patroni; ttl 4 (Patroni: 20, see docs/decisions.md)
        "10 |  0 |  0 | 10 |  1 |  3 | loop_wait=0 can't be smaller than 1",
        "10 |  1 |  2 | 10 |  1 |  3 | retry_timeout=2 can't be smaller than 3",
        " 3 | 10 | 10 |  4 |  1 |  1 | ttl=3 can't be smaller than 4",
        "-5 | -1 | -1 |  4 |  1 |  1 | ttl=-5 can't be smaller than 4",
        // the timings pgkeel's tests and benchmarks run with are kept
        "10 |  1 |  4 | 10 |  1 |  4 | -",
        "10 |  2 |  4 | 10 |  2 |  4 | -",
        "11 |  2 |  4 | 11 |  2 |  4 | -",
        // Patroni accepts these; pgkeel lowers loop_wait so a healthy leader renews before its fence fires
        "25 | 19 |  3 | 25 | 16 |  3 | leaves a leader no time to renew",
        "30 | 20 |  5 | 30 | 19 |  5 | adjusting loop_wait from 20 to 19",
    })
    void adjustsAsPatroniAndWarns(int ttl, int loopWait, int retry, int effTtl, int effLoop, int effRetry,
                                  String warning) {
        Timing t = Timing.adjust(ttl, loopWait, retry);
        assertThat(t.ttl()).isEqualTo(effTtl);
        assertThat(t.loopWait()).isEqualTo(effLoop);
        assertThat(t.retryTimeout()).isEqualTo(effRetry);
        if (warning == null) {
            assertThat(t.adjustments()).isEmpty();
        } else {
            assertThat(t.adjustments()).anyMatch(a -> a.contains(warning));
        }
    }

    /**
     * Whatever is written, the values in force keep Patroni's rule and leave a safe fence: the fence deadline is
     * before the lease can expire, and a healthy leader's next renewal comes before the fence deadline.
     */
    @Test
    void everyWrittenTimingLeavesASafeFence() {
        for (int ttl = -1; ttl <= 70; ttl++) {
            for (int loopWait = -1; loopWait <= 60; loopWait++) {
                for (int retry = -1; retry <= 40; retry++) {
                    Timing t = Timing.adjust(ttl, loopWait, retry);
                    String row = "ttl=" + ttl + " loop_wait=" + loopWait + " retry_timeout=" + retry + " -> " + t;
                    long ttlMillis = t.ttl() * 1000L;
                    long margin = Timing.fenceMarginMillis(t.ttl());
                    assertThat(t.loopWait() + 2L * t.retryTimeout()).as(row).isLessThanOrEqualTo(t.ttl());
                    assertThat(t.loopWait()).as(row).isGreaterThanOrEqualTo(1);
                    assertThat(t.retryTimeout()).as(row).isGreaterThanOrEqualTo(1);
                    assertThat(margin).as(row).isPositive().isLessThan(ttlMillis);
                    assertThat(t.loopWait() * 1000L + Timing.CYCLE_WORK_MILLIS
                            + Timing.callTimeoutMillis(t.ttl(), t.retryTimeout()))
                            .as(row).isLessThanOrEqualTo(ttlMillis - margin);
                    if (t.ttl() != ttl || t.loopWait() != loopWait || t.retryTimeout() != retry) {
                        assertThat(t.adjustments()).as(row + ": a change is always said").isNotEmpty();
                    }
                }
            }
        }
    }
}
