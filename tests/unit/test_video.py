"""The video pipeline on small clips made with PyAV: what it accepts, what it makes of it, and
each kind of bad input it refuses (before decoding, where the headers tell)."""

from __future__ import annotations

import io

import av
import pytest

from media import video
from media.video import (
    MAX_REEL_SECONDS,
    MAX_STORY_SECONDS,
    VideoRejected,
    output_size,
    probe_video,
    transcode,
)
from tests.media import decoded, jpeg
from tests.videos import first_frame, mp4, truncated, with_declared_frames

CLIP = mp4(1.0, 320, 240)
RED = (255, 0, 0)  # tests.videos paints the stored frame's top-left quarter red


def reddish(pixel: tuple[int, ...]) -> bool:
    return pixel[0] > 180 and pixel[1] < 80 and pixel[2] < 80


def refusal(data: bytes, max_seconds: float = MAX_REEL_SECONDS) -> str:
    with pytest.raises(VideoRejected) as refused:
        probe_video(data, max_seconds)
    return str(refused.value)


def test_a_probe_reports_what_the_clip_is() -> None:
    """Given a 1 s 320x240 25 fps H.264/AAC MP4, when probed, then so it says."""
    probe = probe_video(CLIP, MAX_REEL_SECONDS).probe

    assert (probe.container, probe.video_codec, probe.audio_codec) == ("mp4", "h264", "aac")
    assert (probe.width, probe.height, probe.rotation) == (320, 240, 0)
    assert (probe.frame_rate, probe.frames) == (25.0, 25)
    assert probe.duration_seconds == pytest.approx(1.0, abs=0.05)


def test_the_poster_is_the_first_frame_upright() -> None:
    """Given a clip whose display matrix turns it a quarter counter-clockwise, when probed,
    then its rotation is 90 and its poster is portrait, the red corner now bottom-left."""
    probed = probe_video(mp4(rotation=90), MAX_REEL_SECONDS)

    poster = decoded(probed.poster).convert("RGB")
    assert probed.probe.rotation == 90 and probed.probe.upright_size == (240, 320)
    assert poster.size == (240, 320)
    assert reddish(poster.getpixel((5, 315)))  # type: ignore[arg-type]
    assert not reddish(poster.getpixel((5, 5)))  # type: ignore[arg-type]


def test_a_transcode_is_h264_aac_with_its_index_first() -> None:
    """Given the clip, when transcoded, then the rendition is an H.264/AAC MP4 of the same
    size and duration with its moov box before its media data (+faststart)."""
    rendition = transcode(CLIP, MAX_REEL_SECONDS)

    with av.open(io.BytesIO(rendition.data), "r") as output:
        codecs = sorted(stream.codec_context.name for stream in output.streams)
        assert codecs == ["aac", "h264"]
        assert output.streams.video[0].codec_context.pix_fmt == "yuv420p"
    assert (rendition.width, rendition.height) == (320, 240)
    assert rendition.duration_seconds == pytest.approx(1.0, abs=0.05)
    assert rendition.data.index(b"moov") < rendition.data.index(b"mdat")


def test_a_rotated_clip_is_transcoded_upright_with_no_matrix_left() -> None:
    """Given a clip turned a quarter clockwise by its matrix, when transcoded, then the
    rendition is portrait, its red corner at the top right, and no rotation remains."""
    rendition = transcode(mp4(rotation=-90), MAX_REEL_SECONDS)

    size, top_left, top_right = first_frame(rendition.data)
    assert (rendition.width, rendition.height) == size == (240, 320)
    assert reddish(top_right) and not reddish(top_left)
    with av.open(io.BytesIO(rendition.data), "r") as output:
        assert next(output.decode(video=0)).rotation == 0


def test_a_video_without_audio_is_transcoded_without_audio() -> None:
    rendition = transcode(mp4(audio=False), MAX_REEL_SECONDS)

    with av.open(io.BytesIO(rendition.data), "r") as output:
        assert [stream.type for stream in output.streams] == ["video"]


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [
        (1080, 1920, (720, 1280)),  # a phone's portrait 1080p: down to 720p
        (1920, 1080, (1280, 720)),
        (3840, 2160, (1280, 720)),
        (320, 240, (320, 240)),  # never enlarged
        (721, 1281, (720, 1278)),  # even sides, aspect kept within a pixel
    ],
)
def test_the_rendition_fits_720x1280_either_way_round(
    width: int, height: int, expected: tuple[int, int]
) -> None:
    assert output_size(width, height) == expected


def test_bytes_that_are_not_a_video_are_refused() -> None:
    assert "not an MP4" in refusal(jpeg(64, 64))


def test_an_empty_file_is_refused() -> None:
    assert "empty" in refusal(b"")


def test_an_audio_only_file_is_refused() -> None:
    assert "no video" in refusal(mp4(video=False))


def test_a_video_of_another_container_is_refused_as_not_mp4() -> None:
    """Given a WebM (VP9) declared as MP4, when probed, then it is refused: only the MP4
    demuxer is ever tried."""
    output = io.BytesIO()
    with av.open(output, "w", format="webm") as container:
        stream = container.add_stream("libvpx-vp9", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        frame = av.VideoFrame(64, 64, "yuv420p")
        frame.pts = 0
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))

    assert "not an MP4" in refusal(output.getvalue())


def test_a_truncated_mp4_with_its_index_last_is_refused() -> None:
    assert "not an MP4" in refusal(truncated(CLIP))


def test_a_truncated_mp4_with_its_index_first_is_refused_as_cut_short() -> None:
    """Given a phone-style MP4 (moov first) cut at 90%: its header promises a second of
    frames the file does not hold, so the probe refuses it without decoding them."""
    assert "cut short" in refusal(truncated(mp4(faststart=True), keep=0.9))


def test_a_reel_over_90_seconds_is_refused() -> None:
    clip = mp4(seconds=91, width=32, height=32, fps=1, audio=False)

    assert "at most 90 s" in refusal(clip, MAX_REEL_SECONDS)


def test_a_story_over_60_seconds_is_refused_where_a_reel_would_not_be() -> None:
    clip = mp4(seconds=61, width=32, height=32, fps=1, audio=False)

    assert "at most 60 s" in refusal(clip, MAX_STORY_SECONDS)
    assert probe_video(clip, MAX_REEL_SECONDS).probe.duration_seconds == pytest.approx(61)


def test_dimensions_over_4k_are_refused_from_the_header() -> None:
    """Given a one-frame clip 4,098 pixels wide, when probed, then it is refused for its
    size."""
    assert "at most 4K" in refusal(mp4(seconds=0.04, width=4098, height=16, audio=False))


def test_a_frame_rate_over_the_limit_is_refused() -> None:
    assert "frame rate" in refusal(mp4(seconds=0.5, width=32, height=32, fps=240, audio=False))


def test_an_absurd_declared_frame_count_is_refused() -> None:
    """Given the clip with its header claiming 2^31 frames, when probed, then it is
    refused, and nothing of the sort is ever decoded."""
    refusal(with_declared_frames(CLIP, 2**31 - 1))


def test_a_transcode_stops_at_the_frame_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given a bound of 10 frames, when a 25-frame clip is transcoded, then it fails at
    the bound instead of decoding on."""
    monkeypatch.setattr(video, "MAX_TRANSCODED_FRAMES", 10)

    with pytest.raises(VideoRejected, match="more frames"):
        transcode(CLIP, MAX_REEL_SECONDS)


def test_a_transcode_stops_at_its_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(video, "MAX_TRANSCODE_SECONDS", -1.0)

    with pytest.raises(VideoRejected, match="too long"):
        transcode(CLIP, MAX_REEL_SECONDS)
