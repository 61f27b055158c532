package io.pgkeel.dcs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.Closeable;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every interleaving of a watch start with a restart or a close leaves exactly the live generation's watcher open. The
 * rows "... while it is being made" are the races EtcdDcs lost before WatchSlot: the watcher was assigned after jetcd's
 * watch() returned, so a restart or close in between closed the previous watcher and orphaned the new one.
 */
class WatchSlotTest {
    /** A watcher that records whether it was closed. */
    static final class FakeWatcher implements Closeable {
        final String name;
        boolean closed;

        FakeWatcher(String name) {
            this.name = name;
        }

        @Override
        public void close() {
            closed = true;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** What happens to the slot while generation 1's watcher is being made. */
    record Row(String name, Consumer<WatchSlot> meanwhile, boolean firstOpen, boolean secondStarts) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Arguments> interleavings() {
        return Stream.of(
                Arguments.of(new Row("nothing: the watcher is kept", s -> { }, true, false)),
                Arguments.of(new Row("replaced (a member moved on) while it is being made", s -> s.replace(1), false,
                        true)),
                Arguments.of(new Row("replaced by its own error, on jetcd's thread, while it is being made",
                        s -> s.replace(s.current()), false, true)),
                Arguments.of(new Row("a new watch() while it is being made", WatchSlot::next, false, true)),
                Arguments.of(new Row("closed while it is being made", WatchSlot::close, false, false)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("interleavings")
    void onlyTheLiveGenerationsWatcherStaysOpen(Row row) {
        WatchSlot slot = new WatchSlot();
        FakeWatcher first = new FakeWatcher("first");
        FakeWatcher second = new FakeWatcher("second");
        long g = slot.next();
        slot.start(g, () -> {
            row.meanwhile().accept(slot);
            return first;
        });
        assertThat(first.closed).as("generation 1's watcher closed").isEqualTo(!row.firstOpen());
        List<String> made = new ArrayList<>();
        long after = slot.current();
        if (after != g) {
            // what restartWatchLater schedules for the new generation
            slot.start(after, () -> {
                made.add("second");
                return second;
            });
        }
        assertThat(made).as("the next generation starts").hasSize(row.secondStarts() ? 1 : 0);
        slot.close();
        assertThat(first.closed).as("all closed with the slot").isTrue();
        assertThat(second.closed || !row.secondStarts()).isTrue();
    }

    @org.junit.jupiter.api.Test
    void aReplacedGenerationNeitherStartsNorReplacesAgain() {
        WatchSlot slot = new WatchSlot();
        FakeWatcher w = new FakeWatcher("w");
        long g = slot.next();
        slot.start(g, () -> w);
        assertThat(slot.replace(g)).isTrue();
        assertThat(w.closed).isTrue();
        assertThat(slot.replace(g)).as("a second error of the same watcher").isFalse();
        assertThat(slot.isCurrent(g)).isFalse();
        List<String> made = new ArrayList<>();
        slot.start(g, () -> {
            made.add("stale");
            return new FakeWatcher("stale");
        });
        assertThat(made).as("a stale generation is not started").isEmpty();
        long next = slot.current();
        slot.close();
        slot.start(next, () -> {
            made.add("after close");
            return new FakeWatcher("after close");
        });
        assertThat(made).as("nothing starts after close").isEmpty();
    }
}
