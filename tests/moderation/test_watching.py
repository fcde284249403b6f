"""A node's watch URL: checked when set, and the browser's mirror of it that never names the stream key."""

from __future__ import annotations

import pytest

from moderation import actions
from moderation.mediaservers.interface import MediaServerBadAnswer
from moderation.mediaservers.watching import FLV_NAME, WatchFormat, mirror_for, rewrite_playlist
from moderation.models import MediaServer, Stream

KEY = "k3yAbc_-42"


def stream_on(watch_url: str, *, key: str = KEY, app: str = "live") -> Stream:
    node = MediaServer(name="edge-w", kind=MediaServer.Kind.NGINX_RTMP, watch_url=watch_url)
    return Stream(node=node, app=app, published_name=key)


@pytest.mark.parametrize(
    "watch_url",
    [
        "rtmp://edge/hls/{key}.m3u8",  # not http
        "http://edge/hls/stream.m3u8",  # no key
        "http://edge/hls/{key}/{name}.m3u8",  # an unknown placeholder
        "http://edge/hls/{key}.mp4",  # neither HLS nor HTTP-FLV
        "http://edge/hls/{key.m3u8",  # unbalanced
        "http://edge/~/{key}.m3u8",  # the mark
    ],
)
def test_a_bad_watch_url_is_refused_and_nothing_changes(nginx_node, watch_url):
    with pytest.raises(actions.ModerationError):
        actions.set_media_server_watch_url(nginx_node, watch_url=watch_url, actor=None)
    nginx_node.refresh_from_db()
    assert nginx_node.watch_url == ""


def test_a_watch_url_is_set_and_cleared(nginx_node, admin):
    actions.set_media_server_watch_url(nginx_node, watch_url=" http://edge:8080/hls/{key}.m3u8 ", actor=admin)
    nginx_node.refresh_from_db()
    assert nginx_node.watch_url == "http://edge:8080/hls/{key}.m3u8"
    actions.set_media_server_watch_url(nginx_node, watch_url="", actor=admin)
    nginx_node.refresh_from_db()
    assert nginx_node.watch_url == ""


def test_the_hls_mirror_names_files_with_the_key_hidden():
    mirror = mirror_for(stream_on("http://edge:8080/hls/{key}.m3u8"))
    assert mirror.format == WatchFormat.HLS
    assert mirror.entry == "~.m3u8"
    assert mirror.node_url("~.m3u8") == f"http://edge:8080/hls/{KEY}.m3u8"
    assert mirror.node_url("~-12.ts") == f"http://edge:8080/hls/{KEY}-12.ts"
    for outside in ("../etc/passwd", "a/../../x", "/abs.ts", "a?b=1", "x y.ts", ""):
        assert mirror.node_url(outside) is None


def test_a_nested_hls_mirror_keeps_its_directories():
    mirror = mirror_for(stream_on("http://edge/{app}/{key}/index.m3u8", app="live"))
    assert mirror.entry == "live/~/index.m3u8"
    assert mirror.node_url("live/~/3.ts") == f"http://edge/live/{KEY}/3.ts"


def test_the_playlist_is_rewritten_into_the_mirror():
    mirror = mirror_for(stream_on("http://edge:8080/hls/{key}.m3u8"))
    playlist = (
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MEDIA-SEQUENCE:7\n#EXT-X-TARGETDURATION:2\n"
        f"#EXTINF:2.000,\n{KEY}-7.ts\n#EXTINF:2.000,\nhttp://edge:8080/hls/{KEY}-8.ts?ctx=abc\n"
    )
    text = rewrite_playlist(mirror, mirror.node_url("~.m3u8"), playlist, browser_prefix="/streams/5/watch/")
    assert KEY not in text
    assert "/streams/5/watch/~-7.ts" in text.splitlines()
    assert "/streams/5/watch/~-8.ts" in text.splitlines()
    assert "#EXT-X-MEDIA-SEQUENCE:7" in text


@pytest.mark.parametrize(
    "body",
    [
        "#EXTM3U\n#EXTINF:2,\nhttp://elsewhere.example/x.ts\n",
        "#EXTM3U\n#EXTINF:2,\n../../secret.ts\n",
        '#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI="http://elsewhere.example/key"\n',
        "<html>not a playlist</html>",
    ],
)
def test_a_playlist_pointing_outside_is_refused(body):
    mirror = mirror_for(stream_on("http://edge:8080/hls/{key}.m3u8"))
    with pytest.raises(MediaServerBadAnswer):
        rewrite_playlist(mirror, mirror.node_url("~.m3u8"), body, browser_prefix="/streams/5/watch/")


def test_http_flv_plays_under_one_name():
    mirror = mirror_for(stream_on("http://edge:8080/{app}/{key}.flv"))
    assert mirror.format == WatchFormat.FLV and mirror.entry == FLV_NAME
    assert mirror.node_url(FLV_NAME) == f"http://edge:8080/live/{KEY}.flv"
    assert mirror.node_url("~.flv") is None


def test_no_player_without_a_watch_url_or_with_a_marked_key():
    assert mirror_for(stream_on("")) is None
    assert mirror_for(stream_on("http://edge/hls/{key}.m3u8", key="a~b")) is None


def test_the_commands_set_a_watch_url_and_refuse_a_bad_one(nginx_node):
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("node_access", "edge-1", "--watch-url=http://10.0.2.21:8080/hls/{key}.m3u8", stdout=out)
    assert "Stream page player: http://10.0.2.21:8080/hls/{key}.m3u8" in out.getvalue()
    with pytest.raises(CommandError, match="must contain"):
        call_command("node_access", "edge-1", "--watch-url=http://10.0.2.21:8080/hls/x.m3u8", stdout=StringIO())
    nginx_node.refresh_from_db()
    assert nginx_node.watch_url == "http://10.0.2.21:8080/hls/{key}.m3u8"
    call_command(
        "register_media_server",
        "edge-9",
        "--kind=srs",
        "--control-url=http://10.0.2.31:1985/",
        "--watch-url=http://10.0.2.31:8080/{app}/{key}.flv",
        stdout=StringIO(),
    )
    assert MediaServer.objects.get(name="edge-9").watch_url == "http://10.0.2.31:8080/{app}/{key}.flv"
