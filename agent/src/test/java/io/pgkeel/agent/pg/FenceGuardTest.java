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
        return "stop -D " + dir.resolve("data") + " -m immediate -W\n";
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
        awaitCalls(immediateStop()); // stdin still open: it is the silence that fires it
        assertThat(Files.readString(stderr)).contains("no word from the agent by the lease deadline");
        g.getOutputStream().close();
        exits(g);
    }

    /**
     * A late agent goes on, may start and promote postgres again, and then die: the guard that fired on its silence
     * still guards (it used to exit, or hang up to 30 s in pg_ctl's wait for a postmaster the agent had started anew,
     * and a kill -9 of the agent then stopped nothing: chaos seed 302 fault 226, two writers).
     */
    @Test
    void afterFiringOnSilenceItStillStopsPostgresWhenTheAgentLaterDies() throws Exception {
        Process g = guard();
        say(g, "arm 0.300");
        awaitCalls(immediateStop());
        assertThat(g.isAlive()).as("still guarding after it fired").isTrue();
        say(g, "disarm");
        say(g, "arm 60"); // the agent promoted postgres again
        g.getOutputStream().close(); // and is killed
        exits(g);
        assertThat(calls()).isEqualTo(immediateStop() + immediateStop());
        assertThat(Files.readString(stderr)).contains("the agent is gone while primary");
    }

    private void awaitCalls(String expected) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!calls().equals(expected) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(calls()).isEqualTo(expected);
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
        awaitCalls(immediateStop()); // the renewals stop: fires within the last 0.5 s
        g.getOutputStream().close();
        exits(g);
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
        long hungPid = awaitPid(hung);
        awaitCalls(immediateStop()); // no renewal follows: like an agent that froze
        hung.close(); // the agent goes on, and stops cleanly
        awaitExit(hungPid);
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
