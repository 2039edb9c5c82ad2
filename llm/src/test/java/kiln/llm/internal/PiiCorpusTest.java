package kiln.llm.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import kiln.llm.PiiEntity;
import org.junit.jupiter.api.Test;

/**
 * Precision and recall of the PII rules per entity type on a generated, labelled corpus: sentences
 * with known entities in several formats, mixed with near misses (numbers failing Luhn or mod 97,
 * dates, times, order and version numbers, out-of-range IPs) that must stay. The generator is
 * seeded, so the corpus is the same on every run.
 */
class PiiCorpusTest {
  /** A text and the entities in it, as (type, begin, end). */
  record Labelled(String text, Set<PiiRules.Span> entities) {}

  static final String[] NAMES = {"jane", "li", "omar", "sofia", "k", "anne-marie", "bob"};
  static final String[] DOMAINS = {"example.com", "mail.example.co.uk", "corp-x.io", "uni.edu"};
  static final String[] BEFORE = {
    "Contact ", "Please reach ", "Sent by ", "My details: ", "", "(see "
  };
  static final String[] AFTER = {" today.", ", thanks", " for the refund.", ")", "", " or later"};

  /**
   * Between a near miss and an entity: a word or punctuation. Two numbers joined by nothing but a
   * space ("4209 6531 2774 8174 020 0667 1700") are one number to a reader too, so the corpus has
   * none.
   */
  static final String[] JOIN = {", ", " and ", "; ", " - ref ", " / "};

  static List<Labelled> corpus(long seed, int perType) {
    Random r = new Random(seed);
    List<Labelled> out = new ArrayList<>();
    for (PiiEntity type : PiiEntity.values()) {
      for (int i = 0; i < perType; i++) {
        String value = entity(type, r);
        String before =
            BEFORE[r.nextInt(BEFORE.length)] + nearMiss(r) + JOIN[r.nextInt(JOIN.length)];
        String text =
            before
                + value
                + AFTER[r.nextInt(AFTER.length)]
                + JOIN[r.nextInt(JOIN.length)]
                + nearMiss(r);
        out.add(
            new Labelled(
                text,
                Set.of(
                    new PiiRules.Span(type, before.length(), before.length() + value.length()))));
      }
    }
    for (int i = 0; i < perType; i++) {
      out.add(
          new Labelled(
              "Ref " + nearMiss(r) + ", " + nearMiss(r) + " and " + nearMiss(r) + ".", Set.of()));
    }
    return out;
  }

  static String digits(Random r, int n) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < n; i++) {
      b.append(r.nextInt(10));
    }
    return b.toString();
  }

  static String entity(PiiEntity type, Random r) {
    return switch (type) {
      case EMAIL_ADDRESS ->
          NAMES[r.nextInt(NAMES.length)]
              + (r.nextBoolean() ? "." + NAMES[r.nextInt(NAMES.length)] : "")
              + (r.nextInt(4) == 0 ? "+news" : "")
              + "@"
              + DOMAINS[r.nextInt(DOMAINS.length)];
      case PHONE_NUMBER ->
          // real number plans: assigned US area codes and exchanges 2-9 (not N11), London 020 7/8,
          // UK mobiles 07, Berlin 030; libphonenumber rejects numbers no plan could have issued
          switch (r.nextInt(7)) {
            case 0 -> "+1 " + usArea(r) + " " + usExchange(r) + " " + digits(r, 4);
            case 1 -> "(" + usArea(r) + ") " + usExchange(r) + "-" + digits(r, 4);
            case 2 -> usArea(r) + "-" + usExchange(r) + "-" + digits(r, 4);
            case 3 -> "+44 20 7" + digits(r, 3) + " " + digits(r, 4);
            case 4 -> "+49 30 " + (2 + r.nextInt(8)) + digits(r, 3) + " " + digits(r, 4);
            // UK mobiles: 074, 075, 077-079 (076 is the pager range)
            case 5 -> "07" + "45789".charAt(r.nextInt(5)) + digits(r, 2) + " " + digits(r, 6);
            default -> "020 " + (7 + r.nextInt(2)) + digits(r, 3) + " " + digits(r, 4);
          };
      case US_SSN -> {
        String sep = r.nextInt(4) == 0 ? " " : "-";
        int area = 1 + r.nextInt(899);
        area = area == 666 ? 667 : area;
        yield String.format(
            "%03d%s%02d%s%04d", area, sep, 1 + r.nextInt(99), sep, 1 + r.nextInt(9999));
      }
      case URL ->
          List.of("https://", "http://", "www.", "https://www.").get(r.nextInt(4))
              + List.of("example.com", "shop.example.org", "uni.edu", "x.io").get(r.nextInt(4))
              + List.of("", "/", "/a/b.html", "/track?id=" + digits(r, 6) + "&u=k", "/~jane/cv.pdf")
                  .get(r.nextInt(5));
      case CREDIT_CARD -> {
        String number =
            luhnComplete(
                r.nextBoolean() ? "4" + digits(r, 14) : "5" + (1 + r.nextInt(5)) + digits(r, 13),
                16);
        String sep = List.of(" ", "-", "").get(r.nextInt(3));
        yield number.substring(0, 4)
            + sep
            + number.substring(4, 8)
            + sep
            + number.substring(8, 12)
            + sep
            + number.substring(12);
      }
      case IBAN_CODE -> {
        String iban =
            r.nextBoolean() ? ibanOf("DE", digits(r, 18)) : ibanOf("GB", "WEST" + digits(r, 14));
        yield r.nextBoolean() ? iban : iban.replaceAll("(.{4})(?!$)", "$1 ");
      }
      case IP_ADDRESS ->
          switch (r.nextInt(3)) {
            case 0 ->
                r.nextInt(256)
                    + "."
                    + r.nextInt(256)
                    + "."
                    + r.nextInt(256)
                    + "."
                    + (1 + r.nextInt(254));
            case 1 ->
                "2001:db8:"
                    + Integer.toHexString(r.nextInt(65536))
                    + "::"
                    + Integer.toHexString(1 + r.nextInt(65535));
            default ->
                "fe80:0:0:0:"
                    + Integer.toHexString(r.nextInt(65536))
                    + ":"
                    + Integer.toHexString(r.nextInt(65536))
                    + ":"
                    + Integer.toHexString(r.nextInt(65536))
                    + ":"
                    + Integer.toHexString(1 + r.nextInt(65535));
          };
    };
  }

  static final int[] US_AREAS = {201, 212, 305, 312, 415, 503, 617, 646, 702, 718, 808, 917};

  static int usArea(Random r) {
    return US_AREAS[r.nextInt(US_AREAS.length)];
  }

  static String usExchange(Random r) {
    String exchange = (2 + r.nextInt(8)) + digits(r, 2);
    return exchange.endsWith("11") ? exchange.charAt(0) + "21" : exchange;
  }

  /** Text that looks like an entity and is not one. */
  static String nearMiss(Random r) {
    return switch (r.nextInt(13)) {
      // SSNs never issued: area 000, 666 or 9xx, group 00, serial 0000
      case 10 ->
          List.of("000", "666", "9" + digits(r, 2)).get(r.nextInt(3))
              + "-"
              + String.format("%02d", 1 + r.nextInt(99))
              + "-"
              + String.format("%04d", 1 + r.nextInt(9999));
      case 11 ->
          String.format("%03d", 1 + r.nextInt(665))
              + "-"
              + (r.nextBoolean() ? "00-" + String.format("%04d", 1 + r.nextInt(9999)) : "12-0000");
      // file names and dotted words without a scheme or www. are not URLs
      case 12 -> List.of("report.pdf", "e.g.", "build.gradle", "Node.js").get(r.nextInt(4));
      case 0 -> {
        String valid = luhnComplete("4" + digits(r, 14), 16);
        String wrong = valid.substring(0, 15) + ((valid.charAt(15) - '0' + 1) % 10);
        yield wrong.substring(0, 4)
            + " "
            + wrong.substring(4, 8)
            + " "
            + wrong.substring(8, 12)
            + " "
            + wrong.substring(12);
      }
      case 1 ->
          (2000 + r.nextInt(30))
              + "-"
              + String.format("%02d", 1 + r.nextInt(12))
              + "-"
              + String.format("%02d", 1 + r.nextInt(28));
      case 2 ->
          String.format("%02d/%02d/%d", 1 + r.nextInt(28), 1 + r.nextInt(12), 2000 + r.nextInt(30));
      case 3 -> String.format("%02d:%02d:%02d", r.nextInt(24), r.nextInt(60), r.nextInt(60));
      case 4 -> "ORD-" + (2020 + r.nextInt(9)) + "-" + digits(r, 6);
      case 5 ->
          "v"
              + r.nextInt(9)
              + "."
              + r.nextInt(20)
              + "."
              + r.nextInt(20)
              + "."
              + r.nextInt(99)
              + "."
              + r.nextInt(9);
      case 6 ->
          (256 + r.nextInt(700))
              + "."
              + r.nextInt(256)
              + "."
              + r.nextInt(256)
              + "."
              + r.nextInt(256);
      case 7 -> {
        String iban = ibanOf("DE", digits(r, 18));
        String check =
            String.format(
                "%02d", (Integer.parseInt(iban.substring(2, 4)) + 1 + r.nextInt(90)) % 97 + 2);
        yield "DE" + check + iban.substring(4);
      }
      case 8 -> "#" + digits(r, 9);
      default ->
          "$" + (1 + r.nextInt(9)) + "," + digits(r, 3) + "," + digits(r, 3) + "." + digits(r, 2);
    };
  }

  static String luhnComplete(String prefix, int length) {
    for (int d = 0; d < 10; d++) {
      String candidate = prefix.substring(0, length - 1) + d;
      if (PiiRules.luhn(candidate)) {
        return candidate;
      }
    }
    throw new IllegalStateException("no Luhn digit");
  }

  static String ibanOf(String country, String bban) {
    for (int check = 2; check < 99; check++) {
      String iban = country + String.format("%02d", check) + bban;
      if (PiiRules.iban(iban)) {
        return iban;
      }
    }
    throw new IllegalStateException("no check digits");
  }

  /**
   * What the rules find, before replacement: the same regexes, checks and overlap resolution as the
   * Spark stage.
   */
  static Set<PiiRules.Span> found(String text) {
    List<PiiRules.Span> spans = new ArrayList<>();
    for (PiiEntity e : PiiEntity.values()) {
      spans.addAll(PiiRules.find(e, text));
    }
    return new HashSet<>(PiiRules.resolve(spans));
  }

  @Test
  void everyTypeReachesRecall98AndPrecision95OnTheLabelledCorpus() {
    List<Labelled> corpus = corpus(20261205L, 400);
    Map<PiiEntity, int[]> counts = new EnumMap<>(PiiEntity.class); // tp, fp, fn
    for (PiiEntity e : PiiEntity.values()) {
      counts.put(e, new int[3]);
    }
    List<String> misses = new ArrayList<>();
    for (Labelled l : corpus) {
      Set<PiiRules.Span> found = found(l.text());
      for (PiiRules.Span s : found) {
        counts.get(s.entity())[l.entities().contains(s) ? 0 : 1]++;
        if (!l.entities().contains(s)
            && misses.stream().filter(m -> m.contains(" " + s.entity() + " ")).count() < 4) {
          misses.add(
              "false "
                  + s.entity()
                  + " '"
                  + l.text().substring(s.begin(), s.end())
                  + "' in: "
                  + l.text());
        }
      }
      for (PiiRules.Span s : l.entities()) {
        if (!found.contains(s)) {
          counts.get(s.entity())[2]++;
          if (misses.stream().filter(m -> m.contains(" " + s.entity() + " ")).count() < 4) {
            misses.add(
                "missed "
                    + s.entity()
                    + " '"
                    + l.text().substring(s.begin(), s.end())
                    + "' in: "
                    + l.text());
          }
        }
      }
    }
    StringBuilder report = new StringBuilder("PII corpus: " + corpus.size() + " texts\n");
    for (PiiEntity e : PiiEntity.values()) {
      int[] c = counts.get(e);
      double precision = c[0] + c[1] == 0 ? 1 : (double) c[0] / (c[0] + c[1]);
      double recall = c[0] + c[2] == 0 ? 1 : (double) c[0] / (c[0] + c[2]);
      report.append(
          String.format(
              java.util.Locale.ROOT,
              "  %-14s precision %.4f recall %.4f (tp %d, fp %d, fn %d)%n",
              e,
              precision,
              recall,
              c[0],
              c[1],
              c[2]));
    }
    System.out.println(report + String.join("\n", misses));
    for (PiiEntity e : PiiEntity.values()) {
      int[] c = counts.get(e);
      assertThat((double) c[0] / (c[0] + c[2]))
          .as(e + " recall\n" + report + String.join("\n", misses))
          .isGreaterThanOrEqualTo(0.98);
      assertThat((double) c[0] / Math.max(1, c[0] + c[1]))
          .as(e + " precision\n" + report + String.join("\n", misses))
          .isGreaterThanOrEqualTo(0.95);
    }
  }
}
