package io.pgkeel.agent.ha;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link NodeMemory#pausedLeader} kept across agent restarts, so that an agent restarted after a paused leader's key
 * lapsed still waits for that leader when the pause ends ({@link PausedPolicy#beforeRacingAfterPause}). The file
 * ({@code <data_dir>.paused-leader.json}, beside the failsafe promise's) holds
 * {@code {"paused_leader": "name", "api_url": "http://..."}} (api_url when known), or {@code {}} for none; written only when the value changes, which happens around a pause, not every cycle. The HA loop's
 * thread only.
 */
final class PausedLeaderRecord {
    private static final Logger log = LoggerFactory.getLogger(PausedLeaderRecord.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final AgentFile disk;
    /** What the disk holds as far as this agent knows; differs from the memory's after a failed write. */
    private NodeMemory.PausedLeader written;

    PausedLeaderRecord(AgentFile disk) {
        this.disk = disk;
    }

    /**
     * The paused leader an earlier agent recorded, or null. A record that cannot be read or parsed is reported and
     * taken as none: the agent then races as one without it would (the gap decisions.md names for a lost record).
     */
    NodeMemory.PausedLeader readBack() {
        try {
            Optional<String> content = disk.read();
            if (content.isEmpty() || content.get().isBlank()) {
                return null;
            }
            JsonNode json = JSON.readTree(content.get());
            JsonNode name = json == null ? null : json.get("paused_leader");
            JsonNode url = json == null ? null : json.get("api_url");
            written = name != null && name.isTextual() && !name.asText().isEmpty()
                    ? new NodeMemory.PausedLeader(name.asText(), url != null && url.isTextual() ? url.asText() : null)
                    : null;
            if (written != null) {
                log.info("the cluster's leader was '{}' when this node last saw it paused, and its key may have lapsed"
                        + " then ({}): not racing after the pause until it answers as a replica", written.name(), disk);
            }
            return written;
        } catch (IOException | RuntimeException e) {
            log.warn("cannot read the paused leader's record {}: {}; taking it as none", disk, e.toString());
            return null;
        }
    }

    /** Records {@code pausedLeader} (or none: null) when it differs from what the disk holds. */
    void keep(NodeMemory.PausedLeader pausedLeader) {
        if (Objects.equals(pausedLeader, written)) {
            return;
        }
        try {
            Map<String, String> json = new LinkedHashMap<>();
            if (pausedLeader != null) {
                json.put("paused_leader", pausedLeader.name());
                if (pausedLeader.apiUrl() != null) {
                    json.put("api_url", pausedLeader.apiUrl());
                }
            }
            disk.write(JSON.writeValueAsString(json));
            written = pausedLeader;
        } catch (IOException | RuntimeException e) {
            if (pausedLeader == null) {
                log.warn("cannot clear the paused leader's record {}: {}; an agent restarted now would wait for '{}'"
                        + " again until it answers", disk, e.toString(), written == null ? "?" : written.name());
            } else {
                log.warn("cannot record the paused leader '{}' in {}: {}; an agent restarted before the pause ends"
                        + " will not know to wait for it", pausedLeader.name(), disk, e.toString());
            }
        }
    }
}
