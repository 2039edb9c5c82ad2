"""Checks Databricks job definitions (Jobs API 2.2 create requests, as JSON) against the Jobs and
Compute API dataclasses of the databricks-sdk this venv pins.

Usage: python check_job.py FILE...   (the venv: bin/kiln-python-env databricks)

JobSettings.from_dict alone ignores keys it does not know, so a misspelled key would pass
silently: every key is checked here, recursively, against the fields of the dataclass the SDK
declares for it (type hints followed through Optional, List and Dict), enum values against the
enum, and scalars against their declared type. Prints one JSON object on stdout, file -> list of
problems ("$.tasks[0].new_cluster.node_typ_id: not a field of ClusterSpec"), and exits 1 when
there is any, 0 when there is none, 2 on bad usage.
"""

import dataclasses
import enum
import json
import sys
import typing

from databricks.sdk.service import jobs


def problems_of(value, declared, path):
    """The problems of value against the declared type, each naming its path."""
    origin = typing.get_origin(declared)
    if origin is typing.Union:
        options = [a for a in typing.get_args(declared) if a is not type(None)]
        if value is None:
            return []
        if len(options) == 1:
            return problems_of(value, options[0], path)
        return []  # no such unions in the Jobs API today: accept rather than guess
    if origin in (list, typing.List):
        if not isinstance(value, list):
            return [f"{path}: must be a list, not {type(value).__name__}"]
        (item,) = typing.get_args(declared)
        found = []
        for i, v in enumerate(value):
            found += problems_of(v, item, f"{path}[{i}]")
        return found
    if origin in (dict, typing.Dict):
        if not isinstance(value, dict):
            return [f"{path}: must be an object, not {type(value).__name__}"]
        _, item = typing.get_args(declared)
        found = []
        for k, v in value.items():
            found += problems_of(v, item, f"{path}.{k}")
        return found
    if declared is typing.Any:
        return []
    if dataclasses.is_dataclass(declared):
        if not isinstance(value, dict):
            return [f"{path}: must be an object ({declared.__name__}), not {type(value).__name__}"]
        hints = typing.get_type_hints(declared)
        fields = {f.name for f in dataclasses.fields(declared)}
        found = []
        for k, v in value.items():
            if k not in fields:
                found.append(f"{path}.{k}: not a field of {declared.__name__}")
            else:
                found += problems_of(v, hints[k], f"{path}.{k}")
        return found
    if isinstance(declared, type) and issubclass(declared, enum.Enum):
        allowed = [e.value for e in declared]
        if value not in allowed:
            return [f"{path}: {json.dumps(value)} is not one of {declared.__name__} {allowed}"]
        return []
    if declared is bool:
        ok = isinstance(value, bool)
    elif declared is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif declared is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif declared is str:
        ok = isinstance(value, str)
    else:
        return [f"{path}: no check for the declared type {declared}"]
    return [] if ok else [f"{path}: must be {declared.__name__}, not {json.dumps(value)}"]


def check(document):
    found = problems_of(document, jobs.JobSettings, "$")
    if not found:
        # what the SDK itself reads back must be what was written (nothing dropped or changed)
        again = jobs.JobSettings.from_dict(document).as_dict()
        if again != document:
            found.append("$: JobSettings.from_dict(...).as_dict() differs from the file")
    return found


def main(argv):
    if not argv:
        print("usage: check_job.py FILE...", file=sys.stderr)
        return 2
    report = {}
    for name in argv:
        with open(name, encoding="utf-8") as f:
            report[name] = check(json.load(f))
    print(json.dumps(report, indent=2))
    return 1 if any(report.values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
