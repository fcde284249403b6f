"""A stand-in for the platform's comment traffic in demos: batches of chat to the comment ingest API.

Every second it posts a batch (``POST /api/v1/comments/``) on the streams live at the time (asked of
``live_streams`` every ten seconds: the platform knows its rooms; the demo reads them from the
database) with the platform-backend token seed_demo keeps in var/demo-platform-token. Most lines are
ordinary chat; a few carry a demo sensitive term, some written with separators or traditional
characters; a few viewers have no verified phone, and one viewer keeps misbehaving (mute
viewer-troll-1 to see their next comment blocked). Standard library only.
"""

from __future__ import annotations

import itertools
import json
import random
import threading
import time
from collections.abc import Callable
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

CHAT = [
    "主播好！", "来了来了", "666666", "这首歌好好听", "主播今天状态不错", "哈哈哈哈哈", "点赞点赞👍", "支持一下",
    "晚上好各位", "求主播唱一首周杰伦", "画质好清晰", "刚下班，来看看", "主播加油💪", "这个游戏怎么玩",
    "今天吃什么", "从广州来的", "好看😍", "弹幕护体", "第一次来，关注了", "讲得真好",
]  # fmt: skip
MATCHING = ["加我微信有福利", "加 微 信 看更多", "來賭博吧穩賺", "代开发票找我", "你个傻子", "真是个傻瓜"]
TROUBLEMAKER = "viewer-troll-1"


class CommentFeed:
    """Post a batch of comments every ``interval`` seconds until stopped."""

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        per_second: int,
        live_streams: Callable[[], list[int]],
        log: Callable[[str], None],
        interval: float = 1.0,
    ) -> None:
        self.live_streams = live_streams
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.per_second = per_second
        self.interval = interval
        self.log = log
        self.streams: list[int] = []
        self._streams_read_at = 0.0
        self._numbers = itertools.count(1)
        self._run_id = f"{int(time.time()):x}"
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def _call(self, method: str, path: str, body: dict | None = None):
        data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        request = Request(self.base_url + path, data=data, method=method)
        request.add_header("Authorization", f"Token {self.token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        with urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")

    def _refresh_streams(self) -> None:
        if time.monotonic() - self._streams_read_at < 10 and self.streams:
            return
        self.streams = list(self.live_streams())
        self._streams_read_at = time.monotonic()

    def batch(self) -> list[dict]:
        """One second's comments on the live streams."""
        comments = []
        for _ in range(self.per_second):
            number = next(self._numbers)
            roll = random.random()
            viewer = TROUBLEMAKER if roll < 0.03 else f"viewer-{random.randint(1, 400)}"
            text = random.choice(MATCHING) if roll < 0.06 else random.choice(CHAT)
            comments.append(
                {
                    "stream": random.choice(self.streams),
                    "id": f"demo-{self._run_id}-{number}",
                    "viewer_id": viewer,
                    "viewer_phone_verified": random.random() > 0.02,
                    "text": text,
                }
            )
        return comments

    def post_once(self) -> dict[str, int]:
        """Post one batch on the live streams; return how many got each verdict."""
        self._refresh_streams()
        if not self.streams:
            return {}
        outcomes: dict[str, int] = {}
        for result in self._call("POST", "/api/v1/comments/", {"comments": self.batch()})["results"]:
            key = result["verdict"] or "error"
            outcomes[key] = outcomes.get(key, 0) + 1
        return outcomes

    def run(self) -> None:
        outcomes: dict[str, int] = {}
        last_report = time.monotonic()
        while not self._stop.wait(self.interval):
            try:
                for key, count in self.post_once().items():
                    outcomes[key] = outcomes.get(key, 0) + count
            except (HTTPError, URLError, OSError, ValueError, KeyError) as exc:
                self.log(f"comments: {exc}")
                self._stop.wait(5)
            if time.monotonic() - last_report >= 60:
                self.log("comments in the last minute: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
                outcomes, last_report = {}, time.monotonic()
