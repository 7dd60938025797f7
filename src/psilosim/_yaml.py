"""Reading a user's YAML: ``yaml.safe_load`` semantics, a key given twice or a recursive anchor
refused, one-line errors.

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
    of every key is known, before the document is constructed. Keys are compared as the values
    they load as (``true`` and ``True`` are one key, ``1`` and ``'1'`` two), so exactly the keys
    ``safe_load`` would merge are refused.
    """

    def construct_document(self, node):
        _refuse_duplicate_keys(self, node, (), set(), set())
        return super().construct_document(node)


def _refuse_duplicate_keys(loader: UniqueKeyLoader, node, path: tuple, done: set[int], enclosing: set[int]) -> None:
    """Walk ``node`` once per node: an alias repeats a node, and walking it again would be
    exponential in nested aliases. A node inside itself (a recursive anchor, ``a: &x [*x]``) is
    refused: ``safe_load`` builds it, but no psilosim input is recursive and validating or hashing
    one fails later with a traceback."""
    if id(node) in enclosing:
        raise InputError(".".join(map(str, path)) or "document",
                         f"contains itself (a recursive anchor at line {node.start_mark.line + 1}); "
                         "write the value out instead")
    if id(node) in done:
        return
    enclosing.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = _scalar_key(loader, key_node)
            if key is not None:
                if key in seen:
                    raise InputError(".".join(map(str, (*path, key))),
                                     f"given twice (lines {seen[key]} and {key_node.start_mark.line + 1}); keep one")
                seen[key] = key_node.start_mark.line + 1
            name = key_node.value if key is None else key
            _refuse_duplicate_keys(loader, value_node, (*path, name), done, enclosing)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _refuse_duplicate_keys(loader, item, (*path, i), done, enclosing)
    enclosing.discard(id(node))
    done.add(id(node))


def _scalar_key(loader: UniqueKeyLoader, key_node) -> Any:
    """The value a scalar key loads as; ``None`` for a merge key (``<<`` may repeat what it merges,
    on purpose) and for a key that is not a scalar or cannot be a dictionary key."""
    if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
        return None
    key = loader.construct_object(key_node)
    try:
        hash(key)
    except TypeError:  # safe_load refuses it itself, with its own message
        return None
    return key


def read_yaml(text: str, *, source: str = "scenario") -> Any:
    """Parse a user's YAML ``text`` as ``yaml.safe_load`` does, refusing a key given twice.

    Every YAML file the package reads from a user goes through here (scenarios, trial designs,
    compound files).

    Raises
    ------
    InputError
        On ``source`` for a syntax error (with its line); on the key's dotted path
        (``arms.0.allocation``) for a key given twice in one mapping (keys compared as the values
        they load as) or for a value that contains itself (a recursive anchor).
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


