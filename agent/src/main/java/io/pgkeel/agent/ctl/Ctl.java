package io.pgkeel.agent.ctl;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgkeel.agent.Version;
import io.pgkeel.common.Clock;
import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.Member;
import io.pgkeel.common.dcs.Dcs;
import io.pgkeel.config.PgkeelConfig;
import io.pgkeel.dcs.EtcdDcsFactory;
import io.pgkeel.dcs.EtcdSettings;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;

/**
 * What every ctl command works with: the cluster's configuration, a read-mostly etcd connection (no lease, no member
 * key), the members' REST APIs, and the terminal.
 */
final class Ctl implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

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
    private final BufferedReader in;
    private final HttpClient http;

    Ctl(PgkeelConfig config, PrintStream out, PrintStream err, BufferedReader in) {
        this.config = config;
        this.out = out;
        this.err = err;
        this.in = in;
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3));
        io.pgkeel.agent.tls.RestApiTls.peer(config.restapi().tls()).ifPresent(b::sslContext);
        this.http = b.build();
        this.dcs = EtcdDcsFactory.connect(new EtcdSettings(
                config.etcd().hosts().stream().map(h -> "http://" + h).toList(), config.clusterPrefix(), "pgkeel-ctl",
                Duration.ofSeconds(5), Version.PGKEEL, Clock.system()));
    }

    ClusterView read() {
        return dcs.read();
    }

    /** Calls {@code path} on a member's REST API (its api_url without /patroni), with the configured basic auth. */
    Answer call(Member m, String method, String path, Object body) {
        if (m.apiUrl() == null) {
            return new Answer(0, "member " + m.name() + " has no api_url");
        }
        String base = m.apiUrl().replaceAll("/patroni/?$", "");
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60));
            String json = body == null ? null : JSON.writeValueAsString(body);
            b.method(method, json == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(json));
            if (json != null) {
                b.header("Content-Type", "application/json");
            }
            config.restapi().authentication().ifPresent(c -> b.header("Authorization", "Basic " + Base64.getEncoder()
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

    @Override
    public void close() {
        dcs.close();
    }
}
