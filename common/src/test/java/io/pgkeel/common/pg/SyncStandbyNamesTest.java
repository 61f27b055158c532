package io.pgkeel.common.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code synchronous_standby_names} as PostgreSQL's syncrep grammar reads it (syncrep_scanner.l, syncrep_gram.y,
 * check_synchronous_standby_names). The accepted and refused rows were checked against PostgreSQL 15 with
 * {@code postgres -C synchronous_standby_names -c synchronous_standby_names=...}. Where Patroni 4.1's
 * parse_sync_standby_names (patroni/postgresql/sync.py) differs, PostgreSQL wins: a value it refuses is never in
 * force, and a value it accepts can be (Patroni refuses the bare number {@code 1}, a standby named "1"; it accepts
 * {@code first}, which PostgreSQL refuses unquoted).
 */
class SyncStandbyNamesTest {

    @ParameterizedTest(name = "[{0}] -> any={1} num={2} names={3}")
    @CsvSource(delimiter = '|', nullValues = "-", quoteCharacter = '`', textBlock = """
            -                                       | false | 0 | ``
            ``                                      | false | 0 | ``
            `   `                                   | false | 0 | ``
            a                                       | false | 1 | a
            `  a  ,  b  `                           | false | 1 | a;b
            FIRST 2 (a, "b c")                      | false | 2 | a;b c
            first 1(a)                              | false | 1 | a
            FiRsT 3 (a,b,c)                         | false | 3 | a;b;c
            2 (a, b)                                | false | 2 | a;b
            ANY 2 (a, b, c)                         | true  | 2 | a;b;c
            any 1 (a)                               | true  | 1 | a
            ANY 4("a",*,b)                          | true  | 4 | a;*;b
            *                                       | false | 1 | *
            `a, *`                                  | false | 1 | a;*
            ANY 2 (*, a)                            | true  | 2 | *;a
            "first"                                 | false | 1 | first
            FIRST 1 ("ANY", "first")                | false | 1 | ANY;first
            firstly                                 | false | 1 | firstly
            anybody                                 | false | 1 | anybody
            `"1"`                                   | false | 1 | 1
            1                                       | false | 1 | 1
            `1, 2`                                  | false | 1 | 1;2
            2 (1, 2)                                | false | 2 | 1;2
            `"a""b"`                                | false | 1 | a"b
            `"pg-1", "Pg 2"`                        | false | 1 | pg-1;Pg 2
            `a$, _b1`                               | false | 1 | a$;_b1
            ümlaut                                  | false | 1 | ümlaut
            Pg1                                     | false | 1 | Pg1
            FIRST 2147483647 (a)                    | false | 2147483647 | a
            ANY 1 (__patroni_strict_sync_replica_placeholder__) | true | 1 | __patroni_strict_sync_replica_placeholder__
            __patroni_strict_sync_replica_placeholder__         | false | 1 | __patroni_strict_sync_replica_placeholder__
            """)
    void everyFormPostgresqlAccepts(String value, boolean any, int num, String names) {
        SyncStandbyNames parsed = SyncStandbyNames.parse(value);
        assertThat(parsed).isEqualTo(new SyncStandbyNames(any, num, names.isEmpty() ? List.of()
                : List.of(names.split(";"))));
    }

    @ParameterizedTest(name = "[{0}] is refused: {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            1a                  | unexpected 'a' at position 2
            first               | 'first' at position 1 is a keyword (double-quote a standby named so)
            FIRST               | 'FIRST' at position 1 is a keyword (double-quote a standby named so)
            any                 | 'any' at position 1 is a keyword (double-quote a standby named so)
            `a, first`          | 'first' at position 4 is a keyword (double-quote a standby named so)
            `ANY , a`           | 'ANY' at position 1 is a keyword (double-quote a standby named so)
            FIRST 0 (a)         | the number of synchronous standbys must be between 1 and 2147483647, got 0
            0 (a)               | the number of synchronous standbys must be between 1 and 2147483647, got 0
            ANY 0 (a)           | the number of synchronous standbys must be between 1 and 2147483647, got 0
            FIRST 2147483648 (a) | the number of synchronous standbys must be between 1 and 2147483647, got 2147483648
            `"unterminated`     | unterminated quoted name at position 1
            `a,`                | a name expected at end of input
            `a b`               | unexpected 'b' at position 3
            a-b                 | unexpected '-' at position 2
            $a                  | unexpected '$' at position 1
            FIRST 2 a           | '(' expected at position 9
            FIRST (a)           | a number expected at position 7
            ANY                 | 'ANY' at position 1 is a keyword (double-quote a standby named so)
            ANY 1 (a            | ')' expected at end of input
            ANY 1 (a))          | unexpected ')' at position 10
            2 (a) b             | unexpected 'b' at position 7
            ANY 1 ()            | a name expected at position 8
            ANY1(a)             | unexpected '(' at position 5
            `2 (,)`             | a name expected at position 4
            `FIRST 4("a",)`     | a name expected at position 13
            `ANY 4("a" b,"c c")` | unexpected 'b' at position 11
            `,a`                | a name expected at position 1
            (a)                 | a name expected at position 1
            """)
    void malformedValuesAreRefusedNamingTheProblem(String value, String problem) {
        assertThatThrownBy(() -> SyncStandbyNames.parse(value)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("synchronous_standby_names '" + value + "': " + problem);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            the real names; the placeholder and * are not standbys | ANY 2 (Pg1, *, __PATRONI_STRICT_SYNC_REPLICA_PLACEHOLDER__, "B c") | pg1;b c
            """)
    void standbyNamesAreTheRealOnesInLowerCase(String why, String value, String names) {
        assertThat(SyncStandbyNames.parse(value).standbyNames()).as(why).containsExactly(names.split(";"));
        assertThat(SyncStandbyNames.parse(value).star()).isTrue();
        assertThat(SyncStandbyNames.parse("a, b").star()).isFalse();
        assertThat(SyncStandbyNames.parse("\"*\"").star()).as("quoted, still PostgreSQL's star (strcmp with *)")
                .isTrue();
    }

    /**
     * Patroni's form (set_synchronous_standby_names): names sorted, each quoted as quote_standby_name does (bare when
     * a plain ASCII identifier other than first/any, else double-quoted with {@code "} doubled); one name alone in
     * on mode as itself. pgkeel writes {@code FIRST n (...)} where Patroni writes {@code n (...)}: the same to
     * PostgreSQL.
     */
    @ParameterizedTest(name = "any={0} num={1} {2} -> [{3}]")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            false | 1 | ``             | ``
            false | 0 | a;b            | ``
            true  | 0 | a              | ``
            false | 1 | a              | a
            false | 2 | a              | a
            false | 1 | b;a            | FIRST 1 (a,b)
            false | 2 | c;a;b          | FIRST 2 (a,b,c)
            true  | 1 | a              | ANY 1 (a)
            true  | 2 | pg3;pg1;pg2    | ANY 2 (pg1,pg2,pg3)
            false | 1 | first          | `"first"`
            false | 1 | ANY;Any2       | `FIRST 1 ("ANY",Any2)`
            false | 1 | pg-1           | `"pg-1"`
            false | 1 | 1              | `"1"`
            false | 1 | a"b            | `"a""b"`
            false | 1 | `b c`          | `"b c"`
            false | 1 | ümlaut         | `"ümlaut"`
            false | 1 | Pg_1$          | Pg_1$
            true  | 1 | __patroni_strict_sync_replica_placeholder__ | ANY 1 (__patroni_strict_sync_replica_placeholder__)
            """)
    void formatWritesPatronisFormAndParsesBack(boolean any, int num, String names, String expected) {
        List<String> given = names.isEmpty() ? List.of() : List.of(names.split(";"));
        String text = SyncStandbyNames.format(any, num, given);
        assertThat(text).isEqualTo(expected);
        if (!text.isEmpty()) {
            SyncStandbyNames back = SyncStandbyNames.parse(text);
            assertThat(back.names()).containsExactlyInAnyOrderElementsOf(given);
            assertThat(back.any()).isEqualTo(any);
            assertThat(back.num()).isEqualTo(given.size() == 1 && !any ? 1 : num);
        }
    }
}
