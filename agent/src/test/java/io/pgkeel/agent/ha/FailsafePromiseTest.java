package io.pgkeel.agent.ha;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgkeel.common.Clock;
import io.pgkeel.testing.FakeClock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

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
                "http://a:8008/patroni", given + TTL, given));
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
        assertThat(promise.active().orElseThrow().askedNanos()).as("the last ask").isEqualTo(clock.nanoTime());
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

    /** The fake clock, with a wall clock that can be stepped (NTP) apart from the monotonic one. */
    private static final class SteppedClock implements Clock {
        private final FakeClock monotonic;
        private Duration step = Duration.ZERO;

        SteppedClock(FakeClock monotonic) {
            this.monotonic = monotonic;
        }

        @Override
        public long nanoTime() {
            return monotonic.nanoTime();
        }

        @Override
        public Instant now() {
            return monotonic.now().plus(step);
        }
    }

    /** A disk in memory that outlives the promise objects (agents) using it. */
    private static final class MemoryDisk implements AgentFile {
        final AtomicReference<String> content = new AtomicReference<>();
        boolean fails;

        @Override
        public void write(String text) throws IOException {
            if (fails) {
                throw new IOException("No space left on device");
            }
            content.set(text);
        }

        @Override
        public Optional<String> read() {
            return Optional.ofNullable(content.get());
        }

        @Override
        public String toString() {
            return "/pg/16/main.failsafe.json";
        }
    }

    private static Arguments restart(String name, Duration down, Duration wallStep, UnaryOperator<String> edit,
                                     long expectedLeftSeconds) {
        return Arguments.of(Named.of(name, down), wallStep, edit, expectedLeftSeconds);
    }

    /** A 30 s promise given, then the agent restarted: how long the new agent keeps it (-1: not at all). */
    static Stream<Arguments> restarts() {
        UnaryOperator<String> same = t -> t;
        return Stream.of(
                restart("restarted 3 s later: the rest, plus the margin for clock steps", Duration.ofSeconds(3),
                        Duration.ZERO, same, 27 + 10),
                restart("restarted after it ended, within the margin", Duration.ofSeconds(35), Duration.ZERO, same,
                        5),
                restart("restarted after it ended and the margin", Duration.ofSeconds(40), Duration.ZERO, same, -1),
                restart("wall clock stepped 8 s forward meanwhile: the margin covers it", Duration.ofSeconds(3),
                        Duration.ofSeconds(8), same, 27 - 8 + 10),
                restart("wall clock stepped 1 h backward meanwhile: never longer than when given", Duration.ofSeconds(3),
                        Duration.ofHours(-1), same, 30 + 10),
                restart("a record that is not JSON: ignored (the ttl wait after the start is left)",
                        Duration.ofSeconds(3), Duration.ZERO, t -> "{\"name\": ", -1),
                restart("a record without its end: ignored", Duration.ofSeconds(3), Duration.ZERO,
                        t -> t.replace("\"until\"", "\"end\""), -1),
                restart("a record whose end is not a time: ignored", Duration.ofSeconds(3), Duration.ZERO,
                        t -> t.replaceAll("\"until\":\"[^\"]*\"", "\"until\":\"soon\""), -1),
                restart("a record without a name: ignored", Duration.ofSeconds(3), Duration.ZERO,
                        t -> t.replace("\"name\"", "\"who\""), -1),
                restart("an empty record: ignored", Duration.ofSeconds(3), Duration.ZERO, t -> "", -1));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("restarts")
    void aRestartedAgentKeepsThePromiseRecordedOnDisk(Duration down, Duration wallStep, UnaryOperator<String> edit,
                                                       long expectedLeftSeconds) {
        MemoryDisk disk = new MemoryDisk();
        SteppedClock wall = new SteppedClock(clock);
        assertThat(new FailsafePromise(wall, disk).give("a", "postgres://a:5432/postgres", "http://a:8008/patroni",
                TTL)).isTrue();
        disk.content.set(edit.apply(disk.content.get()));
        clock.advance(down);
        wall.step = wallStep;
        FailsafePromise restarted = new FailsafePromise(wall, disk);
        if (expectedLeftSeconds < 0) {
            assertThat(restarted.active()).isEmpty();
            assertThat(restarted.claim()).isTrue();
            return;
        }
        assertThat(restarted.active()).hasValueSatisfying(l -> {
            assertThat(l.name()).isEqualTo("a");
            assertThat(l.connUrl()).isEqualTo("postgres://a:5432/postgres");
            assertThat(l.apiUrl()).isEqualTo("http://a:8008/patroni");
            assertThat(l.untilNanos()).isEqualTo(clock.nanoTime() + TimeUnit.SECONDS.toNanos(expectedLeftSeconds));
            assertThat(l.askedNanos()).as("asked before this agent started").isLessThanOrEqualTo(clock.nanoTime());
        });
        assertThat(restarted.claim()).as("the restarted agent may not take the key while it runs").isFalse();
    }

    @Test
    void aPromiseThatCannotBeRecordedIsNotGivenAndAnEarlierOneStillRuns() {
        MemoryDisk disk = new MemoryDisk();
        FailsafePromise p = new FailsafePromise(clock, disk);
        assertThat(p.give("a", null, "http://a:8008/patroni", TimeUnit.SECONDS.toNanos(5))).isTrue();
        long firstUntil = p.active().orElseThrow().untilNanos();
        disk.fails = true;
        assertThatThrownBy(() -> p.give("b", null, "http://b:8008/patroni", TTL))
                .isInstanceOf(FailsafePromise.NotRecorded.class)
                .hasMessage("could not record the failsafe promise in /pg/16/main.failsafe.json: No space left on"
                        + " device");
        assertThat(p.active()).hasValueSatisfying(l -> {
            assertThat(l.name()).isEqualTo("a");
            assertThat(l.untilNanos()).isEqualTo(firstUntil);
        });
        clock.advance(Duration.ofSeconds(5));
        assertThat(p.active()).as("the refused one never ran").isEmpty();
    }

    @Test
    void theAgentsFileLiesBesideTheDataDirectoryAndIsReplacedWhole(@TempDir Path dir) throws IOException {
        AgentFile disk = AgentFile.besideDataDirectory(dir.resolve("16/main/"), AgentFile.FAILSAFE_PROMISE);
        assertThat(disk).hasToString(dir.resolve("16/main.failsafe.json").toString());
        assertThat(disk.read()).isEmpty();
        disk.write("{\"first\": true}");
        disk.write("{}");
        assertThat(disk.read()).contains("{}");
        try (Stream<Path> files = Files.list(dir.resolve("16"))) {
            assertThat(files).containsExactly(dir.resolve("16/main.failsafe.json"));
        }
    }

    @Test
    void aFileThatCannotBeWrittenFailsTheWrite(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("16"), "a file where the directory should be");
        AgentFile disk = AgentFile.besideDataDirectory(dir.resolve("16/main"), AgentFile.FAILSAFE_PROMISE);
        assertThatThrownBy(() -> disk.write("{}")).isInstanceOf(IOException.class);
    }

    /** The start-time check of where promises are recorded: a problem is named, a sound place says nothing. */
    @Test
    void theRecordsPlaceIsCheckedAtStart(@TempDir Path tmp) throws IOException {
        Path data = Files.createDirectory(tmp.resolve("data"));
        assertThat(AgentFile.besideDataDirectory(data, AgentFile.FAILSAFE_PROMISE).problem()).as("beside it, same filesystem").isEmpty();
        assertThat(AgentFile.besideDataDirectory(tmp.resolve("gone/data"), AgentFile.FAILSAFE_PROMISE).problem())
                .hasValueSatisfying(p -> assertThat(p).contains(tmp.resolve("gone").toString())
                        .contains("refuses POST /failsafe (500)"));
        // the data directory a mount of its own: here a directory on tmpfs, the record on the temporary directory's
        Path shm = Path.of("/dev/shm");
        if (!Files.getFileStore(shm).equals(Files.getFileStore(tmp))) {
            Path mounted = Files.createTempDirectory(shm, "pgkeel-data-");
            try {
                assertThat(new DurableFile(tmp.resolve("data.failsafe.json"), mounted).problem())
                        .hasValueSatisfying(p -> assertThat(p).contains("another filesystem"));
            } finally {
                Files.delete(mounted);
            }
        } else {
            throw new AssertionError("/dev/shm and " + tmp + " share a filesystem: this test needs two");
        }
    }
}
