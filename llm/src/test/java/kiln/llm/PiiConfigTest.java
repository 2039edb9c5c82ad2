package kiln.llm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import kiln.core.BadInputException;
import kiln.core.YamlFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The PII block and the redaction job's config: defaults pinned, both forms, mistakes named. */
class PiiConfigTest {

  static PiiConfig parse(String yaml) {
    return YamlFiles.parse(yaml, "pii.yaml", PiiConfig.class);
  }

  @Test
  void defaultsAreEveryTypeReplacedInTheDefaultRegions() {
    PiiConfig config = PiiConfig.defaults();
    assertThat(config.entities()).containsExactly(PiiEntity.values());
    assertThat(config.operators()).isEmpty();
    assertThat(config.regions()).containsExactly("US", "GB");
    assertThat(config.operator(PiiEntity.URL)).isEqualTo(PiiOperator.replace());
  }

  @Test
  void aListAndABlockAreBothAccepted() {
    assertThat(parse("[PHONE_NUMBER, EMAIL_ADDRESS]").entities())
        .containsExactly(PiiEntity.EMAIL_ADDRESS, PiiEntity.PHONE_NUMBER);
    PiiConfig block =
        parse(
            """
            entities: [CREDIT_CARD, EMAIL_ADDRESS, US_SSN]
            operators:
              CREDIT_CARD: {type: mask, keep: 6, maskChar: '#'}
              EMAIL_ADDRESS: {type: hash, saltEnv: KILN_PII_SALT}
            regions: [us, UK, fr]
            """);
    assertThat(block.operator(PiiEntity.CREDIT_CARD))
        .isEqualTo(new PiiOperator(PiiOperator.Type.MASK, 6, "#", null));
    assertThat(block.operator(PiiEntity.EMAIL_ADDRESS).saltEnv()).isEqualTo("KILN_PII_SALT");
    assertThat(block.operator(PiiEntity.US_SSN).type()).isEqualTo(PiiOperator.Type.REPLACE);
    assertThat(block.regions()).containsExactly("US", "GB", "FR");
    assertThat(parse("operators: {URL: {type: mask}}").operator(PiiEntity.URL).keep()).isEqualTo(4);
    // the salt's variable is named, never its value
    assertThat(block.describe())
        .isEqualTo(
            "{EMAIL_ADDRESS=hash(saltEnv=KILN_PII_SALT), CREDIT_CARD=mask(keep=6,char=#),"
                + " US_SSN=replace} regions [FR, GB, US]");
  }

  @Test
  void mistakesAreNamed() {
    assertThatThrownBy(() -> parse("operators: {URL: {type: blur}}"))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("PII operator 'blur' does not exist");
    assertThatThrownBy(() -> parse("entities: [URL]\noperators: {US_SSN: {type: mask}}"))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining(
            "pii.operators names US_SSN, which is not among the redacted entities [URL]");
    assertThatThrownBy(() -> parse("operators: {URL: {type: hash}}"))
        .hasMessageContaining("the hash operator needs saltEnv");
    assertThatThrownBy(() -> parse("operators: {URL: {type: hash, saltEnv: 's3cr3t value'}}"))
        .hasMessageContaining("is not an environment variable name");
    assertThatThrownBy(() -> parse("operators: {URL: {type: replace, keep: 2}}"))
        .hasMessageContaining("keep and maskChar apply to the mask operator only");
    assertThatThrownBy(() -> parse("regions: [XX]"))
        .hasMessageContaining("pii.regions: 'XX' is not a region libphonenumber knows");
    assertThatThrownBy(() -> parse("entities: [URL]\nmodes: x"))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("modes");
    assertThatCode(() -> PiiConfig.defaults().checkSecrets(Map.of())).doesNotThrowAnyException();
  }

  @Test
  void theJobTakesItsFileAndCommandLineOptionsWhichWin(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("redact.yaml");
    Files.writeString(
        file,
        """
        input: /data/emails@3
        columns: [subject, body]
        output: /data/emails-redacted
        pii: [EMAIL_ADDRESS]
        """);
    PiiJobConfig fromFile = PiiJobConfig.of(file, null, null, null);
    assertThat(fromFile.columns()).containsExactly("subject", "body");
    assertThat(fromFile.pii().entities()).containsExactly(PiiEntity.EMAIL_ADDRESS);
    PiiJobConfig overridden = PiiJobConfig.of(file, "/data/emails@4", List.of("body"), null);
    assertThat(overridden.input()).isEqualTo("/data/emails@4");
    assertThat(overridden.columns()).containsExactly("body");
    assertThat(overridden.output()).isEqualTo("/data/emails-redacted");
    PiiJobConfig noFile = PiiJobConfig.of(null, "/data/a", List.of("text"), "/data/b");
    assertThat(noFile.pii()).isEqualTo(PiiConfig.defaults());
    assertThatThrownBy(() -> PiiJobConfig.of(null, "/data/a", null, "/data/b"))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("columns is missing");
    assertThatThrownBy(() -> PiiJobConfig.of(null, null, null, null))
        .hasMessageContaining("no job given");
  }
}
