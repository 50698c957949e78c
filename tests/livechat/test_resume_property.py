from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livechat import Viewer
from tests.livechat.hubkit import BROADCAST, citizen, comment_ids, frames_until, has_ids, open_hub

# A script: for each step, post k comments, and optionally drop the connection afterwards.
steps = st.lists(
    st.tuples(st.integers(min_value=0, max_value=6), st.booleans()), min_size=1, max_size=8
)


async def scenario(db: Path, script: list[tuple[int, bool]]) -> tuple[list[int], list[int]]:
    async with open_hub(db, "", burst=10_000, rate_per_minute=600_000) as hub:
        seen: list[int] = []
        stored: list[int] = []
        viewer = Viewer(None, 10_000)
        await hub.join(BROADCAST, viewer, None)
        counter = 0
        for posts, drop in script:
            for _ in range(posts):
                counter += 1
                result = await hub.post(BROADCAST, citizen(counter % 3), f"c{counter}", "x")
                stored.append(result.comment.id)
            if drop:
                # Read what arrived before the drop point (a prefix of what was posted), then
                # reconnect from the last id seen, as the page script does.
                await asyncio.sleep(0)  # an interleaving point: the room may deliver some
                got: list[int] = []
                while not viewer.queue.empty():
                    frame = viewer.queue.get_nowait()
                    got.extend(comment_ids([_decode(frame.text)]))
                seen.extend(got)
                hub.leave(BROADCAST, viewer)
                viewer = Viewer(None, 10_000)
                await hub.join(BROADCAST, viewer, seen[-1] if seen else 0)
        remaining = len(stored) - len(seen)
        frames = await frames_until(viewer, has_ids(remaining))
        seen.extend(comment_ids(frames))
        return seen, stored


def _decode(text: str) -> dict[str, object]:
    import json

    decoded: dict[str, object] = json.loads(text)
    return decoded


@given(steps)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_resume_is_exact_at_random_disconnect_points(script: list[tuple[int, bool]]) -> None:
    """Whatever the disconnect points, the union of what a viewer saw equals what was stored,
    in order, once each."""
    with tempfile.TemporaryDirectory() as tmp:
        seen, stored = asyncio.run(scenario(Path(tmp) / "db.sqlite", script))
    assert seen == stored
