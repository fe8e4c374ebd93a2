"""Grad mode: ``no_grad`` and ``enable_grad`` restore what they found, also when reused, nested,
or wrapped around a generator function."""

from __future__ import annotations

import pytest

import minigrad as mg


def test_one_no_grad_object_reused_in_nested_blocks_restores_each_level() -> None:
    off = mg.no_grad()
    with off:
        with off:
            assert not mg.is_grad_enabled()
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()


def test_one_enable_grad_object_reused_inside_no_grad() -> None:
    on = mg.enable_grad()
    with mg.no_grad(), on:
        with on:
            assert mg.is_grad_enabled()
        assert mg.is_grad_enabled()
    assert mg.is_grad_enabled()


def test_no_grad_on_a_generator_function_records_nothing_inside_it() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)

    @mg.no_grad()
    def doubled(n: int):
        for _ in range(n):
            yield x * 2

    outputs = list(doubled(3))
    assert [y.requires_grad for y in outputs] == [False, False, False]
    assert mg.is_grad_enabled()


def test_the_callers_mode_holds_between_yields_and_values_pass_both_ways() -> None:
    seen = []

    @mg.no_grad()
    def echo():
        received = yield mg.is_grad_enabled()
        seen.append((received, mg.is_grad_enabled()))
        return "finished"

    gen = echo()
    assert next(gen) is False  # the body ran without grad
    assert mg.is_grad_enabled()  # the caller has it back
    with pytest.raises(StopIteration) as stop:
        gen.send("hello")
    assert seen == [("hello", False)] and stop.value.value == "finished"
    assert mg.is_grad_enabled()


def test_exceptions_and_close_reach_the_generator_inside_the_mode() -> None:
    modes = []

    @mg.no_grad()
    def guarded():
        try:
            yield 1
        except KeyError:
            modes.append(("caught", mg.is_grad_enabled()))
            yield 2
        finally:
            modes.append(("finally", mg.is_grad_enabled()))

    gen = guarded()
    next(gen)
    assert gen.throw(KeyError("k")) == 2
    gen.close()
    assert modes == [("caught", False), ("finally", False)]
    assert mg.is_grad_enabled()


def test_enable_grad_on_a_generator_records_inside_no_grad() -> None:
    x = mg.tensor([1.0], requires_grad=True)

    @mg.enable_grad()
    def recorded():
        yield x * 2

    with mg.no_grad():
        (y,) = list(recorded())
        assert not mg.is_grad_enabled()
    assert y.requires_grad
