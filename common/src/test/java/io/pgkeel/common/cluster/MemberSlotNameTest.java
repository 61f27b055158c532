package io.pgkeel.common.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Slot names as Patroni's {@code slot_name_from_member_name} (patroni/dcs/__init__.py) gives them. */
class MemberSlotNameTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            node1                 | node1
            PG-Node.1             | pg_node_1
            pg_node_1             | pg_node_1
            db@host               | dbu0064host
            a b                   | au0032b
            ä1                    | u02281
            node😀                | nodeu128512
            x123456789012345678901234567890123456789012345678901234567890123456789 | x12345678901234567890123456789012345678901234567890123456789012
            """)
    void slotNameIsPatronis(String member, String slot) {
        assertThat(Member.slotName(member)).isEqualTo(slot);
    }
}
