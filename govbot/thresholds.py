"""Threshold expressions of the body size: `ceil(n/3)`, `floor(n/2)+1`, `2`.

A pure helper of the core that plugins may import: the governance rules use it
for `yes_votes`, `quorum` and `paths`, the meetings plugin for the quorum and
threshold of a vote bound to a body. A tiny, safe language, parsed once when the
rules (or meetbot.yaml) are loaded and evaluated with the body's current size.
Never `eval()`: a rules file is community-reviewed text, and a threshold must not
be able to run code.

Grammar::

    expr   := term (('+' | '-') term)*
    term   := unary (('*' | '/') unary)*
    unary  := '-' unary | atom
    atom   := INT | 'n' | FUNC '(' expr (',' expr)* ')' | '(' expr ')'
    FUNC   := ceil | floor | min | max

Arithmetic is exact (`Fraction`), so `ceil(2*n/3)` is 6 for n = 9 with no
floating-point surprise; a threshold that is not a whole number (`n/2`) means
"at least that much", i.e. its ceiling.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

__all__ = ["Expr", "ExprError", "parse_expr"]

_TOKEN = re.compile(r"\s*(?:(\d+)|([A-Za-z_]+)|(\S))")
_FUNCS: dict[str, tuple[Callable[..., Fraction | int], int, int]] = {
    # name -> (function, fewest arguments, most arguments)
    "ceil": (math.ceil, 1, 1),
    "floor": (math.floor, 1, 1),
    "min": (min, 2, 16),
    "max": (max, 2, 16),
}
_MAX_LENGTH = 200  # a threshold is a short formula; refuse anything absurd


class ExprError(ValueError):
    """A threshold that does not parse; `position` is 0-based in the text."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


# The AST: nested tuples, immutable and cheap to evaluate.
#   ("int", k) | ("n",) | ("neg", a) | ("+"|"-"|"*"|"/", a, b) | ("call", name, (args...))
Node = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class Expr:
    """A parsed threshold; `text` is how the rules file wrote it."""

    text: str
    tree: Node

    def value(self, n: int) -> Fraction:
        """The exact value for a body of `n` members (ZeroDivisionError if it divides by 0)."""
        return Fraction(_eval(self.tree, n))

    def needed(self, n: int) -> int:
        """The smallest whole number of votes that meets it (never below 0)."""
        return max(0, math.ceil(self.value(n)))

    @property
    def is_constant(self) -> bool:
        return self.tree[0] == "int"

    def __str__(self) -> str:
        return self.text


def parse_expr(text: str | int) -> Expr:
    """Parse a threshold; a plain integer is accepted as is. Raises ExprError."""
    if isinstance(text, int) and not isinstance(text, bool):
        if text < 0:
            raise ExprError("a threshold cannot be negative", 0)
        return Expr(str(text), ("int", text))
    if not isinstance(text, str):
        raise ExprError("a threshold must be a number or an expression like 'ceil(n/3)'", 0)
    if len(text) > _MAX_LENGTH:
        raise ExprError(f"too long (at most {_MAX_LENGTH} characters)", _MAX_LENGTH)
    parser = _Parser(text)
    tree = parser.expr()
    if parser.peek()[0] != "end":
        _, value, pos = parser.peek()
        raise ExprError(f"unexpected {value!r}", pos)
    return Expr(text.strip(), tree)


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = list(_tokens(text))
        self.index = 0

    def peek(self) -> tuple[str, str, int]:
        return self.tokens[self.index]

    def take(self) -> tuple[str, str, int]:
        token = self.tokens[self.index]
        if token[0] != "end":
            self.index += 1
        return token

    def expect(self, symbol: str) -> None:
        kind, value, pos = self.take()
        if value != symbol or kind != "op":
            found = "the end" if kind == "end" else repr(value)
            raise ExprError(f"expected {symbol!r}, found {found}", pos)

    def expr(self) -> Node:
        node = self.term()
        while self.peek()[1] in ("+", "-") and self.peek()[0] == "op":
            op = self.take()[1]
            node = (op, node, self.term())
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.peek()[1] in ("*", "/") and self.peek()[0] == "op":
            op = self.take()[1]
            node = (op, node, self.unary())
        return node

    def unary(self) -> Node:
        if self.peek()[:2] == ("op", "-"):
            self.take()
            return ("neg", self.unary())
        return self.atom()

    def atom(self) -> Node:
        kind, value, pos = self.take()
        if kind == "int":
            return ("int", int(value))
        if kind == "name":
            if value == "n":
                return ("n",)
            if value not in _FUNCS:
                raise ExprError(f"unknown name {value!r}; use n, ceil, floor, min or max", pos)
            return self.call(value, pos)
        if (kind, value) == ("op", "("):
            node = self.expr()
            self.expect(")")
            return node
        found = "the end" if kind == "end" else repr(value)
        raise ExprError(f"expected a number, 'n', a function or '(', found {found}", pos)

    def call(self, name: str, pos: int) -> Node:
        self.expect("(")
        args = [self.expr()]
        while self.peek()[:2] == ("op", ","):
            self.take()
            args.append(self.expr())
        self.expect(")")
        _, fewest, most = _FUNCS[name]
        if not fewest <= len(args) <= most:
            wanted = str(fewest) if fewest == most else f"{fewest} or more"
            raise ExprError(f"{name}() takes {wanted} argument(s), got {len(args)}", pos)
        return ("call", name, tuple(args))


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:  # only trailing blanks are left
            break
        number, name, op = match.groups()
        start = match.start(match.lastindex or 0)
        if number is not None:
            out.append(("int", number, start))
        elif name is not None:
            out.append(("name", name, start))
        elif op is not None:
            if op not in "+-*/(),":
                raise ExprError(f"unexpected character {op!r}", start)
            out.append(("op", op, start))
        pos = match.end()
    out.append(("end", "", len(text)))
    return out


def _eval(node: Node, n: int) -> Fraction | int:
    kind = node[0]
    if kind == "int":
        return node[1]  # type: ignore[return-value]
    if kind == "n":
        return n
    if kind == "neg":
        return -_eval(node[1], n)  # type: ignore[arg-type]
    if kind == "call":
        function = _FUNCS[node[1]][0]  # type: ignore[index]
        return function(*(_eval(arg, n) for arg in node[2]))  # type: ignore[attr-defined]
    left = Fraction(_eval(node[1], n))  # type: ignore[arg-type]
    right = Fraction(_eval(node[2], n))  # type: ignore[arg-type]
    if kind == "+":
        return left + right
    if kind == "-":
        return left - right
    if kind == "*":
        return left * right
    return left / right  # "/": exact; ZeroDivisionError is the caller's to report
