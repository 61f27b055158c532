package io.pgkeel.dcs;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.common.cluster.SyncKey;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The {@code sync} key as Patroni writes it: 3.0.2 {@code {"leader":..,"sync_standby":..}}, 4.1
 * {@code {"leader":..,"quorum":..,"sync_standby":..}} (patroni/dcs/__init__.py, SyncState.from_node and
 * AbstractDCS.sync_state/write_sync_state), and what etcdctl can leave there.
 */
class ValueCodecSyncTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            Patroni 3.0.2, one standby          | {"leader":"pg1","sync_standby":"pg2"}                  | pg1 | pg2     | 0
            Patroni 3.0.2, none                 | {"leader":"pg1","sync_standby":null}                   | pg1 | ``      | 0
            Patroni 3.0.2, two                  | {"leader":"pg1","sync_standby":"pg2,pg3"}              | pg1 | pg2;pg3 | 0
            Patroni 4.1 on mode                 | {"leader":"pg1","quorum":0,"sync_standby":"pg2"}       | pg1 | pg2     | 0
            Patroni 4.1 quorum mode             | {"leader":"pg1","quorum":1,"sync_standby":"pg2,pg3"}   | pg1 | pg2;pg3 | 1
            Patroni 4.1, none                   | {"leader":"pg1","quorum":0,"sync_standby":null}        | pg1 | ``      | 0
            pretty-printed                      | `{ "leader": "pg1", "sync_standby": "pg2", "quorum": 1 }` | pg1 | pg2 | 1
            no sync_standby field               | {"leader":"pg1"}                                       | pg1 | ``      | 0
            quorum as a string (int() reads it) | {"leader":"pg1","quorum":"2","sync_standby":"a,b,c"}   | pg1 | a;b;c   | 2
            quorum as a padded string           | {"leader":"pg1","quorum":" 2 ","sync_standby":"a,b,c"} | pg1 | a;b;c   | 2
            quorum null                         | {"leader":"pg1","quorum":null,"sync_standby":"a"}      | pg1 | a       | 0
            names with blanks and empty entries | {"leader":"pg1","sync_standby":" a , ,b,"}             | pg1 | a;b     | 0
            unknown fields are ignored          | {"leader":"pg1","sync_standby":"a","x":[1]}            | pg1 | a       | 0
            """)
    void readsEveryValuePatroniWrites(String form, String text, String leader, String voters, int quorum) {
        ValueCodec.Decoded<SyncKey> d = ValueCodec.sync(text, 42);
        assertThat(d.problem()).as(form).isNull();
        assertThat(d.value()).as(form).isEqualTo(new SyncKey(leader, voters.isEmpty() ? List.of()
                : List.of(voters.split(";")), quorum, 42));
    }

    /** No leader: Patroni's SyncState.is_empty, the same as no key (not garbage, nothing is reported). */
    @ParameterizedTest(name = "[{0}] is empty")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            ``
            `   `
            {}
            { }
            {"leader":""}
            {"leader":null,"sync_standby":"pg2"}
            {"sync_standby":"pg2","quorum":1}
            """)
    void leaderLessValuesAreAnEmptyKey(String text) {
        assertThat(ValueCodec.sync(text, 7).problem()).isEqualTo("empty");
    }

    /**
     * What Patroni's writer never produces is garbage: EtcdDcs reads it as a key naming nobody (leader ""), so no
     * standby is promoted on it (Patroni would read it as no key at all).
     */
    @ParameterizedTest(name = "[{0}] is garbage: {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            not json                                             | not a JSON object
            `[]`                                                 | not a JSON object
            `"pg1"`                                              | not a JSON object
            5                                                    | not a JSON object
            null                                                 | not a JSON object
            {"leader":"pg1"                                      | not a JSON object
            {"leader":5}                                         | leader is not a member name
            {"leader":["pg1"]}                                   | leader is not a member name
            {"leader":true}                                      | leader is not a member name
            {"leader":"pg1","sync_standby":["pg2"]}              | sync_standby is not a string of comma separated names
            {"leader":"pg1","sync_standby":5}                    | sync_standby is not a string of comma separated names
            {"leader":"pg1","quorum":"two","sync_standby":"a"}   | quorum is not a whole number
            {"leader":"pg1","quorum":-1,"sync_standby":"a"}      | quorum is not a whole number
            {"leader":"pg1","quorum":1.5,"sync_standby":"a"}     | quorum is not a whole number
            {"leader":"pg1","quorum":true,"sync_standby":"a"}    | quorum is not a whole number
            {"leader":"pg1","quorum":{},"sync_standby":"a"}      | quorum is not a whole number
            {"leader":"pg1","quorum":"9999999999","sync_standby":"a"} | quorum is not a whole number
            """)
    void garbageIsNamed(String text, String problem) {
        assertThat(ValueCodec.sync(text, 7).problem()).isEqualTo(problem);
    }

    /**
     * Byte for byte what Patroni 4.1 writes: {@code json.dumps(sync_state(...), separators=(',', ':'))}, names sorted
     * by code point, {@code null} for none, non-ASCII and control characters escaped as Python's ensure_ascii does
     * (the expected strings were printed by python3's json module).
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            none               | pg1      | ``             | 0 | {"leader":"pg1","quorum":0,"sync_standby":null}
            two, sorted        | pg1      | pg3;pg2        | 1 | {"leader":"pg1","quorum":1,"sync_standby":"pg2,pg3"}
            code point order   | pg1      | b;a;B;_x;1     | 2 | {"leader":"pg1","quorum":2,"sync_standby":"1,B,_x,a,b"}
            non-ASCII          | pü       | é              | 0 | {"leader":"p\\u00fc","quorum":0,"sync_standby":"\\u00e9"}
            quote, backslash   | a"b\\c/d | `t\tab`        | 0 | {"leader":"a\\"b\\\\c/d","quorum":0,"sync_standby":"t\\tab"}
            DEL, control, emoji | `x\u007f\u0001` | `\ud83d\ude00` | 1 | {"leader":"x\\u007f\\u0001","quorum":1,"sync_standby":"\\ud83d\\ude00"}
            """)
    void writesWhatPatroni41Writes(String form, String leader, String voters, int quorum, String expected) {
        List<String> names = voters.isEmpty() ? List.of() : List.of(voters.split(";"));
        String written = ValueCodec.encodeSync(leader, names, quorum);
        assertThat(written).as(form).isEqualTo(expected);
        ValueCodec.Decoded<SyncKey> back = ValueCodec.sync(written, 3);
        assertThat(back.value()).as(form + ", read back").isEqualTo(new SyncKey(leader,
                names.stream().sorted().toList(), quorum, 3));
    }
}
