package io.pgkeel.agent.pg;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real scripts: called as `script action role scope`, never blocking the caller, killed at the timeout. */
class CallbackRunnerTest {
    @TempDir
    Path dir;

    private Path script(String name, String body) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() - deadline).as("waiting for " + what).isNegative();
            Thread.sleep(20);
        }
    }

    @Test
    void callsTheScriptWithActionRoleAndScope() throws Exception {
        Path out = dir.resolve("args");
        Path s = script("cb.sh", "echo \"$@\" >> " + out);
        CallbackRunner r = new CallbackRunner(() -> Map.of("on_role_change", s + " --flag 'two words'"), "demo",
                Duration.ofSeconds(5));
        r.fire("on_role_change", "primary");
        r.fire("on_start", "replica"); // not configured: nothing runs
        await("the script's output", () -> Files.exists(out));
        await("one line", () -> read(out).contains("\n"));
        assertThat(read(out)).isEqualTo("--flag two words on_role_change primary demo\n");
        r.close();
    }

    @Test
    void aSlowScriptNeitherBlocksTheCallerNorOutlivesTheTimeout() throws Exception {
        Path pid = dir.resolve("pid");
        Path s = script("slow.sh", "echo $$ > " + pid + "\nexec sleep 30");
        CallbackRunner r = new CallbackRunner(() -> Map.of("on_start", s.toString()), "demo", Duration.ofMillis(500));
        long t0 = System.nanoTime();
        r.fire("on_start", "primary");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("fire returns at once").isLessThan(Duration.ofSeconds(1));
        await("the script to start", () -> read(pid).trim().matches("\\d+"));
        long p = Long.parseLong(read(pid).trim());
        await("the script to be killed at the timeout", () -> ProcessHandle.of(p).map(h -> !h.isAlive()).orElse(true));
        r.close();
    }

    @Test
    void aNewCallbackKillsTheOneStillRunning() throws Exception {
        Path pid = dir.resolve("pid");
        Path done = dir.resolve("done");
        Path slow = script("slow.sh", "echo $$ > " + pid + "\nexec sleep 30");
        Path fast = script("fast.sh", "echo \"$1\" > " + done);
        CallbackRunner r = new CallbackRunner(() -> Map.of("on_start", slow.toString(), "on_stop", fast.toString()),
                "demo", Duration.ofSeconds(60));
        r.fire("on_start", "primary");
        await("the slow script to start", () -> read(pid).trim().matches("\\d+"));
        long p = Long.parseLong(read(pid).trim());
        r.fire("on_stop", "primary");
        await("the slow one to be killed", () -> ProcessHandle.of(p).map(h -> !h.isAlive()).orElse(true));
        await("the new one to run", () -> read(done).equals("on_stop\n"));
        r.close();
    }

    @Test
    void splitsLikeAShell() {
        assertThat(CallbackRunner.split("/usr/bin/cb  --x \"a b\" 'c d'e")).isEqualTo(List.of("/usr/bin/cb", "--x",
                "a b", "c de"));
    }

    private static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p) : "";
        } catch (java.io.IOException e) {
            return "";
        }
    }
}
