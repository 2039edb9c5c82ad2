package kiln.llm.internal;

import com.google.i18n.phonenumbers.NumberParseException;
import com.google.i18n.phonenumbers.PhoneNumberUtil;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import kiln.llm.PiiConfig;
import kiln.llm.PiiEntity;

/**
 * The regular expressions Spark NLP's RegexMatcher runs, and the checks that turn a candidate into
 * an entity: a regex proposes, a checksum or a rule disposes (Luhn for cards, mod 97 for IBANs,
 * octet ranges for IPv4, the Social Security Administration's never-issued ranges for SSNs,
 * libphonenumber's number plans of the configured regions for phones).
 */
public final class PiiRules {
  private PiiRules() {}

  /** One entity found: offsets into the document text, inclusive begin, exclusive end. */
  public record Span(PiiEntity entity, int begin, int end) {}

  private static final String HEX = "[0-9A-Fa-f]{1,4}";

  /**
   * The rule of each entity matched by regex; RegexMatcher's rules are "REGEX~LABEL". None contains
   * a '~'.
   */
  public static String regex(PiiEntity entity) {
    return switch (entity) {
      // a scheme or www., then up to whitespace or a quote; trailing punctuation is the sentence's
      case URL ->
          "(?i)(?<![\\w@.])(?:(?:https?|ftp)://|www\\.)[^\\s<>\"'`{}|\\\\^]*[^\\s<>\"'`{}|\\\\^.,;:!?)\\]]";
      // area-group-serial with one separator kind; the check drops the ranges never issued
      case US_SSN -> "(?<![\\d-])\\d{3}([- ])\\d{2}\\1\\d{4}(?![\\d-])";
      case EMAIL_ADDRESS -> "[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}";
      // the printed groupings (4-4-4-4, Amex 4-6-5, one separator kind throughout, and no further
      // group
      // after them) or one run of 13-19 digits; never the digits of an IBAN-like token. Whole
      // groups only,
      // so that a number before or after a card cannot swallow part of it; a group
      // followed by ':' belongs to an IPv6 address or a time. Luhn decides
      case CREDIT_CARD ->
          "(?<![\\d-]|[A-Z]{2}\\d{2} ?)(?:\\d{4}([ -]?)\\d{4}\\1\\d{4}\\1\\d{4}(?!\\1\\d)"
              + "|\\d{4}([ -]?)\\d{6}\\2\\d{5}(?!\\2\\d)|\\d{13,19})(?![\\d:])";
      // country, check digits, then groups of four (printed form) or one run; mod 97 decides
      case IBAN_CODE ->
          "\\b[A-Z]{2}\\d{2}(?:(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?|[A-Z0-9]{11,30})\\b";
      case IP_ADDRESS ->
          "(?<![\\d.])(?:\\d{1,3}\\.){3}\\d{1,3}(?!\\.?\\d)"
              + "|(?<![:\\w])(?:(?:"
              + HEX
              + ":){7}"
              + HEX
              + "|(?:"
              + HEX
              + ":){1,6}:(?:"
              + HEX
              + "(?::"
              + HEX
              + "){0,5})?|::(?:"
              + HEX
              + "(?::"
              + HEX
              + "){0,6}))(?![:\\w])";
      // an area or country part, then two groups of 3-4 digits; separators required between the
      // first
      // groups so that order numbers and plain digit runs are not phones; dates have 2-digit groups
      case PHONE_NUMBER ->
          "(?<![\\w+:/-]|\\d\\.)(?:\\+\\d{1,3}[ .-]?)?(?:\\(\\d{1,4}\\)[ .-]?|\\d{2,5}[ .-])\\d{3,4}[ .-]?\\d{3,4}(?![\\w-]|\\.\\d)";
    };
  }

  private static final Map<PiiEntity, java.util.regex.Pattern> PATTERNS =
      new EnumMap<>(PiiEntity.class);

  static {
    for (PiiEntity e : PiiEntity.values()) {
      PATTERNS.put(e, java.util.regex.Pattern.compile(regex(e)));
    }
  }

  /** Every valid entity of a type in {@code text}, phones in the default regions. */
  public static List<Span> find(PiiEntity entity, String text) {
    return find(entity, text, PiiConfig.DEFAULT_REGIONS);
  }

  /**
   * Every valid entity of a type in {@code text}. A candidate that fails its check is searched
   * again from its next character, so that a number failing Luhn cannot hide a card that starts
   * inside it (a plain regex search, RegexMatcher's too, resumes after the failed candidate).
   */
  public static List<Span> find(PiiEntity entity, String text, List<String> regions) {
    List<Span> found = new ArrayList<>();
    java.util.regex.Matcher m = PATTERNS.get(entity).matcher(text);
    int from = 0;
    while (from <= text.length() && m.find(from)) {
      if (valid(entity, text, m.start(), m.end(), regions)) {
        found.add(new Span(entity, m.start(), m.end()));
        from = Math.max(m.end(), m.start() + 1);
      } else {
        from = m.start() + 1;
      }
    }
    return found;
  }

  /** Whether a candidate the entity's regex found in {@code text} at [begin, end) really is one. */
  public static boolean valid(
      PiiEntity entity, String text, int begin, int end, List<String> regions) {
    String candidate = text.substring(begin, end);
    return switch (entity) {
      case EMAIL_ADDRESS, URL -> true;
      case US_SSN -> ssn(candidate.replaceAll("[ -]", ""));
      case CREDIT_CARD -> {
        String digits = candidate.replaceAll("[ -]", "");
        yield digits.length() >= 13 && digits.length() <= 19 && luhn(digits);
      }
      case IBAN_CODE -> iban(candidate.replace(" ", ""));
      case IP_ADDRESS -> candidate.contains(":") ? ipv6(candidate) : ipv4(candidate);
      case PHONE_NUMBER -> {
        long digits = candidate.chars().filter(Character::isDigit).count();
        yield digits >= 8
            && digits <= 15
            && !partOfLongerNumber(text, begin, end, digits)
            && phone(candidate, regions);
      }
    };
  }

  /**
   * Resolves overlaps: higher priority first, then the longer span, then the earlier one; a span
   * that overlaps one already kept is dropped. Returned right to left, the order replacements are
   * made in so that earlier offsets stay valid.
   */
  public static List<Span> resolve(Collection<Span> candidates) {
    List<Span> ordered = new ArrayList<>(candidates);
    ordered.sort(
        Comparator.comparingInt((Span s) -> -s.entity().priority())
            .thenComparingInt(s -> -(s.end() - s.begin()))
            .thenComparingInt(Span::begin));
    List<Span> kept = new ArrayList<>();
    for (Span s : ordered) {
      if (kept.stream().noneMatch(k -> k.begin() < s.end() && s.begin() < k.end())) {
        kept.add(s);
      }
    }
    kept.sort(Comparator.comparingInt(Span::begin).reversed());
    return kept;
  }

  /**
   * Replaces the spans (right to left, non-overlapping) with their placeholders; counts them by
   * entity.
   */
  public static String redact(String text, List<Span> rightToLeft, Map<PiiEntity, Integer> counts) {
    return redact(text, rightToLeft, counts, Anonymizer.replacing());
  }

  /** Replaces the spans (right to left, non-overlapping) as the operators say; counts them. */
  public static String redact(
      String text, List<Span> rightToLeft, Map<PiiEntity, Integer> counts, Anonymizer operators) {
    StringBuilder out = new StringBuilder(text);
    for (Span s : rightToLeft) {
      out.replace(
          s.begin(), s.end(), operators.apply(s.entity(), text.substring(s.begin(), s.end())));
      counts.merge(s.entity(), 1, Integer::sum);
    }
    return out.toString();
  }

  /**
   * Finds and redacts with plain Java regexes: the same rules, for tests and for checking
   * completions.
   */
  public static String redact(
      String text, Collection<PiiEntity> entities, Map<PiiEntity, Integer> counts) {
    return redact(
        text, new PiiConfig(List.copyOf(entities), null, null), counts, Anonymizer.replacing());
  }

  /** Finds every configured entity with plain Java and redacts as the operators say. */
  public static String redact(
      String text, PiiConfig config, Map<PiiEntity, Integer> counts, Anonymizer operators) {
    return redact(text, resolve(findAll(text, config)), counts, operators);
  }

  /** Every configured entity in {@code text}, overlaps not yet resolved. */
  public static List<Span> findAll(String text, PiiConfig config) {
    List<Span> found = new ArrayList<>();
    for (PiiEntity e : config.entities()) {
      found.addAll(find(e, text, config.regions()));
    }
    return found;
  }

  public static Map<PiiEntity, Integer> noCounts() {
    return new EnumMap<>(PiiEntity.class);
  }

  static boolean luhn(String digits) {
    int sum = 0;
    boolean twice = false;
    for (int i = digits.length() - 1; i >= 0; i--) {
      int d = digits.charAt(i) - '0';
      if (twice) {
        d *= 2;
        if (d > 9) {
          d -= 9;
        }
      }
      sum += d;
      twice = !twice;
    }
    return sum % 10 == 0;
  }

  static boolean iban(String iban) {
    if (iban.length() < 15 || iban.length() > 34) {
      return false;
    }
    String rearranged = iban.substring(4) + iban.substring(0, 4);
    int remainder = 0;
    for (char c : rearranged.toCharArray()) {
      int value = Character.isDigit(c) ? c - '0' : Character.isUpperCase(c) ? c - 'A' + 10 : -1;
      if (value < 0) {
        return false;
      }
      remainder = (int) ((value < 10 ? remainder * 10L + value : remainder * 100L + value) % 97);
    }
    return remainder == 1;
  }

  static boolean ipv4(String ip) {
    for (String octet : ip.split("\\.")) {
      if (octet.length() > 1 && octet.startsWith("0") || Integer.parseInt(octet) > 255) {
        return false;
      }
    }
    return true;
  }

  static boolean ipv6(String ip) {
    if (ip.chars().filter(c -> c == ':').count() < 2) {
      return false;
    }
    try {
      // a literal with ':' is parsed, never looked up
      return InetAddress.getByName(ip).getAddress().length == 16;
    } catch (UnknownHostException | SecurityException e) {
      return false;
    }
  }

  /**
   * An SSN the Social Security Administration could have issued: area not 000, 666 or 900-999,
   * group not 00, serial not 0000.
   */
  static boolean ssn(String digits) {
    if (digits.length() != 9) {
      return false;
    }
    int area = Integer.parseInt(digits.substring(0, 3));
    int group = Integer.parseInt(digits.substring(3, 5));
    int serial = Integer.parseInt(digits.substring(5));
    return area != 0 && area != 666 && area < 900 && group != 0 && serial != 0;
  }

  /**
   * libphonenumber's verdict: the number, read in the national format of one of the regions (or
   * internationally when it starts with {@code +}), fits that region's number plan (length and
   * prefixes of numbers that can be issued), as libphonenumber's metadata records it.
   */
  static boolean phone(String candidate, List<String> regions) {
    PhoneNumberUtil util = PhoneNumberUtil.getInstance();
    for (String region : candidate.startsWith("+") ? List.of("ZZ") : regions) {
      try {
        if (util.isValidNumber(util.parse(candidate, region))) {
          return true;
        }
      } catch (NumberParseException e) {
        // not a number in this region's plan: try the next
      }
    }
    return false;
  }

  /**
   * A phone-shaped part of a longer number (a card failing Luhn, an account number) is not a phone:
   * the digit groups of at most 4 digits joined to it by the separator of its own outer groups
   * would make more than 15 digits, E.164's maximum. A date after "555-123-4567 " or an order
   * number before it are separate numbers, and nothing before a leading '+' or '(' belongs to the
   * phone.
   */
  private static boolean partOfLongerNumber(String text, int begin, int end, long digits) {
    String candidate = text.substring(begin, end);
    String separators = candidate.replaceAll("[^ .-]", "");
    if (separators.isEmpty()) {
      return false;
    }
    long total = digits;
    char last = separators.charAt(separators.length() - 1);
    int i = end;
    while (i + 1 < text.length()
        && text.charAt(i) == last
        && Character.isDigit(text.charAt(i + 1))) {
      int j = i + 1;
      while (j < text.length() && Character.isDigit(text.charAt(j))) {
        j++;
      }
      if (j - i - 1 > 4) {
        break;
      }
      total += j - i - 1;
      i = j;
    }
    char first = text.charAt(begin);
    if (first != '+' && first != '(') {
      char sep = separators.charAt(0);
      i = begin - 1;
      while (i - 1 >= 0 && text.charAt(i) == sep && Character.isDigit(text.charAt(i - 1))) {
        int j = i - 1;
        while (j >= 0 && Character.isDigit(text.charAt(j))) {
          j--;
        }
        if (i - j - 1 > 4) {
          break;
        }
        total += i - j - 1;
        i = j;
      }
    }
    return total > 15;
  }
}
