package kiln.llm;

/** The personal data Kiln redacts, named as Presidio names them. */
public enum PiiEntity {
  URL,
  EMAIL_ADDRESS,
  IBAN_CODE,
  CREDIT_CARD,
  US_SSN,
  IP_ADDRESS,
  PHONE_NUMBER;

  /**
   * Overlaps go to the higher priority: a URL beats the address or IP inside it, an e-mail the
   * phone-like digits inside it, an IBAN the card-like digits inside it, a card or an SSN the
   * phone.
   */
  public int priority() {
    return values().length - ordinal();
  }

  /** What the entity is replaced with by the default operator. */
  public String placeholder() {
    return "<" + name() + ">";
  }
}
