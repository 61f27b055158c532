package io.pgkeel.agent;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** PGKEEL_LOG_FORMAT=json (logback-json.xml): every log line is one JSON object a log shipper can parse. */
class JsonLogTest {
    @Test
    void eachLineIsAJsonObjectWithLevelLoggerAndMessage() throws Exception {
        PrintStream stderr = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            JoranConfigurator configurator = new JoranConfigurator();
            configurator.setContext(context);
            configurator.doConfigure(getClass().getClassLoader().getResource("logback-json.xml"));
            context.getLogger("io.pgkeel.agent.ha.HaNode").info("[{} primary] LeadAsPrimary: {}", "node1",
                    "no action. I am (node1), the leader with the lock");
            context.getLogger("io.pgkeel.agent.ha.HaNode").warn("a \"quoted\"\nmulti-line message");
            context.stop();
        } finally {
            System.setErr(stderr);
        }
        String[] lines = captured.toString(StandardCharsets.UTF_8).trim().split("\n");
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
}
