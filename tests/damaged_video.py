"""Small AVI (MJPG) videos with known damage, made here from scratch: frame i is grey level 20 * i
(MJPG keeps that within a few levels), chosen frames have their JPEG data overwritten (the demuxer
still finds the packet, the decoder rejects it), and the header's frame counts can be set to any
value (AVI's avih.dwTotalFrames and the video stream's strh.dwLength, the fields FFmpeg reports as
CAP_PROP_FRAME_COUNT)."""

from __future__ import annotations

import struct
from pathlib import Path

import cv2
import numpy as np


def level(image) -> int:
    """The frame number a decoded frame shows (its grey level / 20)."""
    return int(round(float(np.mean(image)) / 20))


def write_avi(path, frames: int = 10, damaged=(), header_frames: int | None = None, size=(64, 48), fps=10.0) -> Path:
    """Write the video; returns its path. damaged: frame indices whose JPEG data is destroyed."""
    path = Path(path)
    tmp = path.with_name("tmp_" + path.name.encode("ascii", "replace").decode().replace("?", "_"))
    w = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
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
