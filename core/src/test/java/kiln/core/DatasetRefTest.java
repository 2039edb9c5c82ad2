package kiln.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.time.ZoneId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DatasetRefTest {

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/data/flights",
        "/data/flights@0",
        "/data/flights@42",
        "file:/tmp/t@3",
        "s3a://bucket/path/flights@7",
        "hdfs://nn:8020/warehouse/flights",
        "s3a://bucket/flights@2026-01-31T12:00:00Z",
        "/data/flights@2026-01-31",
        "/data/flights@2026-01-31 10:15:00",
        "s3a://user@bucket/flights",
        "s3a://user@bucket/flights@5",
        "relative/table@2026-01-31T10:15:00+02:00"
      })
  void parseAndPrintRoundTrip(String text) {
    assertThat(DatasetRef.parse(text).toString()).isEqualTo(text);
  }

  @Test
  void splitsTableVersionAndTimestamp() {
    assertThat(DatasetRef.parse("s3a://bucket/flights@7"))
        .isEqualTo(DatasetRef.atVersion("s3a://bucket/flights", 7));
    assertThat(DatasetRef.parse("s3a://user@bucket/flights").table())
        .isEqualTo("s3a://user@bucket/flights");
    DatasetRef timed = DatasetRef.parse("/t@2026-01-31T12:00:00Z");
    assertThat(timed.version()).isNull();
    assertThat(timed.instant(ZoneId.of("UTC"))).contains(Instant.parse("2026-01-31T12:00:00Z"));
    assertThat(DatasetRef.parse("/t@2026-01-31").instant(ZoneId.of("Europe/Paris")))
        .contains(Instant.parse("2026-01-30T23:00:00Z"));
    assertThat(DatasetRef.parse("/t").isLatest()).isTrue();
    assertThat(DatasetRef.parse("s3a://b/t").hasScheme()).isTrue();
    assertThat(DatasetRef.parse("/b/t").hasScheme()).isFalse();
  }

  @Test
  void malformedReferencesNameTheTextAndTheFix() {
    assertThatThrownBy(() -> DatasetRef.parse("/t@abc"))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("malformed dataset reference '/t@abc'")
        .hasMessageContaining("'abc' after '@' is neither a version number nor a timestamp")
        .hasMessageContaining("fix: write TABLE, TABLE@VERSION or TABLE@TIMESTAMP");
    assertThatThrownBy(() -> DatasetRef.parse("/t@")).hasMessageContaining("nothing follows '@'");
    assertThatThrownBy(() -> DatasetRef.parse("@3"))
        .hasMessageContaining("the table before '@' is empty");
    assertThatThrownBy(() -> DatasetRef.parse("  ")).hasMessageContaining("it is empty");
    assertThatThrownBy(() -> DatasetRef.parse("/t@2026-13-45"))
        .hasMessageContaining("'2026-13-45' is not a timestamp");
    assertThatThrownBy(() -> DatasetRef.parse("/t@99999999999999999999"))
        .hasMessageContaining("too large");
  }
}
