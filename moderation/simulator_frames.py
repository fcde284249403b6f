"""Pictures for the simulator's streams: a test pattern with the stream's title, made by ffmpeg.

The stand-in node serves them at ``GET /frames/<app>/<key>`` (a JPEG), so a node registered with
``play_url = http://<host>:<control port>/frames`` gets snapshots through the console's own frame
grabber, as a real node does through RTMP. Without ffmpeg there are no pictures, and nothing fails.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
import time
import zlib
from pathlib import Path

# ffmpeg's generated sources, one per stream (by its key), so the wall's cards look different.
SOURCES = ("testsrc2", "smptehdbars", "mandelbrot", "rgbtestsrc", "testsrc", "yuvtestsrc")
FRAME_SECONDS = 5.0  # a picture is made again after this long
FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)


class FrameMaker:
    """Make and cache one JPEG per key; None when ffmpeg is missing or fails."""

    def __init__(self) -> None:
        self.ffmpeg = shutil.which("ffmpeg")
        self.font = next((font for font in FONTS if Path(font).exists()), None)
        self.cache: dict[str, tuple[float, bytes]] = {}
        self.lock = threading.Lock()

    def frame(self, key: str, title: str) -> bytes | None:
        now = time.monotonic()
        with self.lock:
            cached = self.cache.get(key)
        if cached is not None and now - cached[0] < FRAME_SECONDS:
            return cached[1]
        image = self._make(key, title)
        if image is not None:
            with self.lock:
                self.cache[key] = (now, image)
        return image

    def _make(self, key: str, title: str) -> bytes | None:
        if self.ffmpeg is None:
            return None
        source = SOURCES[zlib.crc32(key.encode()) % len(SOURCES)]
        with tempfile.TemporaryDirectory(prefix="liveward-frame-") as directory:
            text = Path(directory) / "title.txt"
            text.write_text(f"{title or key[:12]}  {time.strftime('%H:%M:%S')}", encoding="utf-8")
            draw = f"drawtext=textfile={text}:fontcolor=white:fontsize=30:box=1:boxcolor=black@0.6:x=20:y=h-60"
            if self.font:
                draw = f"drawtext=fontfile={self.font}:" + draw.removeprefix("drawtext=")
            command = [self.ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-f", "lavfi"]
            command += ["-i", f"{source}=size=640x360:rate=1", "-vf", draw, "-frames:v", "1", "-q:v", "6"]
            command += ["-f", "mjpeg", "pipe:1"]
            try:
                result = subprocess.run(command, capture_output=True, timeout=10, check=False)
            except (OSError, subprocess.TimeoutExpired):
                return None
        if result.returncode != 0 or not result.stdout.startswith(b"\xff\xd8"):
            return None
        return result.stdout
