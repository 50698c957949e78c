"""Comment ids become visible in id order within a broadcast, whatever the engine.

The room pump reads `id > watermark` and moves its watermark to the last id it saw; if id
12 could commit before id 11, a pump could read 12, move past 11 and never deliver it. On
PostgreSQL, sequences hand ids out at INSERT, not at COMMIT, so every comment insert of a
broadcast takes the broadcast's advisory lock (`livechat.store.comment_lock`). This race
drives real writers (each its own `Database`, as separate hosts have) against a live
watermark reader and checks that nothing was skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from db import Database, Transaction
from livechat import CommentStore, Identity, NewComment, QuestionStore
from livechat.comment import Comment, CommentFlag
from tests.livechat.hubkit import BROADCAST, open_livechat_database
from tests.support import TIMEOUT

WRITERS = 8  # separate `Database`s: separate pools, as eight hosts have
TASKS_PER_WRITER = 3  # concurrent posters on each
POSTS_PER_TASK = 30


@dataclass
class Race:
    inserted: set[int] = field(default_factory=set)
    seen: list[int] = field(default_factory=list)

    @property
    def skipped(self) -> set[int]:
        return self.inserted - set(self.seen)


async def _poster(comments: CommentStore, writer: int, task: int) -> list[int]:
    author = Identity(key=f"g:w{writer}-t{task}", name=f"시민{writer}")
    ids = []
    for n in range(POSTS_PER_TASK):
        # Every third post is a question: its row is written in the same transaction, as
        # on the real path, which keeps the transaction open a little longer.
        comment, created = await comments.insert(
            NewComment(
                BROADCAST,
                author,
                f"c{n}",
                f"글 {writer}-{task}-{n}",
                flags="question" if n % 3 == 0 else "",
            )
        )
        assert created
        ids.append(comment.id)
    return ids


async def _watermark_reader(comments: CommentStore, race: Race, done: asyncio.Event) -> None:
    """The room pump's loop: read after the watermark, move it to the last id read."""
    watermark = 0
    while True:
        finished = done.is_set()  # read once more after the writers are done
        page = await comments.after(BROADCAST, watermark, 1000)
        race.seen.extend(c.id for c in page)
        if page:
            watermark = page[-1].id
        elif finished:
            return
        await asyncio.sleep(0)


async def run_race(url: str) -> Race:
    """Many writers on their own databases, one live watermark reader on another."""
    race = Race()
    async with contextlib.AsyncExitStack() as stack:
        databases: list[Database] = [
            await stack.enter_async_context(open_livechat_database(url)) for _ in range(WRITERS + 1)
        ]
        reader = CommentStore(databases[0])
        writers = []
        for db in databases[1:]:
            comments = CommentStore(db)
            comments.add_flag_hook(CommentFlag.QUESTION, QuestionStore(db, comments).record_in)
            writers.append(comments)
        done = asyncio.Event()
        reading = asyncio.create_task(_watermark_reader(reader, race, done))
        async with asyncio.timeout(TIMEOUT * 10):
            batches = await asyncio.gather(
                *[
                    _poster(comments, w, t)
                    for w, comments in enumerate(writers)
                    for t in range(TASKS_PER_WRITER)
                ]
            )
            done.set()
            await reading
    race.inserted = {i for batch in batches for i in batch}
    return race


async def test_a_watermark_reader_never_skips_a_comment(database_url: str) -> None:
    """Eight writers with their own connection pools post concurrently into one broadcast
    while a reader polls `id > watermark`: the reader sees every comment, once, in order."""
    race = await run_race(database_url)
    assert len(race.inserted) == WRITERS * TASKS_PER_WRITER * POSTS_PER_TASK
    assert race.skipped == set()
    assert race.seen == sorted(race.inserted)


async def test_concurrent_inserts_share_transactions_and_fail_alone(database_url: str) -> None:
    """Posts arriving together in one broadcast commit together (group commit): each gets
    its own id and hooks, a retry in the same batch is stored once, and a post whose hook
    fails fails alone — the others are stored and it is not."""
    async with open_livechat_database(database_url) as db:
        comments = CommentStore(db)
        hook_calls: list[int] = []

        async def refuse(tx: Transaction, comment: Comment) -> None:
            hook_calls.append(comment.id)
            if comment.text == "bad":
                raise ValueError("refused")

        comments.insert_hooks.append(refuse)
        author = Identity(key="g:one", name="시민")
        posts = [
            comments.insert(NewComment(BROADCAST, author, f"c{n}", "bad" if n == 7 else f"글 {n}"))
            for n in range(30)
        ]
        posts.append(comments.insert(NewComment(BROADCAST, author, "c3", "글 3")))  # a retry
        results = await asyncio.gather(*posts, return_exceptions=True)
        failed = [r for r in results if isinstance(r, BaseException)]
        assert len(failed) == 1 and isinstance(failed[0], ValueError)
        stored = [r for r in results if not isinstance(r, BaseException)]
        assert sum(created for _, created in stored) == 29
        retry = stored[-1]
        assert not retry[1] and retry[0].id == stored[3][0].id
        assert await comments.find(BROADCAST, author.key, "c7") is None
        assert len(await comments.latest(BROADCAST, 100)) == 29
        # They went in one transaction: rolled back at the bad one, then each alone.
        assert len(hook_calls) == 8 + 30
