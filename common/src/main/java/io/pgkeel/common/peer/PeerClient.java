package io.pgkeel.common.peer;

import io.pgkeel.common.cluster.Member;
import java.util.List;

/** Asks other members for their status ({@code GET /patroni}) in parallel, each with a short timeout. */
public interface PeerClient {
    /** One answer per member, in any order; a member that did not answer is {@link PeerStatus#unreachable}. */
    List<PeerStatus> fetch(List<Member> members);
}
