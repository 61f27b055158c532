package io.pgkeel.agent.pg;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Role names and passwords in the SQL run after initdb (CREATE ROLE); a real cluster's login checks the rest. */
class SqlQuotingTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
            "plain       | E'plain'",
            "it's        | E'it\\'s'",
            "back\\slash | E'back\\\\slash'",
            "c:olon      | E'c:olon'"})
    void literalsAreEscapeStrings(String value, String quoted) {
        assertThat(ProcessControl.sqlLiteral(value)).isEqualTo(quoted);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "replicator | \"replicator\"",
            "re\"pl     | \"re\"\"pl\""})
    void identifiersDoubleTheirQuotes(String value, String quoted) {
        assertThat(ProcessControl.sqlIdentifier(value)).isEqualTo(quoted);
    }
}
