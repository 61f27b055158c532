package io.pgkeel.agent;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.spi.ContextAwareBase;
import java.util.Locale;
import java.util.Map;

/**
 * pgkeel's logging, set up in code rather than from a logback.xml: one line per event on stderr (journald adds its
 * own timestamp, but a plain run needs one), or one JSON object per line with {@code PGKEEL_LOG_FORMAT=json}.
 * {@code PGKEEL_LOG_LEVEL} sets the level. Built in code because parsing XML loads logback's configuration
 * framework and an XML parser, about 600 classes (3 MB) an idle agent would keep for nothing.
 * An operator's {@code -Dlogback.configurationFile} still wins: this configurator then steps aside.
 *
 * <p>Found by logback through META-INF/services. Both settings are read as system property first, then
 * environment variable, as logback's {@code ${VAR}} substitution did.
 */
public final class LogConfigurator extends ContextAwareBase implements Configurator {
    static final String PATTERN = "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level [%thread] %logger{0}: %msg%n";
    /** Libraries that log at INFO about their own plumbing; their warnings and errors still show. */
    private static final String[] QUIET = {"io.netty", "io.grpc", "io.vertx"};
    /**
     * jetcd warns once per retry of every failed request; the DCS client reports each failure itself, once per
     * streak, with its cause and the endpoints (EtcdDcs), so only jetcd's errors show.
     */
    private static final String[] ERRORS_ONLY = {"io.etcd"};

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (System.getProperty("logback.configurationFile") != null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        configure(context, setting("PGKEEL_LOG_FORMAT", System.getenv()), setting("PGKEEL_LOG_LEVEL", System.getenv()));
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    static String setting(String name, Map<String, String> env) {
        String v = System.getProperty(name);
        return v != null ? v : env.get(name);
    }

    /** @param format "json", or null/"text" for the pattern; @param level a logback level name, null for INFO */
    static void configure(LoggerContext context, String format, String level) {
        Encoder<ILoggingEvent> encoder;
        if (format != null && format.trim().equalsIgnoreCase("json")) {
            JsonEncoder json = new JsonEncoder();
            json.setWithSequenceNumber(false);
            json.setWithNanoseconds(false);
            json.setWithContext(false);
            json.setWithArguments(false);
            json.setWithMDC(false);
            json.setWithKVPList(false);
            json.setWithMessage(false);
            json.setWithFormattedMessage(true);
            encoder = json;
        } else {
            if (format != null && !format.isBlank() && !format.trim().equalsIgnoreCase("text")) {
                System.err.println("pgkeel: PGKEEL_LOG_FORMAT=" + format + " is not a log format (text, json); using text");
            }
            PatternLayoutEncoder pattern = new PatternLayoutEncoder();
            pattern.setPattern(PATTERN);
            encoder = pattern;
        }
        encoder.setContext(context);
        encoder.start();
        ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
        stderr.setContext(context);
        stderr.setName("STDERR");
        stderr.setTarget("System.err");
        stderr.setEncoder(encoder);
        stderr.start();
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.detachAndStopAllAppenders();
        root.setLevel(level(level));
        root.addAppender(stderr);
        for (String name : QUIET) {
            context.getLogger(name).setLevel(Level.WARN);
        }
        for (String name : ERRORS_ONLY) {
            context.getLogger(name).setLevel(Level.ERROR);
        }
    }

    private static Level level(String name) {
        if (name == null || name.isBlank()) {
            return Level.INFO;
        }
        Level level = Level.toLevel(name.trim().toUpperCase(Locale.ROOT), null);
        if (level == null) {
            System.err.println("pgkeel: PGKEEL_LOG_LEVEL=" + name + " is not a log level (TRACE, DEBUG, INFO, WARN, ERROR,"
                    + " OFF); using INFO");
            return Level.INFO;
        }
        return level;
    }
}
