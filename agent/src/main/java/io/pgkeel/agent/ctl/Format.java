package io.pgkeel.agent.ctl;

import static io.pgkeel.agent.ctl.CtlError.FAILED;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import java.io.IOException;

/** The output formats of list, topology and history, and the JSON and YAML that ctl writes and reads. */
enum Format {
    pretty, tsv, json, yaml;

    static final ObjectMapper JSON = new ObjectMapper();
    // patronictl's YAML: no "---" line, quotes only where YAML needs them
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER).enable(YAMLGenerator.Feature.MINIMIZE_QUOTES));

    /** {@code o} as one line of JSON; a value Jackson cannot write fails the command. */
    static String json(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (IOException e) {
            throw new CtlError(FAILED, e.getMessage());
        }
    }

    /** {@code o} as a YAML document ending in a newline; a value Jackson cannot write fails the command. */
    static String yaml(Object o) {
        try {
            return YAML.writeValueAsString(o);
        } catch (IOException e) {
            throw new CtlError(FAILED, e.getMessage());
        }
    }
}
