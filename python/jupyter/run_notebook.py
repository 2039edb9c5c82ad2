"""Runs a notebook headless with nbclient and writes the executed copy (with every output).

Usage: python run_notebook.py NOTEBOOK OUT [--timeout SECONDS] [--kernel NAME]

The kernel spec must be on JUPYTER_PATH (bin/kiln-notebook --kernel-only, or the tests, write it).
A cell tagged `raises-exception` may fail (it shows an error on purpose); any other failing cell stops
the run, the executed copy is still written, and the exit code is 1.
"""

import argparse
import os
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("notebook")
    parser.add_argument("out")
    parser.add_argument("--timeout", type=int, default=600)
    parser.add_argument("--kernel", default="kiln-java")
    args = parser.parse_args()

    nb = nbformat.read(args.notebook, as_version=4)
    client = NotebookClient(
        nb,
        timeout=args.timeout,
        kernel_name=args.kernel,
        startup_timeout=180,
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(args.notebook))}},
    )
    start = time.monotonic()
    code = 0
    try:
        client.execute()
    except CellExecutionError as e:
        print(f"run_notebook.py: {args.notebook}: a cell failed:\n{e}", file=sys.stderr)
        # JJava's traceback of a compilation error is the kernel's own frames: say what the cell showed
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    print(f"  {output.get('ename')}: {output.get('evalue')}", file=sys.stderr)
                    print("  " + "\n  ".join(output.get("traceback", [])), file=sys.stderr)
        code = 1
    finally:
        nbformat.write(nb, args.out)
    print(f"run_notebook.py: {args.notebook} ran in {time.monotonic() - start:.1f} s", file=sys.stderr)
    sys.exit(code)


if __name__ == "__main__":
    main()
