"""Just enough of nginx's configuration language to check the gateway's routing: blocks and maps."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Directive:
    """One directive: its name, its arguments and, for a block, the directives inside it."""

    name: str
    args: list[str]
    block: list[Directive] | None = None

    def find(self, name: str) -> list[Directive]:
        """Return the directives called ``name`` anywhere inside this block."""
        found: list[Directive] = []
        for child in self.block or []:
            if child.name == name:
                found.append(child)
            found.extend(child.find(name))
        return found


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif char == "#":
            i = text.index("\n", i) if "\n" in text[i:] else len(text)
        elif char in "{};":
            tokens.append(char)
            i += 1
        elif char in "'\"":
            end = i + 1
            while text[end] != char:
                end += 2 if text[end] == "\\" else 1
            tokens.append(text[i + 1 : end])
            i = end + 1
        else:
            match = re.compile(r"[^\s;{}]+").match(text, i)
            assert match is not None
            tokens.append(match.group())
            i = match.end()
    return tokens


def parse(path: Path) -> Directive:
    """Return the configuration as a tree under a root directive."""
    tokens = _tokens(path.read_text())
    position = 0

    def block() -> list[Directive]:
        nonlocal position
        directives: list[Directive] = []
        while position < len(tokens) and tokens[position] != "}":
            words: list[str] = []
            while tokens[position] not in {";", "{"}:
                words.append(tokens[position])
                position += 1
            if tokens[position] == "{":
                position += 1
                children = block()
                assert tokens[position] == "}", "unbalanced braces"
                position += 1
                directives.append(Directive(words[0], words[1:], children))
            else:
                position += 1
                directives.append(Directive(words[0], words[1:]))
        return directives

    root = Directive("root", [], block())
    assert position == len(tokens), "unbalanced braces"
    return root


@dataclass
class NginxMap:
    """A ``map $source $target { ... }``: its default, exact values and ordered regexes."""

    default: str = ""
    exact: dict[str, str] = field(default_factory=dict)
    regexes: list[tuple[re.Pattern[str], str]] = field(default_factory=list)

    def lookup(self, value: str) -> str:
        """Return what nginx would set the target to: exact match, else the first regex, else the default."""
        if value in self.exact:
            return self.exact[value]
        for pattern, result in self.regexes:
            if pattern.search(value):
                return result
        return self.default


def maps(root: Directive) -> dict[str, NginxMap]:
    """Return every map of the configuration by its target variable."""
    found: dict[str, NginxMap] = {}
    for directive in root.find("map"):
        table = NginxMap()
        for entry in directive.block or []:
            key, value = entry.name, entry.args[0]
            if key == "default":
                table.default = value
            elif key.startswith("~*"):
                table.regexes.append((re.compile(key[2:], re.IGNORECASE), value))
            elif key.startswith("~"):
                table.regexes.append((re.compile(key[1:]), value))
            else:
                table.exact[key] = value
        found[directive.args[1]] = table
    return found
