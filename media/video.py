"""Turning an uploaded MP4 into the video a phone plays everywhere: probed, refused when it is
not a real video within limits, transcoded to one H.264/AAC rendition, with a poster frame.

Pure CPU work on bytes, with PyAV (its wheels carry FFmpeg with libx264 and AAC): callers
run it off the event loop, a bounded number at a time (`media.decode_slots.WorkSlots`).

What a hostile file can make this do is bounded before anything is decoded: the container
is opened as MP4 only, with FFmpeg's probing capped (PROBE_BYTES, PROBE_MICROSECONDS,
MAX_STREAMS); the duration, dimensions and frame rate the headers declare are checked
against the limits; and a transcode stops at MAX_TRANSCODED_FRAMES frames or after
MAX_TRANSCODE_SECONDS, whichever comes first. A probe also demuxes every packet (reading,
not decoding: cheap) so that a truncated file, whose headers promise more than its bytes
hold, is refused in the request rather than failing later, and decodes the first frame:
what cannot be decoded is refused at once, and that frame is the poster.

Rotation: phones store portrait video as landscape frames with a display matrix. The
transcode applies it (FFmpeg's library, unlike its command line, does not), so every
rendition is stored upright with no matrix, and its width and height are as shown.
"""

from __future__ import annotations

import dataclasses
import io
import math
import tempfile
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.error
from av.audio.resampler import AudioResampler
from av.filter import Graph
from av.video.frame import VideoFrame
from PIL import Image

MAX_REEL_SECONDS = 90.0  # as Instagram's reels
MAX_STORY_SECONDS = 60.0  # as Instagram's story clips
MIN_VIDEO_SECONDS = 0.1  # less is not a video but a still
MAX_VIDEO_SIDE = 4096  # "at most 4K": DCI 4K's width, either way round
MAX_VIDEO_PIXELS = 4096 * 2160  # a DCI 4K frame
MIN_VIDEO_SIDE = 16  # smaller frames are no picture anyone can see (and H.264's macroblock)
MAX_FRAME_RATE = 120.0  # phones' slow motion records at 120 (240 is stored as 30 or 120)
MIN_FRAME_RATE = 1.0  # a slide show at least
# What FFmpeg may read and analyse to find the streams before it gives up: an MP4's header
# (moov) holds what it needs; without a bound, a file of many tiny streams is probed long.
PROBE_BYTES = 5_000_000
PROBE_MICROSECONDS = 5_000_000
MAX_STREAMS = 8  # a phone's MP4 has 2 to 4 (video, audio, metadata tracks)
# Frames a file may declare beyond its duration at its rate, for rounding and B-frames.
FRAME_COUNT_SLACK = 1.1
# Truncation: the packets present must cover this much of the declared video duration.
MIN_PRESENT_FRACTION = 0.95
# The rendition: 720x1280 at most (portrait; landscape is 1280x720), which every phone
# decodes in hardware, H.264 High profile 4.0 at CRF 23 (libx264's default quality) capped at
# 2.5 Mbit/s (what Instagram's 720p reels average), 30 fps at most, stereo AAC at 128 kbit/s.
OUTPUT_LONG_SIDE = 1280
OUTPUT_SHORT_SIDE = 720
OUTPUT_MAX_FRAME_RATE = 30
OUTPUT_CRF = "23"
OUTPUT_MAX_BITRATE = "2500k"
OUTPUT_BUFFER_SIZE = "5000k"  # two seconds at the cap: what players buffer before playing
OUTPUT_PRESET = "veryfast"  # a 3 s 720x1280 clip in a few seconds of CPU (ARCHITECTURE.md)
OUTPUT_AUDIO_RATE = 48_000
OUTPUT_AUDIO_BITRATE = 128_000
# x264 threads per transcode: the process runs a bounded number of transcodes at once
# (jobs.video), and each uses this many cores at most.
ENCODER_THREADS = 2
# The longest clip at the highest rate, plus slack: a decode that yields more is hostile.
MAX_TRANSCODED_FRAMES = int(MAX_REEL_SECONDS * MAX_FRAME_RATE * FRAME_COUNT_SLACK)
# A 90 s 4K clip transcodes in about a minute of one core's time; five times that is a
# file built to be slow, or a machine too busy to finish it: either way it fails.
MAX_TRANSCODE_SECONDS = 300.0
OUTPUT_CONTENT_TYPE = "video/mp4"
MP4_DEMUXER = "mp4"  # FFmpeg's mov,mp4,m4a,3gp,3g2,mj2 demuxer, and nothing else


# Counter-clockwise quarter turns -> the transpose that makes a frame upright.
QUARTER_TURNS = {
    1: Image.Transpose.ROTATE_90,
    2: Image.Transpose.ROTATE_180,
    3: Image.Transpose.ROTATE_270,
}


class VideoRejected(Exception):
    """The bytes are not a video we accept; the message is safe to show the user."""


@dataclass(frozen=True, slots=True)
class VideoProbe:
    """What an MP4 says of itself, checked against the limits."""

    container: str
    video_codec: str
    audio_codec: str | None
    duration_seconds: float
    width: int  # as stored
    height: int
    rotation: int  # degrees counter-clockwise the frames are turned to be shown: 0/90/180/270
    frame_rate: float
    frames: int  # as the header declares (0 when it does not say)

    @property
    def upright_size(self) -> tuple[int, int]:
        sideways = self.rotation in (90, 270)
        return (self.height, self.width) if sideways else (self.width, self.height)


@dataclass(frozen=True, slots=True)
class ProbedVideo:
    probe: VideoProbe
    poster: bytes  # the first frame, upright, as a PNG (for the image path to re-encode)


@dataclass(frozen=True, slots=True)
class TranscodedVideo:
    data: bytes
    width: int
    height: int
    duration_seconds: float


def output_size(width: int, height: int) -> tuple[int, int]:
    """The rendition's size for an upright `width` x `height`: within 720x1280 (either way
    round), never enlarged, aspect kept, both sides even (as yuv420p needs)."""
    long_side, short_side = max(width, height), min(width, height)
    scale = min(1.0, OUTPUT_LONG_SIDE / long_side, OUTPUT_SHORT_SIDE / short_side)
    return _even(width * scale), _even(height * scale)


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)


def probe_video(data: bytes, max_seconds: float) -> ProbedVideo:
    """The probe of an MP4 within the limits (at most `max_seconds` long), and its poster;
    VideoRejected with the reason otherwise."""
    if not data:
        raise VideoRejected("The file is empty.")
    with _opened(data) as container:
        probe = _checked_probe(container, max_seconds)
        _check_complete(container, probe)
    with _opened(data) as container:
        rotation, poster = _first_frame(container)
    return ProbedVideo(dataclasses.replace(probe, rotation=rotation), poster)


def transcode(data: bytes, max_seconds: float) -> TranscodedVideo:
    """The rendition of an MP4 that `probe_video` accepts; VideoRejected when it turns out
    not to decode, or breaks a bound while it does."""
    with _opened(data) as container:
        rotation, _ = _first_frame(container)
    with _opened(data) as source:
        probe = dataclasses.replace(_checked_probe(source, max_seconds), rotation=rotation)
        width, height = output_size(*probe.upright_size)
        with tempfile.TemporaryDirectory(prefix="transcode-") as folder:
            # A file, not memory: faststart rewrites the output to move its index first.
            path = Path(folder) / "out.mp4"
            duration = _transcode_into(source, probe, path, width, height)
            return TranscodedVideo(path.read_bytes(), width, height, duration)


def _opened(data: bytes) -> av.container.InputContainer:
    try:
        container = av.open(
            io.BytesIO(data),
            format=MP4_DEMUXER,
            options={
                "probesize": str(PROBE_BYTES),
                "analyzeduration": str(PROBE_MICROSECONDS),
                "max_streams": str(MAX_STREAMS),
            },
        )
    except (av.error.FFmpegError, ValueError, OSError) as error:
        raise VideoRejected("The file is not an MP4 video that can be read.") from error
    assert isinstance(container, av.container.InputContainer)
    return container


def _checked_probe(container: av.container.InputContainer, max_seconds: float) -> VideoProbe:
    """Refuse from the headers alone, before a single frame is decoded."""
    if not container.streams.video:
        raise VideoRejected("The file has no video (an audio-only file?).")
    stream = container.streams.video[0]
    context = stream.codec_context
    width, height = context.width, context.height
    if width < MIN_VIDEO_SIDE or height < MIN_VIDEO_SIDE:
        raise VideoRejected(f"The video must be at least {MIN_VIDEO_SIDE}x{MIN_VIDEO_SIDE}.")
    if max(width, height) > MAX_VIDEO_SIDE or width * height > MAX_VIDEO_PIXELS:
        raise VideoRejected(f"The video is {width}x{height}: at most 4K (4096x2160).")
    duration = _duration_seconds(container, stream)
    if not math.isfinite(duration) or duration < MIN_VIDEO_SECONDS:
        raise VideoRejected("The video has no duration.")
    if duration > max_seconds:
        raise VideoRejected(f"The video is {duration:.1f} s long: at most {max_seconds:g} s.")
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    frame_rate = float(rate) if rate else 0.0
    if not MIN_FRAME_RATE <= frame_rate <= MAX_FRAME_RATE:
        raise VideoRejected(
            f"The video's frame rate is {frame_rate:g} fps: {MIN_FRAME_RATE:g} to "
            f"{MAX_FRAME_RATE:g} are taken."
        )
    frames = stream.frames or 0
    if frames > max(1, duration * MAX_FRAME_RATE * FRAME_COUNT_SLACK):
        raise VideoRejected(f"The video declares {frames:,} frames for {duration:.1f} s.")
    audio = container.streams.audio[0].codec_context.name if container.streams.audio else None
    return VideoProbe(
        container=container.format.name,
        video_codec=context.name,
        audio_codec=audio,
        duration_seconds=duration,
        width=width,
        height=height,
        rotation=0,  # PyAV gives the display matrix with decoded frames: see _first_frame
        frame_rate=frame_rate,
        frames=frames,
    )


def _duration_seconds(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream
) -> float:
    if stream.duration is not None and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return math.nan


def _check_complete(container: av.container.InputContainer, probe: VideoProbe) -> None:
    """Demux (not decode) every video packet: their times must cover the declared duration,
    or the file was cut short (its header, written first with +faststart, promises more)."""
    stream = container.streams.video[0]
    time_base = stream.time_base or Fraction(1, 1)
    last_end = 0.0
    try:
        for packet in container.demux(stream):
            if packet.size == 0 or packet.pts is None:
                continue
            last_end = max(last_end, float((packet.pts + (packet.duration or 0)) * time_base))
    except av.error.FFmpegError as error:
        raise VideoRejected("The video is damaged or incomplete.") from error
    start = float((stream.start_time or 0) * time_base)
    if last_end - start < probe.duration_seconds * MIN_PRESENT_FRACTION:
        raise VideoRejected("The video is incomplete: the file was cut short.")


def _first_frame(container: av.container.InputContainer) -> tuple[int, bytes]:
    """The rotation of the video (in quarter turns' degrees) and its first frame, upright."""
    stream = container.streams.video[0]
    stream.thread_count = 1
    try:
        for frame in container.decode(stream):
            image = _upright_image(frame)
            output = io.BytesIO()
            image.save(output, "PNG", compress_level=1)  # lossless: the image path re-encodes
            return _quarter_turns(frame.rotation) * 90, output.getvalue()
    except av.error.FFmpegError as error:
        raise VideoRejected("The video cannot be decoded.") from error
    raise VideoRejected("The video has no frame that can be decoded.")


def _upright_image(frame: VideoFrame) -> Image.Image:
    image: Image.Image = frame.to_image()  # type: ignore[no-untyped-call]
    turn = QUARTER_TURNS.get(_quarter_turns(frame.rotation))
    return image if turn is None else image.transpose(turn)


def _quarter_turns(rotation: float) -> int:
    return round((rotation % 360) / 90) % 4


def _transcode_into(
    source: av.container.InputContainer,
    probe: VideoProbe,
    path: Path,
    width: int,
    height: int,
) -> float:
    """Write the rendition to `path`; the seconds of video it holds."""
    deadline = time.monotonic() + MAX_TRANSCODE_SECONDS
    video_in = source.streams.video[0]
    video_in.thread_count = ENCODER_THREADS
    audio_in = source.streams.audio[0] if source.streams.audio else None
    rate = min(OUTPUT_MAX_FRAME_RATE, round(probe.frame_rate)) or OUTPUT_MAX_FRAME_RATE
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as output:
        video_out = output.add_stream(
            "libx264",
            rate=rate,
            options={
                "preset": OUTPUT_PRESET,
                "crf": OUTPUT_CRF,
                "maxrate": OUTPUT_MAX_BITRATE,
                "bufsize": OUTPUT_BUFFER_SIZE,
                "profile": "high",
                "level": "4.0",
                "threads": str(ENCODER_THREADS),
            },
        )
        video_out.width, video_out.height, video_out.pix_fmt = width, height, "yuv420p"
        audio_out = None
        resampler = None
        if audio_in is not None:
            audio_out = output.add_stream("aac", rate=OUTPUT_AUDIO_RATE)
            audio_out.layout = "stereo"
            audio_out.bit_rate = OUTPUT_AUDIO_BITRATE
            resampler = AudioResampler(
                format="fltp", layout="stereo", rate=OUTPUT_AUDIO_RATE, frame_size=1024
            )
        graph: Graph | None = None
        frames = 0
        streams = [video_in] if audio_in is None else [video_in, audio_in]
        try:
            for packet in source.demux(*streams):
                if time.monotonic() > deadline:
                    raise VideoRejected("The video took too long to process.")
                for frame in packet.decode():
                    if isinstance(frame, VideoFrame):
                        frames += 1
                        if frames > MAX_TRANSCODED_FRAMES:
                            raise VideoRejected("The video has more frames than it may.")
                        if graph is None:
                            graph = _video_graph(frame, rate, width, height)
                        graph.vpush(frame)
                        _drain_video(graph, video_out, output)
                    elif resampler is not None and audio_out is not None:
                        for resampled in resampler.resample(frame):  # type: ignore[arg-type]
                            output.mux(audio_out.encode(resampled))
            if graph is not None:
                graph.vpush(None)
                _drain_video(graph, video_out, output)
            output.mux(video_out.encode(None))
            if resampler is not None and audio_out is not None:
                for resampled in resampler.resample(None):
                    output.mux(audio_out.encode(resampled))
                output.mux(audio_out.encode(None))
        except av.error.FFmpegError as error:
            raise VideoRejected("The video is damaged and cannot be processed.") from error
        if frames == 0:
            raise VideoRejected("The video has no frame that can be decoded.")
        encoded = video_out.frames
    return encoded / rate


def _video_graph(first: VideoFrame, rate: int, width: int, height: int) -> Graph:
    """buffer -> upright -> at most `rate` fps -> scaled -> yuv420p -> sink."""
    graph = Graph()
    source = graph.add_buffer(
        width=first.width,
        height=first.height,
        format=first.format,
        time_base=first.time_base or Fraction(1, 1_000_000),
    )
    steps = [source]
    turn = _quarter_turns(first.rotation)
    if turn == 1:
        steps.append(graph.add("transpose", "cclock"))
    elif turn == 2:
        steps.append(graph.add("hflip"))
        steps.append(graph.add("vflip"))
    elif turn == 3:
        steps.append(graph.add("transpose", "clock"))
    steps.append(graph.add("fps", str(rate)))
    steps.append(graph.add("scale", f"{width}:{height}"))
    steps.append(graph.add("format", "yuv420p"))
    steps.append(graph.add("buffersink"))
    graph.link_nodes(*steps).configure()
    return graph


def _drain_video(graph: Graph, stream: av.video.stream.VideoStream, output: object) -> None:
    while True:
        try:
            frame = graph.vpull()
        except (av.error.BlockingIOError, av.error.EOFError):
            return
        output.mux(stream.encode(frame))  # type: ignore[attr-defined]
