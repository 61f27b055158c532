package io.pgkeel.agent;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class LogConfiguratorTest {
    /** What an agent writes to stderr after configuring a fresh context and logging INFO, DEBUG and a library's INFO. */
    private static String logged(String format, String level) {
        return logged(format, level, context -> {
            context.getLogger("io.pgkeel.agent.ha.HaNode").info("cycle {}", 1);
            context.getLogger("io.pgkeel.agent.ha.HaNode").debug("detail");
            context.getLogger("io.netty.channel.DefaultChannelPipeline").info("plumbing");
        });
    }

    private static String logged(String format, String level, Consumer<LoggerContext> events) {
        PrintStream stderr = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            LogConfigurator.configure(context, format, level);
            events.accept(context);
            context.stop();
        } finally {
            System.setErr(stderr);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }

    @Test
    void textByDefault_oneLinePerEvent_atInfo_librariesAtWarn() {
        String out = logged(null, null);
        assertThat(out.lines()).hasSize(1);
        assertThat(out).matches("(?s)\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  \\[[^]]+\\] HaNode: cycle 1\\n");
    }

    /** PGKEEL_LOG_FORMAT=json: every log line is one JSON object a log shipper can parse. */
    @Test
    void jsonFormat_eachLineIsAJsonObjectWithLevelLoggerAndMessage() throws Exception {
        String out = logged("json", null, context -> {
            context.getLogger("io.pgkeel.agent.ha.HaNode").info("[{} primary] LeadAsPrimary: {}", "node1",
                    "no action. I am (node1), the leader with the lock");
            context.getLogger("io.pgkeel.agent.ha.HaNode").warn("a \"quoted\"\nmulti-line message");
        });
        String[] lines = out.trim().split("\n");
        assertThat(lines).hasSize(2);
        JsonNode first = new ObjectMapper().readTree(lines[0]);
        assertThat(first.path("level").asText()).isEqualTo("INFO");
        assertThat(first.path("loggerName").asText()).isEqualTo("io.pgkeel.agent.ha.HaNode");
        assertThat(first.path("formattedMessage").asText())
                .isEqualTo("[node1 primary] LeadAsPrimary: no action. I am (node1), the leader with the lock");
        assertThat(first.path("timestamp").asLong()).isPositive();
        assertThat(new ObjectMapper().readTree(lines[1]).path("formattedMessage").asText())
                .isEqualTo("a \"quoted\"\nmulti-line message");
    }

    @Test
    void levelIsTakenCaseInsensitively() {
        assertThat(logged("text", "debug").lines()).hasSize(2).last().asString().endsWith("HaNode: detail");
        assertThat(logged("text", "warn")).isEmpty();
    }

    @Test
    void anUnknownLevelOrFormatIsNamedAndFallsBackToInfoText() {
        assertThat(logged("text", "verbose")).startsWith("pgkeel: PGKEEL_LOG_LEVEL=verbose is not a log level")
                .contains(" INFO  ").endsWith("HaNode: cycle 1\n");
        assertThat(logged("yaml", null)).startsWith("pgkeel: PGKEEL_LOG_FORMAT=yaml is not a log format (text, json)")
                .endsWith("HaNode: cycle 1\n");
    }

    @Test
    void aSystemPropertyWinsOverTheEnvironment() {
        assertThat(LogConfigurator.setting("PGKEEL_TEST_LOG_SETTING", Map.of("PGKEEL_TEST_LOG_SETTING", "json")))
                .isEqualTo("json");
        System.setProperty("PGKEEL_TEST_LOG_SETTING", "text");
        try {
            assertThat(LogConfigurator.setting("PGKEEL_TEST_LOG_SETTING", Map.of("PGKEEL_TEST_LOG_SETTING", "json")))
                    .isEqualTo("text");
        } finally {
            System.clearProperty("PGKEEL_TEST_LOG_SETTING");
        }
    }

    @Test
    void logbackFindsItThroughTheServiceFile() {
        assertThat(ServiceLoader.load(ch.qos.logback.classic.spi.Configurator.class).stream()
                .map(p -> p.type().getName())).contains(LogConfigurator.class.getName());
    }
}
