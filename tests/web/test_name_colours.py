"""Commenters' name colours: stable, spread over the palette, the same on server and page."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from web.rendering.templating import NAME_HUES, name_hue


@given(st.text(max_size=40))
def test_a_name_always_gets_the_same_slot_in_range(name: str) -> None:
    """Any name maps to one of the palette's slots, and always to the same one."""
    assert 0 <= name_hue(name) < NAME_HUES
    assert name_hue(name) == name_hue(str(name))


def test_known_values_match_livechat_js() -> None:
    """Fixed points that livechat.js `nameHue` gives too (the browser test checks every
    rendered name against the server's)."""
    names = ("", "a", "시민", "서울러버", "Jane", "a11y_official")
    assert [name_hue(n) for n in names] == [0, 1, 0, 4, 6, 2]


def test_names_spread_over_the_palette() -> None:
    """A hundred ordinary nicknames use every colour, none for more than a quarter."""
    slots = [name_hue(f"시민{n}") for n in range(100)]
    assert set(slots) == set(range(NAME_HUES))
    assert max(slots.count(s) for s in set(slots)) <= 25
