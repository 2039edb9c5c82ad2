"""Writes the "Java (Kiln)" Jupyter kernel spec: JJava's kernel on Java 17 with the JVM flags Spark
3.5 needs and Kiln's jar (with Spark) on the notebook's classpath.

Usage: python kernel.py --out DIR --java JAVA --jvm-flags "FLAGS" --classpath CP [--log-config FILE]

DIR becomes a JUPYTER_PATH entry: the spec is written to DIR/kernels/kiln-java/. The classpath's
entries may end in `*` (every jar of that directory, as `java -cp` reads it); they are expanded here,
because JJava's JJAVA_CLASSPATH takes files. kernel.json's argv expands no variables, so every path
in it is absolute.
"""

import argparse
import glob
import json
import os
import shutil
import sys

import jupyter_core.paths

KERNEL = "kiln-java"


def jjava_resources():
    """The directory pip's jjava package installed its kernel spec (and jjava.jar) into."""
    for base in jupyter_core.paths.jupyter_path("kernels"):
        candidate = os.path.join(base, "java")
        if os.path.isfile(os.path.join(candidate, "jjava.jar")):
            return candidate
    sys.exit("kernel.py: error: no JJava kernel (java/jjava.jar) in " + sys.prefix
             + "\n  fix: bin/kiln-python-env jupyter installs it (python/jupyter/requirements.txt)")


def classpath(entries):
    jars = []
    for entry in entries.split(os.pathsep):
        if not entry:
            continue
        if entry.endswith("*"):
            jars.extend(sorted(glob.glob(entry[:-1] + "*.jar")))
        else:
            jars.append(os.path.abspath(entry))
    missing = [j for j in jars if not os.path.exists(j)]
    if missing:
        sys.exit("kernel.py: error: classpath entries do not exist: " + ", ".join(missing)
                 + "\n  fix: build Kiln's jar first (bin/kiln builds it)")
    # the same jar twice on a classpath is harmless but noise: keep the first
    return list(dict.fromkeys(jars))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--java", required=True)
    parser.add_argument("--jvm-flags", required=True)
    parser.add_argument("--classpath", required=True)
    parser.add_argument("--log-config")
    args = parser.parse_args()

    spec_dir = os.path.join(os.path.abspath(args.out), "kernels", KERNEL)
    os.makedirs(spec_dir, exist_ok=True)
    jar = os.path.join(spec_dir, "jjava.jar")
    shutil.copyfile(os.path.join(jjava_resources(), "jjava.jar"), jar)

    argv = [os.path.realpath(args.java)]
    argv += args.jvm_flags.split()
    # what JJava's own launcher adds: JShell's internals, opened to the kernel
    argv += ["--add-opens", "jdk.jshell/jdk.jshell=ALL-UNNAMED"]
    if args.log_config:
        argv.append("-Dlog4j2.configurationFile=" + os.path.abspath(args.log_config))
    argv += ["-jar", jar, "{connection_file}"]
    spec = {
        "argv": argv,
        "display_name": "Java (Kiln)",
        "language": "java",
        "interrupt_mode": "message",
        "env": {
            # Kiln and Spark for the notebook's code, compiled and loaded by JShell
            "JJAVA_CLASSPATH": os.pathsep.join(classpath(args.classpath)),
            "SPARK_LOCAL_IP": "127.0.0.1",
        },
    }
    with open(os.path.join(spec_dir, "kernel.json"), "w") as f:
        json.dump(spec, f, indent=2)
    print(spec_dir)


if __name__ == "__main__":
    main()
