"""``_userinput.holds_control``: the rule a run's and a window's name are checked by."""

from __future__ import annotations

import pytest

from wattwise._userinput import holds_control


@pytest.mark.parametrize("text", ["a\x00b", "\x1b[31m", "ok\u202eevil", "a\nb", "\u200b", "\x7f"])
def test_control_and_invisible_characters_are_found(text: str) -> None:
    assert holds_control(text)


@pytest.mark.parametrize("text", ["plain", "naïve 名前 🚀", "bad\udcffbyte", ""])
def test_printable_text_and_a_lone_surrogate_pass(text: str) -> None:
    assert not holds_control(text)
