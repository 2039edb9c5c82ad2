package kiln.llm;

/** A version of a registered prompt. */
public record Prompt(String name, String version, PromptTemplate template) {
  @Override
  public String toString() {
    return "prompts:/" + name + "/" + version;
  }
}
