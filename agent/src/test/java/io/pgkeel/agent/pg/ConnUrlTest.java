package io.pgkeel.agent.pg;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The host and port libpq, pg_basebackup and pg_rewind get from a member's conn_url, in every form it is written. */
class ConnUrlTest {
    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "postgres://10.0.0.5:5432/postgres, 10.0.0.5, 5432",
        "postgres://db1.example.com:5433/postgres, db1.example.com, 5433",
        "postgres://[::1]:5432/postgres, ::1, 5432",
        "postgres://[fd00::5]:6432/postgres, fd00::5, 6432",
        "postgres://10.0.0.5/postgres, 10.0.0.5, 5432",
        "postgres://[::1]/postgres, ::1, 5432",
    })
    void hostWithoutBracketsAndPort(String connUrl, String host, int port) {
        assertThat(ConnUrl.parse(connUrl)).isEqualTo(new ConnUrl(host, port));
    }

    /** The agent's SQL to a peer (PeerSql) and to its own PostgreSQL: the driver's URL, an IPv6 host in brackets, 5432 when none is given. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "postgres://10.0.0.5:5433/postgres, jdbc:postgresql://10.0.0.5:5433/postgres",
        "postgres://10.0.0.5/postgres, jdbc:postgresql://10.0.0.5:5432/postgres",
        "postgres://[::1]/postgres, jdbc:postgresql://[::1]:5432/postgres",
        "postgres://[fd00::5]:6432/postgres, jdbc:postgresql://[fd00::5]:6432/postgres",
    })
    void peerJdbcUrl(String connUrl, String jdbc) {
        assertThat(ConnUrl.parse(connUrl).jdbcUrl()).isEqualTo(jdbc);
    }
}
