"""Reading a user's YAML: ``yaml.safe_load`` semantics, a key given twice refused, one-line errors.

Every YAML file the package reads from a user (scenarios, trial designs, compound files) goes
through :func:`read_yaml`.
"""

from __future__ import annotations

from typing import Any

import yaml

from .errors import InputError


class UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a mapping giving the same key twice.

    YAML 1.2 forbids duplicate keys, but PyYAML keeps the last one silently: two ``primary_day:``
    lines would run a trial on the second. The check runs on the composed document, where the path
    of every key is known, before anything is constructed.
    """

    def construct_document(self, node):
        _refuse_duplicate_keys(node, ())
        return super().construct_document(node)


def _refuse_duplicate_keys(node, path: tuple) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is not None and key != "<<":  # a merge key may repeat what it merges, on purpose
                if key in seen:
                    raise InputError(".".join(map(str, (*path, key))),
                                     f"given twice (lines {seen[key]} and {key_node.start_mark.line + 1}); keep one")
                seen[key] = key_node.start_mark.line + 1
            _refuse_duplicate_keys(value_node, (*path, key))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _refuse_duplicate_keys(item, (*path, i))


def read_yaml(text: str, *, source: str = "scenario") -> Any:
    """Parse a user's YAML ``text`` as ``yaml.safe_load`` does, refusing a key given twice.

    Every YAML file the package reads from a user goes through here (scenarios, trial designs).

    Raises
    ------
    InputError
        On ``source`` for a syntax error (with its line); on the key's dotted path
        (``arms.0.allocation``) for a key given twice in one mapping.
    """
    try:
        return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        raise InputError(source, yaml_error_text(exc)) from None


def yaml_error_text(exc: yaml.YAMLError) -> str:
    """One line: where the YAML parser stopped and where the unfinished construct began."""
    mark = getattr(exc, "problem_mark", None)
    context = getattr(exc, "context_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    started = ""
    if context is not None and (mark is None or context.line != mark.line):
        started = f" ({getattr(exc, 'context', 'construct')} started at line {context.line + 1})"
    return f"YAML syntax error{where}: {problem}{started}"


