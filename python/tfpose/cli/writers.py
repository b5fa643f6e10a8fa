"""Every output of ``tfpose estimate`` for one image or frame (OpenPose JSON, drawings, heatmaps, the
video, COCO results), each file written atomically (:mod:`tfpose.outputs`).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from tfpose.cli.inputs import Source
from tfpose.cli.plan import Plan, shown, video_fourcc

if TYPE_CHECKING:
    from tfpose.outputs import VideoOutput

__all__ = ["Writers", "heatmaps_uint8"]


def heatmaps_uint8(maps, num_parts: int):
    """OpenPose's --heatmaps_scale 2 (poseExtractorNet.cpp getHeatMapsCopy): parts and background
    round(clip(v, 0, 1) * 255), PAFs round(clip(v, -1, 1) * 128.5 + 128.5) (capped at 255 for
    uint8; NaN -> 0); the C channels of maps [H, W, C] side by side -> uint8 [H, C * W]."""
    import numpy as np

    m = np.asarray(maps, np.float32)
    out = np.empty(m.shape, np.float32)
    out[..., : num_parts + 1] = np.rint(np.clip(m[..., : num_parts + 1], 0, 1) * 255)
    out[..., num_parts + 1 :] = np.rint(np.clip(m[..., num_parts + 1 :], -1, 1) * 128.5 + 128.5)
    out = np.nan_to_num(out, nan=0.0).clip(0, 255).astype(np.uint8)
    channels = int(m.shape[2])
    return np.ascontiguousarray(np.concatenate([out[..., i] for i in range(channels)], axis=1))


class Writers:
    """Writes every output of one image/frame, each file atomically (:mod:`tfpose.outputs`); a
    failure raises OutputError (an OSError naming the file and the cause), which stops the run."""

    def __init__(self, args: argparse.Namespace, plan: Plan, est, sources: Sequence[Source] = ()):
        from tfpose import io as _io

        self.args, self.plan, self.est = args, plan, est
        self.video: VideoOutput | None = None
        self.coco_results: list = []
        self.coco_ids = _io.CocoImageIds([s.path for s in sources if s.kind == "image"])

    def write(self, src: Source, frame: int | None, img, fps: float | None, people, details) -> None:
        """Every output of one image/frame; people carry ``person_id`` when tracking."""
        import numpy as np

        from tfpose import io as _io
        from tfpose import models
        from tfpose import outputs as _out
        from tfpose.draw import draw

        args, est = self.args, self.est
        json_path, img_path, heat_png, heat_npy = self.plan.names(src, frame)
        if json_path is not None:
            g = est.sizing(img.shape)
            from tfpose.types import Person

            def scaled(k):
                return (
                    None
                    if k is None
                    else _io.scale_keypoints(k, args.keypoint_scale, g.image_wh, g.scale_net_to_output)
                )

            # hands and face (when on) are scaled like the body, as OpenPose does; ids are kept
            kps = [
                Person(
                    scaled(p.keypoints),
                    p.score,
                    hand_left=scaled(p.hand_left),
                    hand_right=scaled(p.hand_right),
                    face=scaled(p.face),
                    person_id=p.person_id,
                )
                for p in people
            ]
            cands = None
            if details is not None and args.part_candidates:
                cands = [
                    _io.scale_keypoints(c, args.keypoint_scale, g.image_wh, g.scale_net_to_output)
                    for c in details.part_candidates
                ]
            _io.write_json(json_path, kps, cands)
        if heat_png is not None:
            _out.write_image(heat_png, heatmaps_uint8(details.heatmaps, models.get(est.pose_model).num_parts))
            _out.write_npy(heat_npy, np.asarray(details.heatmaps, np.float32))
        if self.plan.coco is not None:
            image_id = self.coco_ids.assign(src.path if not src.live else src.name, frame)
            self.coco_results += _io.coco_results(image_id, people, est.pose_model, args.coco_pixel_convention)
        if img_path is not None or self.plan.video is not None:
            drawing = draw(
                img,
                people,
                est.pose_model,
                args.render_threshold,
                style=args.render_style,
                color_by_id=args.tracking or args.smooth,
            )
            if img_path is not None:
                _out.write_image(img_path, drawing)
            if self.plan.video is not None:
                if self.video is None:
                    self.video = _out.VideoOutput(
                        self.plan.video, video_fourcc(str(self.plan.video)), self.plan.video_fps
                    )
                self.video.write(drawing)

    def close(self, log: Callable[[str], None]) -> bool:
        """Finish the video (checked: it must hold every frame written) and the COCO file with its
        image-id mapping; False (after saying why) when the video has no frame. Raises OutputError
        when a file cannot be written."""
        from tfpose import io as _io
        from tfpose import outputs as _out

        ok = True
        if self.video is not None:
            video, self.video = self.video, None
            video.close()
        elif self.plan.video is not None:
            log(f"tfpose: no video written to {shown(self.plan.video)}: no frame was processed")
            ok = False
        if self.plan.coco is not None:
            _io.write_coco_json(self.plan.coco, self.coco_results)
            _out.write_text(_io.coco_mapping_name(self.plan.coco), self.coco_ids.mapping_json())
        return ok

    def abort(self) -> None:
        """After a write failure: remove the unfinished video's temporary file."""
        if self.video is not None:
            self.video.abort()
            self.video = None
