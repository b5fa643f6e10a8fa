"""Videos with known damage. Small AVIs made here from scratch (MJPG, or MPEG-4 part 2 with
fourcc="XVID"): frame i is grey level 20 * i (both codecs keep that within a few levels), chosen
frames have their data overwritten (the demuxer still finds the packet, the decoder rejects it), and
the header's frame counts can be set to any value (AVI's avih.dwTotalFrames and the video stream's
strh.dwLength, the fields FFmpeg reports as CAP_PROP_FRAME_COUNT). H.264 (which OpenCV's writer
cannot make here) comes from the repository's tests/data/images/openpose_media/video.avi, an MP4
despite its name (H.264 High profile with B-frames, 205 frames at 50 fps): cut short, or one of its
samples overwritten (:func:`mp4_video_samples` finds the samples in the file)."""

from __future__ import annotations

import struct
from pathlib import Path

import cv2
import numpy as np


def level(image) -> int:
    """The frame number a decoded frame shows (its grey level / 20)."""
    return int(round(float(np.mean(image)) / 20))


def write_avi(
    path, frames: int = 10, damaged=(), header_frames: int | None = None, size=(64, 48), fps=10.0, fourcc="MJPG"
) -> Path:
    """Write the video; returns its path. damaged: frame indices whose data is destroyed."""
    path = Path(path)
    tmp = path.with_name("tmp_" + path.name.encode("ascii", "replace").decode().replace("?", "_"))
    w = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*fourcc), fps, size)
    for i in range(frames):
        w.write(np.full((size[1], size[0], 3), 20 * i, np.uint8))
    w.release()
    damage(tmp, frames, damaged, header_frames)
    tmp.replace(path)
    return path


def damage(path, frames: int, damaged=(), header_frames: int | None = None) -> None:
    """Damage an MJPG AVI of ``frames`` frames in place: the JPEG data of the frames in ``damaged``
    overwritten, the header's frame counts set to ``header_frames`` (None: kept)."""
    path = Path(path)
    data = bytearray(path.read_bytes())
    pos, index = data.index(b"movi") + 4, 0
    while index < frames:
        tag, n = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        if tag == b"00dc":
            if index in damaged:
                data[pos + 8 : pos + 8 + n] = b"\x11" * n
            index += 1
        pos += 8 + n + (n & 1)
    if header_frames is not None:
        struct.pack_into("<I", data, data.index(b"avih") + 8 + 16, header_frames)
        struct.pack_into("<I", data, data.index(b"strh") + 8 + 32, header_frames)
    path.write_bytes(bytes(data))


def _boxes(data: bytes, start: int, end: int):
    """(type, payload start, end) of the ISO BMFF (MP4) boxes in data[start:end]."""
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        head = 8
        if size == 1:  # a 64-bit size follows the type
            size, head = struct.unpack_from(">Q", data, pos + 8)[0], 16
        elif size == 0:  # to the end of the enclosing box
            size = end - pos
        yield kind, pos + head, pos + size
        pos += size


def _child(data: bytes, kind: bytes, span: tuple[int, int]) -> tuple[int, int] | None:
    return next(((s, e) for k, s, e in _boxes(data, *span) if k == kind), None)


def mp4_video_samples(path) -> list[tuple[int, int]]:
    """(offset, size) in the file of each sample (packet) of an MP4's video track, in decode order,
    from its sample tables (ISO/IEC 14496-12: stsz sizes, stsc samples per chunk, stco/co64 chunk
    offsets)."""
    data = Path(path).read_bytes()
    for kind, s, e in _boxes(data, *_child(data, b"moov", (0, len(data)))):
        mdia = _child(data, b"mdia", (s, e)) if kind == b"trak" else None
        if mdia is None or data[_child(data, b"hdlr", mdia)[0] + 8 :][:4] != b"vide":
            continue
        stbl = _child(data, b"stbl", _child(data, b"minf", mdia))
        at = _child(data, b"stsz", stbl)[0]
        fixed, count = struct.unpack_from(">II", data, at + 4)
        sizes = [fixed] * count if fixed else struct.unpack_from(f">{count}I", data, at + 12)
        wide = _child(data, b"stco", stbl) is None
        at = _child(data, b"co64" if wide else b"stco", stbl)[0]
        n = struct.unpack_from(">I", data, at + 4)[0]
        chunks = struct.unpack_from(f">{n}{'Q' if wide else 'I'}", data, at + 8)
        at = _child(data, b"stsc", stbl)[0]
        runs = [
            struct.unpack_from(">II", data, at + 8 + 12 * j) for j in range(struct.unpack_from(">I", data, at + 4)[0])
        ]
        samples: list[tuple[int, int]] = []
        for chunk, offset in enumerate(chunks, 1):
            for _ in range(next(per for first, per in reversed(runs) if first <= chunk)):
                samples.append((offset, sizes[len(samples)]))
                offset += samples[-1][1]
        return samples
    raise ValueError(f"{path}: no video track")


def damage_mp4(src, dst, samples=(), keep: int | None = None) -> Path:
    """Copy the MP4 ``src`` to ``dst`` with the video samples ``samples`` (decode-order indices)
    overwritten and the file cut after ``keep`` bytes (None: whole); returns dst."""
    data = bytearray(Path(src).read_bytes())
    table = mp4_video_samples(src)
    for k in samples:
        offset, size = table[k]
        data[offset : offset + size] = b"\x11" * size
    Path(dst).write_bytes(bytes(data[:keep]))
    return Path(dst)
