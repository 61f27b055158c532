package io.pgkeel.common.peer;

import io.pgkeel.common.cluster.Member;
import java.time.Duration;
import java.util.List;

/** Asks other members for their status ({@code GET /patroni}) in parallel, each with a short timeout. */
public interface PeerClient {
    /** One answer per member, in any order; a member that did not answer is {@link PeerStatus#unreachable}. */
    List<PeerStatus> fetch(List<Member> members);

    /**
     * A primary in failsafe mode asks one member to confirm it ({@code POST /failsafe} with {@code bodyJson}, Patroni's
     * {@code {name, conn_url, api_url, slots}}), bounded by {@code timeout}. Never throws: no answer is a refusal.
     * This default cannot ask anyone and refuses, which only makes failsafe stricter.
     */
    default FailsafeAnswer postFailsafe(String apiUrl, String bodyJson, Duration timeout) {
        return FailsafeAnswer.refused("this peer client cannot ask " + apiUrl);
    }

    /**
     * One failsafe round: {@link #postFailsafe} to every member of {@code apiUrls} (name -> api_url), each bounded by
     * {@code timeout}; the answers by member name, one per member. This default asks one after the other; a client
     * that can ask them at once (HttpPeerClient) does, so that the round takes one timeout at most.
     */
    default java.util.Map<String, FailsafeAnswer> postFailsafe(java.util.Map<String, String> apiUrls, String bodyJson,
                                                               Duration timeout) {
        java.util.Map<String, FailsafeAnswer> out = new java.util.HashMap<>();
        apiUrls.forEach((name, url) -> out.put(name, postFailsafe(url, bodyJson, timeout)));
        return out;
    }
}
