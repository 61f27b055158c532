package io.pgkeel.dcs;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.common.cluster.Member;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Patroni's value formats, and garbage typed in with etcdctl. */
class ValueCodecTest {

    @Test
    void readsAMemberKeyAsPatroniWritesIt() {
        String patroni = "{\"conn_url\":\"postgres://10.0.0.2:5432/postgres\",\"api_url\":\"http://10.0.0.2:8008/patroni\","
                + "\"state\":\"running\",\"role\":\"replica\",\"version\":\"4.1.4\",\"xlog_location\":67395656,"
                + "\"timeline\":3,\"replication_state\":\"streaming\",\"tags\":{\"nofailover\":true,\"clonefrom\":true}}";
        ValueCodec.Decoded<Member> d = ValueCodec.member("pg2", patroni, 17);
        assertThat(d.isOk()).isTrue();
        Member m = d.value();
        assertThat(m.connUrl()).isEqualTo("postgres://10.0.0.2:5432/postgres");
        assertThat(m.xlogLocation()).isEqualTo(67395656L);
        assertThat(m.timeline()).isEqualTo(3);
        assertThat(m.nofailover()).isTrue();
        assertThat(m.modRevision()).isEqualTo(17);
    }

    @Test
    void writesMemberKeysPatroniCanRead() {
        Member m = new Member("pg1", "postgres://h:5432/postgres", "http://h:8008/patroni", "running", "primary", 2,
                1234, null, Map.of("nofailover", false), 0);
        String json = ValueCodec.encodeMember(m, "0.1.0");
        assertThat(json).contains("\"conn_url\":\"postgres://h:5432/postgres\"", "\"role\":\"primary\"",
                "\"xlog_location\":1234", "\"timeline\":2", "\"version\":\"0.1.0\"");
        assertThat(ValueCodec.member("pg1", json, 1).value().xlogLocation()).isEqualTo(1234);
    }

    @Test
    void theMonitoringFieldsOfAMemberKeyRoundTrip() {
        Member m = new Member("pg2", "postgres://h:5432/postgres", "http://h:8008/patroni", "running", "replica", 2,
                1200, "streaming", Map.of(), 0, false, true, 1300, 1200,
                Map.of("max_connections", Map.of("old_value", "40", "new_value", "50")),
                Map.of("schedule", "2026-12-01T01:00:00+00:00", "role", "replica"));
        String json = ValueCodec.encodeMember(m, "0.1.0");
        assertThat(json).contains("\"receive_lsn\":1300", "\"replay_lsn\":1200",
                "\"pending_restart_reason\":{\"max_connections\":{", "\"scheduled_restart\":{",
                "\"schedule\":\"2026-12-01T01:00:00+00:00\"");
        assertThat(ValueCodec.member("pg2", json, 0).value()).isEqualTo(m);
        assertThat(ValueCodec.encodeMember(new Member("pg1", "postgres://h:5432/postgres", "http://h:8008/patroni",
                "running", "primary", 2, 1234, null, Map.of(), 0), "0.1.0"))
                .as("a primary without them writes none").doesNotContain("receive_lsn", "replay_lsn",
                        "pending_restart_reason", "scheduled_restart");
    }

    @Test
    void garbageIsReportedNotThrown() {
        assertThat(ValueCodec.member("x", "not json {", 1).problem()).isEqualTo("not a JSON object");
        assertThat(ValueCodec.member("x", "[1,2]", 1).isOk()).isFalse();
        assertThat(ValueCodec.leader("").isOk()).isFalse();
        assertThat(ValueCodec.leader("a\nb").isOk()).isFalse();
        assertThat(ValueCodec.status("{\"optime\":\"soon\"}").isOk()).isFalse();
        assertThat(ValueCodec.config("42", 1, new ArrayList<>()).isOk()).isFalse();
    }

    @Test
    void statusAcceptsTheCurrentAndTheLegacyForm() {
        assertThat(ValueCodec.status("{\"optime\": 67395656, \"slots\": {}}").value())
                .isEqualTo(new ValueCodec.Status(67395656L, java.util.Set.of()));
        assertThat(ValueCodec.status("67395656").value().optime()).isEqualTo(67395656L);
        assertThat(ValueCodec.encodeStatus(5, java.util.Set.of())).as("Patroni 3.0's form").isEqualTo("{\"optime\":5}");
        assertThat(ValueCodec.encodeStatus(5, java.util.Set.of("node4", "node3")))
                .isEqualTo("{\"optime\":5,\"retain_slots\":[\"node3\",\"node4\"]}");
        assertThat(ValueCodec.status("{\"optime\":5,\"retain_slots\":[\"node3\",\"node4\"]}").value().retainSlots())
                .containsExactly("node3", "node4");
        assertThat(ValueCodec.status("{\"optime\":5,\"retain_slots\":\"node3\"}").value())
                .as("a retain_slots that is no list is ignored, the optime kept")
                .isEqualTo(new ValueCodec.Status(5, java.util.Set.of()));
        assertThat(ValueCodec.status("{\"optime\":5,\"retain_slots\":[\"node3\", 7, null]}").value().retainSlots())
                .containsExactly("node3");
    }

    @Test
    void configWithABadFieldKeepsTheDefaultAndSaysWhich() {
        List<String> problems = new ArrayList<>();
        ValueCodec.Decoded<io.pgkeel.common.cluster.DynamicConfig> d =
                ValueCodec.config("{\"ttl\":\"abc\",\"loop_wait\":2}", 9, problems);
        assertThat(d.isOk()).isTrue();
        assertThat(d.value().ttl()).isEqualTo(30);
        assertThat(d.value().loopWait()).isEqualTo(2);
        assertThat(d.value().modRevision()).isEqualTo(9);
        assertThat(problems).singleElement().asString().contains("config.ttl");
    }

    @Test
    void failoverKeyInBothForms() {
        assertThat(ValueCodec.failover("{\"leader\":\"a\",\"member\":\"b\"}", 3).value().member()).isEqualTo("b");
        assertThat(ValueCodec.failover("a:b", 3).value().leader()).isEqualTo("a");
        assertThat(ValueCodec.failover("{}", 3).isOk()).isFalse();
    }
}
