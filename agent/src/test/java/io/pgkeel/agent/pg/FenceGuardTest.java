package io.pgkeel.agent.pg;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.common.Clock;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fence guard's script run by real bash, with a pg_ctl stand-in that records how it was called: it stops
 * postgres when the agent goes away or falls silent while armed, and never otherwise.
 */
class FenceGuardTest {
    @TempDir
    Path dir;
    Path pgCtl;
    Path calls;
    Path stderr;

    @BeforeEach
    void fakePgCtl() throws IOException {
        calls = dir.resolve("calls");
        stderr = dir.resolve("stderr");
        pgCtl = dir.resolve("pg_ctl");
        Files.writeString(pgCtl, "#!/bin/bash\necho \"$*\" >> '" + calls + "'\n");
        Files.setPosixFilePermissions(pgCtl, PosixFilePermissions.fromString("rwx------"));
    }

    /** The guard as the agent starts it, but with its stdin in the test's hands (closing it = the agent dying). */
    private Process guard() throws IOException {
        return FenceGuard.processBuilder(pgCtl.toString(), dir.resolve("data")).redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(stderr.toFile()).start();
    }

    private static void say(Process guard, String line) throws IOException {
        OutputStream in = guard.getOutputStream();
        in.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
        in.flush();
    }

    private static void exits(Process guard) throws InterruptedException {
        assertThat(guard.waitFor(10, TimeUnit.SECONDS)).as("the guard exits").isTrue();
        assertThat(guard.exitValue()).isZero();
    }

    private String calls() throws IOException {
        return Files.exists(calls) ? Files.readString(calls) : "";
    }

    private String immediateStop() {
        return "stop -D " + dir.resolve("data") + " -m immediate -w -t 30\n";
    }

    @Test
    void armedAndTheAgentDies_stopsPostgresImmediately() throws Exception {
        Process g = guard();
        say(g, "arm 60");
        g.getOutputStream().close();
        exits(g);
        assertThat(calls()).isEqualTo(immediateStop());
        assertThat(Files.readString(stderr)).contains("pgkeel fence guard: the agent is gone while primary");
    }

    @Test
    void armedAndNoWordByTheDeadline_stopsPostgres() throws Exception {
        Process g = guard();
        say(g, "arm 0.300");
        exits(g); // stdin still open: it is the silence that fires it
        assertThat(calls()).isEqualTo(immediateStop());
        assertThat(Files.readString(stderr)).contains("no word from the agent by the lease deadline");
        g.getOutputStream().close();
    }

    @Test
    void eachArmMovesTheDeadline() throws Exception {
        Process g = guard();
        for (int i = 0; i < 8; i++) {
            say(g, "arm 0.500");
            Thread.sleep(100);
        }
        assertThat(g.isAlive()).isTrue();
        assertThat(calls()).isEmpty();
        exits(g); // the renewals stop: fires within the last 0.5 s
        assertThat(calls()).isEqualTo(immediateStop());
    }

    @Test
    void disarmedOrToldToExit_theAgentsDeathStopsNothing() throws Exception {
        Process never = guard();
        never.getOutputStream().close();
        exits(never);

        Process disarmed = guard();
        say(disarmed, "arm 60");
        say(disarmed, "disarm");
        disarmed.getOutputStream().close();
        exits(disarmed);

        Process cleanStop = guard();
        say(cleanStop, "arm 60");
        say(cleanStop, "exit");
        exits(cleanStop);
        assertThat(calls()).isEmpty();
    }

    @Test
    void ignoresTheTerminalsCtrlC() throws Exception {
        Process g = guard();
        say(g, "arm 60");
        Thread.sleep(200); // bash has set its traps
        new ProcessBuilder("kill", "-INT", String.valueOf(g.pid())).start().waitFor();
        Thread.sleep(200);
        assertThat(g.isAlive()).as("SIGINT (Ctrl-C in the agent's terminal) leaves the guard armed").isTrue();
        g.getOutputStream().close();
        exits(g);
        assertThat(calls()).isEqualTo(immediateStop());
    }

    /** The agent's side: FenceGuard starts the guard on first use, tells it every change, and a clean close. */
    @Test
    void fenceGuard_armThenCloseLeavesPostgres_armThenSilenceStopsIt() throws Exception {
        FenceGuard clean = new FenceGuard(pgCtl.toString(), dir.resolve("data"), Clock.system(), 0);
        clean.start();
        clean.update(OptionalLong.of(Clock.system().nanoTime() + Duration.ofSeconds(60).toNanos()));
        long pid = awaitPid(clean);
        clean.update(OptionalLong.empty());
        clean.close();
        awaitExit(pid);
        assertThat(calls()).isEmpty();

        FenceGuard hung = new FenceGuard(pgCtl.toString(), dir.resolve("data"), Clock.system(), 0);
        hung.start();
        hung.update(OptionalLong.of(Clock.system().nanoTime() + Duration.ofMillis(300).toNanos()));
        awaitExit(awaitPid(hung)); // no renewal follows: like an agent that froze
        assertThat(calls()).isEqualTo(immediateStop());
    }

    @Test
    void secondsAreWrittenWithAPointWhateverTheLocale() {
        assertThat(FenceGuard.seconds(1_234_567_890L)).isEqualTo("1.235");
        assertThat(FenceGuard.seconds(1_000_000L)).isEqualTo("0.001");
    }

    private static long awaitPid(FenceGuard g) throws InterruptedException {
        for (int i = 0; i < 100; i++) {
            OptionalLong pid = g.pid();
            if (pid.isPresent()) {
                return pid.getAsLong();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no guard process within 5 s");
    }

    private static void awaitExit(long pid) throws InterruptedException {
        for (int i = 0; i < 200 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false); i++) {
            Thread.sleep(50);
        }
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).as("guard %d exited", pid).isFalse();
    }
}
