package io.pgkeel.dcs;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The {@code failsafe} key as Patroni 3.0+ writes it ({@code json.dumps(value, separators=(',', ':'))} of member name
 * -> api_url, patroni/dcs/__init__.py {@code write_failsafe}) and what etcdctl can leave there.
 */
class ValueCodecFailsafeTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            Patroni, three members | {"pg1":"http://10.0.0.1:8008/patroni","pg2":"http://10.0.0.2:8008/patroni","pg3":"https://pg3:8008/patroni"} | 3
            Patroni, one member    | {"pg1":"http://10.0.0.1:8008/patroni"}                          | 1
            pretty-printed         | `{ "pg1": "http://10.0.0.1:8008/patroni" ,  "pg2" : "http://x" }` | 2
            """)
    void readsEveryValuePatroniWrites(String form, String text, int members) {
        ValueCodec.Decoded<Map<String, String>> d = ValueCodec.failsafe(text);
        assertThat(d.problem()).as(form).isNull();
        assertThat(d.value()).as(form).hasSize(members).containsEntry("pg1", text.contains("10.0.0.1")
                ? "http://10.0.0.1:8008/patroni" : "http://x");
    }

    @ParameterizedTest(name = "[{0}] is empty")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            ``
            `   `
            {}
            { }
            """)
    void blankOrAnEmptyObjectIsNoKey(String text) {
        assertThat(ValueCodec.failsafe(text).problem()).isEqualTo("empty");
    }

    /** Anything else is garbage: the reader logs it once and leaves the key out (Patroni: no failsafe). */
    @ParameterizedTest(name = "[{0}] is garbage")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            [1,2]                      | not a JSON object
            not json                   | not a JSON object
            `"pg1"`                    | not a JSON object
            {"pg1":null}               | the api_url of member 'pg1' is not a string
            {"pg1":8008}               | the api_url of member 'pg1' is not a string
            {"pg1":{"api_url":"x"}}    | the api_url of member 'pg1' is not a string
            {"":"http://x"}            | the api_url of member '' is not a string
            """)
    void whatPatroniNeverWritesIsGarbage(String text, String problem) {
        assertThat(ValueCodec.failsafe(text).problem()).isEqualTo(problem);
    }

    /** Byte for byte Python's compact json.dumps, names sorted, non-ASCII escaped as Python does. */
    @Test
    void writesPythonsCompactJson() {
        Map<String, String> topology = new TreeMap<>(Map.of("pg2", "http://10.0.0.2:8008/patroni",
                "pg1", "http://10.0.0.1:8008/patroni", "nø", "http://n\"o:8008/"));
        assertThat(ValueCodec.encodeFailsafe(topology)).isEqualTo("{\"n\\u00f8\":\"http://n\\\"o:8008/\","
                + "\"pg1\":\"http://10.0.0.1:8008/patroni\",\"pg2\":\"http://10.0.0.2:8008/patroni\"}");
        assertThat(ValueCodec.failsafe(ValueCodec.encodeFailsafe(topology)).value()).isEqualTo(topology);
    }
}
