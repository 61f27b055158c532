package io.pgkeel.agent.ctl;

import static io.pgkeel.agent.ctl.CtlError.FAILED;

import io.pgkeel.agent.EtcdClientSettings;
import io.pgkeel.agent.Version;
import io.pgkeel.agent.tls.RestApiTls;
import io.pgkeel.common.Clock;
import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.cluster.Member;
import io.pgkeel.common.dcs.Dcs;
import io.pgkeel.config.PgkeelConfig;
import io.pgkeel.dcs.EtcdDcsFactory;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * What every ctl command works with: the cluster's configuration, a read-mostly etcd connection (no lease, no member
 * key), the members' REST APIs (with TLS and basic auth from Patroni's {@code ctl} section, falling back to
 * {@code restapi} as Patroni does), the terminal and the clock.
 */
final class Ctl implements AutoCloseable {
    /** A REST answer; status 0 when the member could not be reached. */
    record Answer(int status, String text) {
        boolean ok() {
            return status >= 200 && status < 300;
        }
    }

    final PgkeelConfig config;
    final Dcs dcs;
    final PrintStream out;
    final PrintStream err;
    final Clock clock = Clock.system();
    private final BufferedReader in;
    private final HttpClient http;

    Ctl(PgkeelConfig config, PrintStream out, PrintStream err, BufferedReader in) {
        this.config = config;
        this.out = out;
        this.err = err;
        this.in = in;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3))
                .sslContext(RestApiTls.ctl(config.ctlConnection())).build();
        this.dcs = EtcdDcsFactory.connect(EtcdClientSettings.of(config, "pgkeel-ctl", Duration.ofSeconds(5),
                Version.PGKEEL, clock));
    }

    ClusterView read() {
        return dcs.read();
    }

    /**
     * The config key as it is now.
     *
     * @throws CtlError when the cluster has none yet
     */
    DynamicConfig readConfig() {
        return read().config().orElseThrow(() -> new CtlError(FAILED, "the cluster has no configuration in DCS yet"));
    }

    /**
     * Calls {@code path} on a member's REST API (its api_url without /patroni), with basic auth from
     * {@code ctl.authentication}, else {@code restapi.authentication} (Patroni 4.1's {@code PatroniRequest}).
     */
    Answer call(Member m, String method, String path, Object body) {
        if (m.apiUrl() == null) {
            return new Answer(0, "member " + m.name() + " has no api_url");
        }
        String base = m.apiUrl().replaceAll("/patroni/?$", "");
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60));
            String json = body == null ? null : Format.JSON.writeValueAsString(body);
            b.method(method, json == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(json));
            if (json != null) {
                b.header("Content-Type", "application/json");
            }
            config.ctlConnection().authentication().ifPresent(c -> b.header("Authorization", "Basic " + Base64.getEncoder()
                    .encodeToString((c.username() + ":" + c.password()).getBytes(StandardCharsets.UTF_8))));
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return new Answer(r.statusCode(), r.body());
        } catch (IOException | IllegalArgumentException e) {
            return new Answer(0, e.getMessage() == null ? e.toString() : e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Answer(0, "interrupted");
        }
    }

    /**
     * Asks the member {@code target} for a switchover or failover (POST {@code path}) and prints its answer. When no
     * member answers (none to ask, or unreachable), writes the failover key directly (patronictl's fallback) and
     * says so.
     *
     * @param action "switchover" or "failover", for the messages
     * @param leader the failover key's leader, or null (only written in the fallback)
     * @param candidate the failover key's member, or null (only written in the fallback)
     * @param scheduledAt ISO 8601 with offset, or null for now
     * @return 0; a refusal is a {@link CtlError} with exit code 1
     */
    int requestFailover(Optional<Member> target, String path, Map<String, Object> body, String action, String leader,
                        String candidate, String scheduledAt) {
        Answer a = target.map(m -> call(m, "POST", path, body)).orElse(new Answer(0, "no member to ask"));
        if (a.status() == 0) {
            err.println("Could not " + action + " using the REST API (" + a.text() + "), falling back to DCS");
            dcs.writeFailover(leader, candidate, scheduledAt, -1);
            out.println(clock.now().atOffset(ZoneOffset.UTC).withNano(0) + " " + capitalize(action)
                    + " request written to DCS; the agents carry it out");
            return 0;
        }
        if (!a.ok()) {
            throw new CtlError(FAILED, capitalize(action) + " failed, details: " + a.status() + ", " + a.text());
        }
        out.println(clock.now().atOffset(ZoneOffset.UTC).withNano(0) + " " + a.text());
        return 0;
    }

    private static String capitalize(String s) {
        return Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }

    /** Asks a yes/no question; only "y" or "yes" means yes. */
    boolean confirm(String question) {
        return prompt(question + " [y/N]", "n").trim().toLowerCase(java.util.Locale.ROOT).matches("y|yes");
    }

    /** Asks for a line of input; an empty answer gives {@code defaultValue}. */
    String prompt(String question, String defaultValue) {
        out.print(question + (defaultValue == null || defaultValue.isEmpty() || question.endsWith("]") ? "" : " ["
                + defaultValue + "]") + ": ");
        out.flush();
        try {
            String line = in.readLine();
            return line == null || line.isBlank() ? Optional.ofNullable(defaultValue).orElse("") : line.trim();
        } catch (IOException e) {
            return defaultValue == null ? "" : defaultValue;
        }
    }

    /** Waits {@code millis} milliseconds, as a pause between two reads of the cluster. */
    void sleep(long millis) {
        clock.sleepNanos(TimeUnit.MILLISECONDS.toNanos(millis));
    }

    @Override
    public void close() {
        dcs.close();
    }
}
