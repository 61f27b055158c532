package io.pgkeel.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Time comes from the Clock seam only: deadlines must be testable with FakeClock, and wall time must never
 * drive a deadline. Scans the production sources of every module (run from agent/, the others are siblings).
 */
class TimeSourcesTest {
    private static final Pattern FORBIDDEN = Pattern.compile(
            "System\\.(nanoTime|currentTimeMillis)\\(|Instant\\.now\\(|Thread\\.sleep\\(|LocalDateTime\\.now\\(");

    @Test
    void onlySystemClockReadsTheSystemClocks() throws IOException {
        List<String> offenders = new ArrayList<>();
        for (String module : List.of("common", "config", "dcs", "agent")) {
            Path src = Path.of("..", module, "src", "main", "java");
            assertThat(src).as("sources of " + module).isDirectory();
            try (Stream<Path> files = Files.walk(src)) {
                for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                    if (f.getFileName().toString().equals("SystemClock.java")) {
                        continue;
                    }
                    List<String> lines = Files.readAllLines(f);
                    for (int i = 0; i < lines.size(); i++) {
                        if (FORBIDDEN.matcher(lines.get(i)).find()) {
                            offenders.add(f + ":" + (i + 1) + ": " + lines.get(i).trim());
                        }
                    }
                }
            }
        }
        assertThat(offenders).as("read time through io.pgkeel.common.Clock instead").isEmpty();
    }
}
