"""Regenerates the ODCS contracts that datacontract-cli exports, which Kiln's contract tests load.

Run from the repository root:

    "$(bin/kiln-python-env datacontract)/bin/python" python/datacontract/make_fixtures.py

It feeds the inputs in python/datacontract/inputs/ (a SQL DDL, a JSON Schema, a Data Contract
Specification file with quality rules) to the real `datacontract` command, writes each ODCS
contract it produces to contracts/src/test/resources/datacontract-cli/, and copies the ODCS JSON
schema that datacontract-cli ships for the apiVersion it writes (v3.2.0) into Kiln's schema
resources. The outputs are committed, so CI never needs datacontract-cli.
"""

import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
INPUTS = ROOT / "python" / "datacontract" / "inputs"
OUT = ROOT / "contracts" / "src" / "test" / "resources" / "datacontract-cli"
SCHEMAS = ROOT / "contracts" / "src" / "main" / "resources" / "kiln" / "contracts" / "odcs"
CLI = pathlib.Path(sys.executable).parent / "datacontract"

# (output file, datacontract arguments); {in} is the inputs folder, {out} the output file
EXPORTS = [
    ("sql-postgres.odcs.yaml",
     ["import", "sql", "--source", "{in}/flights.sql", "--dialect", "postgres", "--output", "{out}"]),
    ("sql-databricks.odcs.yaml",
     ["import", "sql", "--source", "{in}/flights.sql", "--dialect", "databricks", "--output", "{out}"]),
    ("jsonschema.odcs.yaml",
     ["import", "jsonschema", "--source", "{in}/flights.schema.json", "--output", "{out}"]),
    ("dcs-export.odcs.yaml",
     ["export", "odcs", "{in}/flights.dcs.yaml", "--output", "{out}"]),
]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    version = subprocess.run([str(CLI), "--version"], check=True, capture_output=True, text=True)
    for name, arguments in EXPORTS:
        target = OUT / name
        target.unlink(missing_ok=True)
        command = [str(CLI)] + [a.format(**{"in": INPUTS, "out": target}) for a in arguments]
        subprocess.run(command, check=True, cwd=OUT)
        print(f"wrote {target.relative_to(ROOT)}")
    (OUT / "GENERATED.txt").write_text(
        f"Written by python/datacontract/make_fixtures.py with datacontract-cli {version.stdout.strip()}.\n"
        "Re-run: \"$(bin/kiln-python-env datacontract)/bin/python\" python/datacontract/make_fixtures.py\n")
    import datacontract

    bundled = pathlib.Path(datacontract.__file__).parent / "schemas" / "odcs-3.2.0.schema.json"
    shutil.copyfile(bundled, SCHEMAS / "odcs-json-schema-v3.2.0.json")
    print(f"copied {bundled.name} to {SCHEMAS.relative_to(ROOT)}/odcs-json-schema-v3.2.0.json")


if __name__ == "__main__":
    main()
