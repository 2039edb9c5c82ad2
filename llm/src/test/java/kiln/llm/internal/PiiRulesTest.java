package kiln.llm.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
    assertThat(redact("Call +44 20 7946 0958 or (212) 736-4512 or 212.736.4512."))
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
        PiiRules.redact("write to 212-736-4512@example.com or call 212-736-4512", ALL, counts);
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
                "a@b.io 212-736-4512", List.of(PiiEntity.PHONE_NUMBER), PiiRules.noCounts()))
        .isEqualTo("a@b.io <PHONE_NUMBER>");
  }

  @Test
  void phonesAreValidatedByLibphonenumberForTheConfiguredRegions() {
    String london = "Ring 020 7946 0958 today";
    assertThat(PiiRules.find(PiiEntity.PHONE_NUMBER, london, List.of("GB"))).hasSize(1);
    // the same digits are no number in the US plan
    assertThat(PiiRules.find(PiiEntity.PHONE_NUMBER, london, List.of("US"))).isEmpty();
    // international numbers are read whatever the regions
    assertThat(PiiRules.find(PiiEntity.PHONE_NUMBER, "Ring +44 20 7946 0958", List.of("US")))
        .hasSize(1);
    // phone-shaped, but no number in the North American plan: no area code starts with 1, and
    // 555 is no assigned area code
    String unissued = "Call (123) 456-7890, 123-456-7890 or (555) 123-4567.";
    assertThat(PiiRules.find(PiiEntity.PHONE_NUMBER, unissued, List.of("US"))).isEmpty();
    // Germany's plan is loose enough to take one of them, so DE is no default region
    assertThat(PiiRules.find(PiiEntity.PHONE_NUMBER, "Call (555) 123-4567.", List.of("DE")))
        .hasSize(1);
    assertThat(redact("Handy 07465 525417 bitte")).isEqualTo("Handy <PHONE_NUMBER> bitte");
  }

  @Test
  void ssnsOutsideTheIssuedRangesStay() {
    assertThat(redact("SSN 078-05-1121 or 219 09 9999.")).isEqualTo("SSN <US_SSN> or <US_SSN>.");
    String never = "000-12-3456, 666-12-3456, 912-12-3456, 123-00-4567, 123-45-0000, 123-45 6789";
    assertThat(redact(never)).isEqualTo(never);
  }

  @Test
  void urlsNeedASchemeOrWwwAndLeaveTheSentencesPunctuation() {
    assertThat(
            redact(
                "See https://shop.example.org/a/b?id=7&u=k. Or www.example.com, or (http://x.io/~j)."))
        .isEqualTo("See <URL>. Or <URL>, or (<URL>).");
    // a URL holding an address or an IP is one URL
    assertThat(redact("go to http://10.0.0.1/login?u=jane@example.com now"))
        .isEqualTo("go to <URL> now");
    String plain = "report.pdf, e.g. Node.js and example.com";
    assertThat(redact(plain)).isEqualTo(plain);
  }

  @Test
  void maskKeepsTheLastCharactersAndHashIsSaltedAndStable() {
    kiln.llm.PiiConfig config =
        new kiln.llm.PiiConfig(
            List.of(PiiEntity.CREDIT_CARD, PiiEntity.EMAIL_ADDRESS),
            Map.of(
                PiiEntity.CREDIT_CARD,
                new kiln.llm.PiiOperator(kiln.llm.PiiOperator.Type.MASK, 4, null, null),
                PiiEntity.EMAIL_ADDRESS,
                new kiln.llm.PiiOperator(kiln.llm.PiiOperator.Type.HASH, null, null, "SALT")),
            null);
    Map<PiiEntity, Integer> counts = PiiRules.noCounts();
    String text = "Card 4111 1111 1111 1111, mail jane@example.com";
    String one = PiiRules.redact(text, config, counts, Anonymizer.of(config, Map.of("SALT", "s1")));
    assertThat(one)
        .startsWith("Card **** **** **** 1111, mail <EMAIL_ADDRESS:")
        .doesNotContain("jane");
    assertThat(one).matches(".*<EMAIL_ADDRESS:[0-9a-f]{16}>");
    // the same salt gives the same pseudonym (rows stay joinable), another salt another one
    assertThat(
            PiiRules.redact(
                text, config, PiiRules.noCounts(), Anonymizer.of(config, Map.of("SALT", "s1"))))
        .isEqualTo(one);
    assertThat(
            PiiRules.redact(
                text, config, PiiRules.noCounts(), Anonymizer.of(config, Map.of("SALT", "s2"))))
        .isNotEqualTo(one);
    assertThat(counts)
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(PiiEntity.CREDIT_CARD, 1, PiiEntity.EMAIL_ADDRESS, 1));
    assertThatThrownBy(() -> Anonymizer.of(config, Map.of()))
        .hasMessageContaining("environment variable SALT")
        .hasMessageContaining("not set");
  }
}
