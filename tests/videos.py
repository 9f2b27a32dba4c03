"""Small MP4s made with PyAV for the tests: real H.264/AAC clips (a few KB, made in tens of
milliseconds), and the hostile variants the video pipeline must refuse."""

from __future__ import annotations

import io
import struct
import tempfile
from pathlib import Path

import av
import numpy as np

AUDIO_RATE = 48_000
AUDIO_FRAME = 1024  # AAC's frame size


def mp4(
    seconds: float = 1.0,
    width: int = 320,
    height: int = 240,
    fps: int = 25,
    *,
    audio: bool = True,
    video: bool = True,
    rotation: int | None = None,
    faststart: bool = False,
) -> bytes:
    """A clip: a red top-left quadrant on a grey ramp (so its orientation can be told), and
    a 440 Hz tone. With `faststart` the index (moov) comes first, as phones write it."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip.mp4"
        options = {"movflags": "+faststart"} if faststart else {}
        with av.open(str(path), "w", format="mp4", options=options) as output:
            video_stream = None
            if video:
                video_stream = output.add_stream(
                    "libx264", rate=fps, options={"preset": "ultrafast"}
                )
                video_stream.width, video_stream.height = width, height
                video_stream.pix_fmt = "yuv420p"
                if rotation is not None:
                    video_stream.set_display_rotation(rotation)
            audio_stream = None
            if audio:
                audio_stream = output.add_stream("aac", rate=AUDIO_RATE)
                audio_stream.layout = "mono"
            if video_stream is not None:
                for index in range(max(1, round(seconds * fps))):
                    pixels = np.full((height, width, 3), (index * 7) % 200 + 30, dtype=np.uint8)
                    pixels[: height // 2, : width // 2] = (255, 0, 0)
                    frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
                    frame.pts = index
                    output.mux(video_stream.encode(frame))
                output.mux(video_stream.encode(None))
            if audio_stream is not None:
                for start in range(0, round(seconds * AUDIO_RATE), AUDIO_FRAME):
                    times = (np.arange(AUDIO_FRAME) + start) / AUDIO_RATE
                    tone = (0.2 * np.sin(2 * np.pi * 440 * times)).astype(np.float32)
                    sound = av.AudioFrame.from_ndarray(
                        tone.reshape(1, -1), format="fltp", layout="mono"
                    )
                    sound.sample_rate, sound.pts = AUDIO_RATE, start
                    output.mux(audio_stream.encode(sound))
                output.mux(audio_stream.encode(None))
        return path.read_bytes()


def truncated(data: bytes, keep: float = 0.5) -> bytes:
    return data[: int(len(data) * keep)]


def with_declared_frames(data: bytes, frames: int) -> bytes:
    """The clip with its video track's sample count (stsz) claiming `frames`."""
    at = data.index(b"stsz") + 4 + 4 + 4  # type, version and flags, sample size
    return data[:at] + struct.pack(">I", frames) + data[at + 4 :]


Pixel = tuple[int, ...]


def first_frame(data: bytes) -> tuple[tuple[int, int], Pixel, Pixel]:
    """The first frame's size and its top-left and top-right pixels, as decoded."""
    with av.open(io.BytesIO(data), "r") as container:
        frame = next(container.decode(video=0))
        image = frame.to_image()  # type: ignore[no-untyped-call]
        width = image.size[0]
        return image.size, image.getpixel((4, 4)), image.getpixel((width - 5, 4))
