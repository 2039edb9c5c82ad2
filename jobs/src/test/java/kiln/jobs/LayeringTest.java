package kiln.jobs;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * The layering: capability modules (contracts, drift, training, batch-inference, ingest, and every
 * module added later) depend on core only, and compositions of capabilities live in jobs; core
 * imports neither picocli nor the tracking server. Checked twice: over the compiled main classes of
 * every module (all are on this module's test classpath) and over the module poms. A module is a
 * capability unless it is one of {@link #NOT_CAPABILITIES}; its packages are the {@code kiln.*}
 * roots under its {@code src/main/java/kiln}.
 */
class LayeringTest {
  private static final Set<String> NOT_CAPABILITIES =
      Set.of("core", "tracking-server", "jobs", "benchmarks", "tests");
  private static final String GROUP = "dev.kiln";

  private static Path root;
  private static List<Module> capabilities;
  private static JavaClasses mainClasses;

  /** A capability module and the package roots ({@code kiln.X}) its main code lives in. */
  record Module(String name, Path directory, Set<String> packageRoots) {}

  @BeforeAll
  static void importModules() throws Exception {
    root = projectRoot();
    capabilities = new ArrayList<>();
    for (String name :
        childTexts(parse(root.resolve("pom.xml")).getDocumentElement(), "modules", "module")) {
      if (!NOT_CAPABILITIES.contains(name)) {
        Path directory = root.resolve(name);
        capabilities.add(new Module(name, directory, packageRoots(directory)));
      }
    }
    mainClasses =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .withImportOption(location -> !location.contains("-tests.jar"))
            .importPackages("kiln");
  }

  @Test
  void everyCapabilityModuleIsOnTheClasspathOfThisTest() {
    assertThat(capabilities)
        .extracting(Module::name)
        .contains("contracts", "drift", "training", "batch-inference", "ingest");
    for (Module module : capabilities) {
      assertThat(module.packageRoots()).as("package roots of %s", module.name()).isNotEmpty();
      for (String packageRoot : module.packageRoots()) {
        assertThat(
                mainClasses.stream()
                    .anyMatch(
                        c ->
                            c.getPackageName().equals(packageRoot)
                                || c.getPackageName().startsWith(packageRoot + ".")))
            .as(
                "no class of %s (%s) is on jobs' test classpath, so the layering rules would not see it;"
                    + " fix: add kiln-%s as a dependency of jobs",
                module.name(), packageRoot, module.name())
            .isTrue();
      }
    }
  }

  @Test
  void capabilitiesImportCoreAndTheirOwnPackagesOnly() {
    Set<String> capabilityRoots = new TreeSet<>();
    capabilities.forEach(m -> capabilityRoots.addAll(m.packageRoots()));
    classes()
        .that(inAnyOf(capabilityRoots))
        .should(dependOnlyOnCoreAndTheirOwnPackageRoot())
        .because("capabilities share through core and are composed in jobs (issue 10)")
        .check(mainClasses);
  }

  @Test
  void coreImportsNeitherPicocliNorTheServerNorAnyOtherModule() {
    noClasses()
        .that()
        .resideInAPackage("kiln.core..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("picocli..")
        .orShould()
        .dependOnClassesThat(kilnOutsideCore())
        .because(
            "core is below every module: the command line lives in jobs, the server in tracking-server")
        .check(mainClasses);
  }

  @Test
  void capabilityPomsDependOnCoreOnly() throws Exception {
    List<String> violations = new ArrayList<>();
    for (Module module : capabilities) {
      for (Element dependency : dependencies(module.directory().resolve("pom.xml"))) {
        String group = text(dependency, "groupId").replace("${project.groupId}", GROUP);
        if (!group.equals(GROUP)) {
          continue;
        }
        String artifact = text(dependency, "artifactId");
        String type = text(dependency, "type");
        String scope = text(dependency, "scope");
        boolean core =
            artifact.equals("kiln-core")
                && (type.isEmpty() || type.equals("jar"))
                && (scope.isEmpty() || scope.equals("compile"));
        boolean coreTests =
            artifact.equals("kiln-core") && type.equals("test-jar") && scope.equals("test");
        boolean serverInTests = artifact.equals("kiln-tracking-server") && scope.equals("test");
        if (!core && !coreTests && !serverInTests) {
          violations.add(
              module.name()
                  + " -> "
                  + artifact
                  + (type.isEmpty() ? "" : " (" + type + ")")
                  + (scope.isEmpty() ? "" : " [" + scope + "]"));
        }
      }
    }
    assertThat(violations)
        .as(
            "capability modules may depend on kiln-core, kiln-core's test-jar and (in tests) kiln-tracking-server;"
                + " fix: share through core, compose in jobs")
        .isEmpty();
  }

  @Test
  void corePomDependsOnNoModuleAndNotOnPicocli() throws Exception {
    List<String> violations = new ArrayList<>();
    for (Element dependency : dependencies(root.resolve("core/pom.xml"))) {
      String group = text(dependency, "groupId").replace("${project.groupId}", GROUP);
      if (group.equals(GROUP) || group.equals("info.picocli")) {
        violations.add(group + ":" + text(dependency, "artifactId"));
      }
    }
    assertThat(violations).as("core depends on no Kiln module and not on picocli").isEmpty();
  }

  // ---- the rules' parts

  private static String packageRoot(String packageName) {
    String[] parts = packageName.split("\\.");
    return parts.length >= 2 && parts[0].equals("kiln") ? parts[0] + "." + parts[1] : packageName;
  }

  private static DescribedPredicate<JavaClass> inAnyOf(Set<String> roots) {
    return DescribedPredicate.describe(
        "reside in a capability package " + roots,
        c -> roots.contains(packageRoot(c.getPackageName())));
  }

  private static DescribedPredicate<JavaClass> kilnOutsideCore() {
    return DescribedPredicate.describe(
        "are Kiln classes outside kiln.core",
        c ->
            c.getPackageName().startsWith("kiln.")
                && !packageRoot(c.getPackageName()).equals("kiln.core"));
  }

  private static ArchCondition<JavaClass> dependOnlyOnCoreAndTheirOwnPackageRoot() {
    return new ArchCondition<>(
        "depend only on kiln.core and their own package root among Kiln's classes") {
      @Override
      public void check(JavaClass item, ConditionEvents events) {
        String own = packageRoot(item.getPackageName());
        for (Dependency dependency : item.getDirectDependenciesFromSelf()) {
          String target = dependency.getTargetClass().getBaseComponentType().getPackageName();
          String targetRoot = packageRoot(target);
          if (target.startsWith("kiln.")
              && !targetRoot.equals(own)
              && !targetRoot.equals("kiln.core")) {
            events.add(SimpleConditionEvent.violated(dependency, dependency.getDescription()));
          }
        }
      }
    };
  }

  // ---- the poms

  /**
   * The directory of the root pom (kiln-parent), above the working directory surefire runs this
   * test in.
   */
  private static Path projectRoot() throws Exception {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path pom = dir.resolve("pom.xml");
      if (Files.isRegularFile(pom)
          && text(parse(pom).getDocumentElement(), "artifactId").equals("kiln-parent")) {
        return dir;
      }
    }
    throw new IllegalStateException("no kiln-parent pom.xml above " + Path.of("").toAbsolutePath());
  }

  private static Set<String> packageRoots(Path module) throws IOException {
    Path sources = module.resolve("src/main/java/kiln");
    Set<String> roots = new TreeSet<>();
    if (Files.isDirectory(sources)) {
      try (Stream<Path> children = Files.list(sources)) {
        children.filter(Files::isDirectory).forEach(d -> roots.add("kiln." + d.getFileName()));
      }
    }
    return roots;
  }

  private static Document parse(Path pom) throws Exception {
    return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(pom.toFile());
  }

  /** The project's own dependencies (not those under dependencyManagement or a plugin). */
  private static List<Element> dependencies(Path pom) throws Exception {
    List<Element> found = new ArrayList<>();
    Element project = parse(pom).getDocumentElement();
    for (Element dependencies : children(project, "dependencies")) {
      found.addAll(children(dependencies, "dependency"));
    }
    return found;
  }

  private static List<String> childTexts(Element parent, String container, String name) {
    List<String> texts = new ArrayList<>();
    for (Element element : children(parent, container)) {
      children(element, name).forEach(e -> texts.add(e.getTextContent().trim()));
    }
    return texts;
  }

  private static List<Element> children(Element parent, String name) {
    List<Element> found = new ArrayList<>();
    NodeList nodes = parent.getChildNodes();
    for (int i = 0; i < nodes.getLength(); i++) {
      Node node = nodes.item(i);
      if (node instanceof Element element && element.getTagName().equals(name)) {
        found.add(element);
      }
    }
    return found;
  }

  private static String text(Element parent, String name) {
    List<Element> found = children(parent, name);
    return found.isEmpty() ? "" : found.get(0).getTextContent().trim();
  }
}
