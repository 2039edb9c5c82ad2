package kiln.llm.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import kiln.llm.PiiEntity;
import org.junit.jupiter.api.Test;

/** The PII rules: real entities found, near misses left alone, overlaps resolved by priority. */
class PiiRulesTest {
  private static final List<PiiEntity> ALL = List.of(PiiEntity.values());

  private static String redact(String text) {
    return PiiRules.redact(text, ALL, PiiRules.noCounts());
  }

  @Test
  void emailsPhonesCardsIbansAndIpsAreReplaced() {
    assertThat(redact("Mail jane.doe+x@mail.example.co.uk now."))
        .isEqualTo("Mail <EMAIL_ADDRESS> now.");
    assertThat(redact("Call +44 20 7946 0958 or (555) 123-4567 or 555.123.4567."))
        .isEqualTo("Call <PHONE_NUMBER> or <PHONE_NUMBER> or <PHONE_NUMBER>.");
    assertThat(redact("Card 4111 1111 1111 1111, also 5500-0000-0000-0004"))
        .isEqualTo("Card <CREDIT_CARD>, also <CREDIT_CARD>");
    assertThat(redact("IBAN DE89 3704 0044 0532 0130 00 and GB82WEST12345698765432."))
        .isEqualTo("IBAN <IBAN_CODE> and <IBAN_CODE>.");
    assertThat(redact("from 192.168.1.20. and 2001:db8::8a2e:370:7334 and fe80::1"))
        .isEqualTo("from <IP_ADDRESS>. and <IP_ADDRESS> and <IP_ADDRESS>");
  }

  @Test
  void nearMissesStay() {
    String text =
        "Order ORD-2026-123456 on 2026-12-05 at 12:30:45, invoice 12/05/2026, card 4111 1111 1111 1112,"
            + " version 1.2.3.4.5, ip 999.1.1.1, IBAN DE89 3704 0044 0532 0130 01, total 1234567890.";
    assertThat(redact(text)).isEqualTo(text);
  }

  @Test
  void overlapsGoToTheHigherPriorityAndCountsAreKept() {
    Map<PiiEntity, Integer> counts = PiiRules.noCounts();
    // the digits inside the address would be a phone on their own
    String out =
        PiiRules.redact("write to 555-123-4567@example.com or call 555-123-4567", ALL, counts);
    assertThat(out).isEqualTo("write to <EMAIL_ADDRESS> or call <PHONE_NUMBER>");
    assertThat(counts)
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(PiiEntity.EMAIL_ADDRESS, 1, PiiEntity.PHONE_NUMBER, 1));
    assertThat(
            PiiRules.resolve(
                List.of(
                    new PiiRules.Span(PiiEntity.PHONE_NUMBER, 0, 10),
                    new PiiRules.Span(PiiEntity.CREDIT_CARD, 0, 19),
                    new PiiRules.Span(PiiEntity.EMAIL_ADDRESS, 25, 40))))
        .containsExactly(
            new PiiRules.Span(PiiEntity.EMAIL_ADDRESS, 25, 40),
            new PiiRules.Span(PiiEntity.CREDIT_CARD, 0, 19));
  }

  @Test
  void checksumsAreTheStandardOnes() {
    assertThat(PiiRules.luhn("79927398713")).isTrue();
    assertThat(PiiRules.luhn("79927398710")).isFalse();
    assertThat(PiiRules.iban("GB82WEST12345698765432")).isTrue();
    assertThat(PiiRules.iban("GB82WEST12345698765433")).isFalse();
    assertThat(PiiRules.ipv4("255.255.255.255")).isTrue();
    assertThat(PiiRules.ipv4("256.1.1.1")).isFalse();
    assertThat(PiiRules.ipv6("12:30")).isFalse();
  }

  @Test
  void onlyTheChosenEntitiesAreRedacted() {
    assertThat(
            PiiRules.redact(
                "a@b.io 555-123-4567", List.of(PiiEntity.PHONE_NUMBER), PiiRules.noCounts()))
        .isEqualTo("a@b.io <PHONE_NUMBER>");
  }
}
