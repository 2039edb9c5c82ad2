package kiln.llm;

/** The personal data Kiln redacts, named as Presidio names them. */
public enum PiiEntity {
  EMAIL_ADDRESS,
  IBAN_CODE,
  CREDIT_CARD,
  IP_ADDRESS,
  PHONE_NUMBER;

  /**
   * Overlaps go to the higher priority: an e-mail beats the phone-like digits inside it, an IBAN
   * the card-like digits inside it, a card the phone.
   */
  public int priority() {
    return values().length - ordinal();
  }

  /** What the entity is replaced with. */
  public String placeholder() {
    return "<" + name() + ">";
  }
}
