package io.pgkeel.agent.ha;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The role transition table, and its rendering in docs/architecture.md. */
class RoleTest {
    private static final Path DOC = Path.of("..", "docs", "architecture.md");
    private static final String START = "<!-- role transitions: rendered from Role.TRANSITIONS by RoleTest -->";
    private static final String END = "<!-- end of role transitions -->";

    static String render() {
        StringBuilder out = new StringBuilder("| from | action | to | why |\n|---|---|---|---|\n");
        for (Role.Transition t : Role.TRANSITIONS) {
            out.append("| ").append(t.from()).append(" | ").append(t.action().getSimpleName()).append(" | ")
                    .append(t.to()).append(" | ").append(t.comment()).append(" |\n");
        }
        return out.toString();
    }

    /** Rerun with -Dpgkeel.renderDocs=true to write the table into the document after changing it. */
    @Test
    void theArchitectureDocumentShowsTheTableAsItIs() throws IOException {
        String doc = Files.readString(DOC);
        int start = doc.indexOf(START);
        int end = doc.indexOf(END);
        assertThat(start).as("the table's start marker in " + DOC).isNotNegative();
        assertThat(end).as("the table's end marker in " + DOC).isGreaterThan(start);
        String rendered = START + "\n" + render() + END;
        if (Boolean.getBoolean("pgkeel.renderDocs")) {
            Files.writeString(DOC, doc.substring(0, start) + rendered + doc.substring(end + END.length()));
            return;
        }
        assertThat(doc.substring(start, end + END.length())).as("docs/architecture.md is stale: rerun this test"
                + " with -Dpgkeel.renderDocs=true").isEqualTo(rendered);
    }

    @Test
    void rowsNameRealChangesAndNoRowIsThereTwice() {
        assertThat(Role.TRANSITIONS).allSatisfy(t -> assertThat(t.from()).isNotEqualTo(t.to()));
        assertThat(Role.TRANSITIONS.stream().map(t -> t.from() + " " + t.action().getSimpleName() + " " + t.to())
                .collect(Collectors.toSet())).hasSize(Role.TRANSITIONS.size());
    }

    @Test
    void aRoleChangeIsFoundByItsActionsType() {
        assertThat(Role.find(Role.REPLICA, new Action.Promote(java.util.Set.of(), "x"), Role.PRIMARY)).isPresent();
        assertThat(Role.find(Role.PRIMARY, new Action.Promote(java.util.Set.of(), "x"), Role.REPLICA)).isEmpty();
        assertThat(Role.find(Role.REPLICA, new Action.Wait("x"), Role.PRIMARY)).isEmpty();
    }
}
