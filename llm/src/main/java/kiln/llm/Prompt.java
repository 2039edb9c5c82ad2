package kiln.llm;

/** A version of a registered prompt. */
public record Prompt(String name, String version, PromptTemplate template) {
  /** The template's SHA-256: two versions with the same text have the same digest. */
  public String digest() {
    return "sha256:" + PromptTemplate.sha256(template.text());
  }

  @Override
  public String toString() {
    return "prompts:/" + name + "/" + version;
  }
}
