"""Threshold expressions: exact arithmetic over n, and precise errors, never eval()."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govbot.thresholds import ExprError, parse_expr


@pytest.mark.parametrize(("text", "n", "needed"), [
    ("ceil(n/3)", 9, 3), ("ceil(n/3)", 10, 4), ("ceil(2*n/3)", 9, 6), ("ceil(2*n/3)", 13, 9),
    ("floor(n/2)+1", 9, 5), ("floor(n/2)+1", 10, 6), ("n/2", 9, 5), ("n/2", 10, 5),
    (2, 9, 2), ("2", 0, 2), ("max(2, ceil(n/3))", 3, 2), ("min(n, 5)", 3, 3),
    ("(n - 1) * 2 / 3", 10, 6), ("-(-n)", 4, 4), ("n - 10", 9, 0), (" ceil( n / 3 ) ", 9, 3),
])
def test_thresholds(text: str | int, n: int, needed: int) -> None:
    assert parse_expr(text).needed(n) == needed


@pytest.mark.parametrize(("text", "message", "position"), [
    ("ceil(n/)", "expected a number, 'n', a function or '(', found ')'", 7),
    ("round(n/3)", "unknown name 'round'; use n, ceil, floor, min or max", 0),
    ("n n", "unexpected 'n'", 2),
    ("ceil(n, 2)", "ceil() takes 1 argument(s), got 2", 0),
    ("min(n)", "min() takes 2 or more argument(s), got 1", 0),
    ("n ** 2", "expected a number, 'n', a function or '(', found '*'", 3),
    ("__import__(n)", "unknown name '__import__'; use n, ceil, floor, min or max", 0),
    ("n + 'x'", "unexpected character \"'\"", 4),
    ("n % 2", "unexpected character '%'", 2),
    ("(n", "expected ')', found the end", 2),
    ("", "expected a number, 'n', a function or '(', found the end", 0),
    (-1, "a threshold cannot be negative", 0),
])
def test_errors_say_what_and_where(text: str | int, message: str, position: int) -> None:
    with pytest.raises(ExprError) as caught:
        parse_expr(text)
    assert (caught.value.message, caught.value.position) == (message, position)


def test_division_by_zero_surfaces_at_evaluation() -> None:
    with pytest.raises(ZeroDivisionError):
        parse_expr("n/(n-9)").value(9)


@given(st.integers(min_value=0, max_value=500))
def test_exact_arithmetic_matches_integer_formulas(n: int) -> None:
    assert parse_expr("ceil(2*n/3)").needed(n) == -(-2 * n // 3)
    assert parse_expr("ceil(n/3)").needed(n) == -(-n // 3)
    assert parse_expr("floor(n/2)+1").needed(n) == n // 2 + 1
