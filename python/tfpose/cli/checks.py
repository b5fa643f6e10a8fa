"""Every option of ``tfpose estimate`` checked before any work, with the same checks and messages as
the Python API (:func:`tfpose.options.check_estimator_options`), and the output options that need
the pose model. A problem is a :class:`tfpose.app.checks.Stop` (exit status 2).
"""

from __future__ import annotations

import argparse

from tfpose.app.arguments import body_options, hand_face_options
from tfpose.app.checks import Stop

__all__ = ["check_options", "check_pose_model_outputs"]


def check_options(args: argparse.Namespace) -> None:
    """Check every option of ``tfpose estimate`` (a namespace of :func:`tfpose.cli.build_parser`) and
    fill in those that depend on others (--coco-pixel-convention from --accuracy, the normalised
    --write-images-format). Raises Stop with the Python API's message (the option, what was expected,
    what came)."""

    from tfpose import _args, options, precision

    try:
        batch_size = options.DEFAULT_BATCH_SIZE if args.batch_size is None else args.batch_size
        options.check_estimator_options(
            batch_size=batch_size,
            keypoint_scale=args.keypoint_scale,
            number_people_max=args.number_people_max,
            **body_options(args),
        )
        if args.coco_pixel_convention is None:
            args.coco_pixel_convention = options.accuracy_settings(args.accuracy)["coco_pixel_convention"]
        hand_face = hand_face_options(args)
        from tfpose.litert import is_tflite

        # The TensorFlow path's checks, which need TensorFlow; a .tflite network's hand and
        # precision options are checked by tfpose.cli.run.check_tflite_options and LiteRT instead.
        if not is_tflite(args.model):
            from tfpose import whole_body

            whole_body.hand_scales(hand_face["hand_scale_number"], hand_face["hand_scale_range"])
            precision.check_precision(args.precision)
        _args.check_threshold(args.render_threshold, "render_threshold")
        from tfpose.sources import check_frame_range

        check_frame_range(args.frame_first, args.frame_step, args.frame_last)
        if args.camera is not None and args.camera < 0:
            raise ValueError(f"camera: expected an index >= 0, got {args.camera}")
        if not args.stream_timeout > 0:
            raise ValueError(f"stream_timeout: expected seconds > 0, got {args.stream_timeout}")
    except (ValueError, TypeError) as exc:
        raise Stop(str(exc)) from None
    fmt = args.write_images_format.lower().lstrip(".")
    from tfpose.outputs import encodes_image

    if not fmt or not encodes_image(fmt):
        raise Stop(
            f"--write-images-format: expected an image format OpenCV writes (png, jpg, bmp, ...), "
            f"got {args.write_images_format!r}"
        )
    args.write_images_format = fmt
    if args.write_video_fps is not None:
        import math

        if not (math.isfinite(args.write_video_fps) and 0 < args.write_video_fps <= 1000):
            raise Stop(f"--write-video-fps: expected frames per second in (0, 1000], got {args.write_video_fps:g}")
        if not args.write_video:
            raise Stop("--write-video-fps sets the frame rate of --write-video; expected --write-video too")
    if args.part_candidates and not args.write_json:
        raise Stop("--part-candidates adds the part_candidates field to the JSON files; expected --write-json too")
    if args.pose_model is not None:
        check_pose_model_outputs(args, args.pose_model)


def check_pose_model_outputs(args: argparse.Namespace, pose_model: str) -> None:
    """Outputs that need parts a pose model may lack: COCO JSON (COCO's 17) and ControlNet drawings
    (COCO_18's 18). Checked up front when --pose-model is given, else right after the model loads.
    Raises Stop naming the option and the missing parts."""
    from tfpose import io as _io
    from tfpose import models

    if args.write_coco_json:
        try:
            _io.coco_keypoint_order(pose_model)
        except ValueError as exc:
            raise Stop(f"--write-coco-json: {exc}") from None
    if args.render_style == "controlnet" and (args.write_images or args.write_video):
        missing = set(models.get("COCO_18").part_names) - set(models.get(pose_model).part_names)
        if missing:
            raise Stop(
                f"--render-style controlnet draws COCO_18's parts; pose model {pose_model} lacks {sorted(missing)}"
            )
