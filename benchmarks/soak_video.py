"""Memory soak: 500 frames of OpenPose's sample video through one Estimator, peak RSS logged every
100 frames. Flat memory = no leak per frame (no retracing, no growing caches, op buffers freed).

    python benchmarks/soak_video.py [--frames 500] [--model PATH] [--no-write]
"""

from __future__ import annotations

import argparse
import resource
import time

import _common as C


def rss_mb() -> float:
    """Current resident set size in MB (Linux /proc; falls back to peak RSS)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize() / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=500)
    ap.add_argument("--model", default=str(C.MODELS / "tfpose_mobilenet_thin_graph_opt.pb"))
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()

    import cv2

    import tfpose

    est = tfpose.Estimator(args.model)
    cap = cv2.VideoCapture(str(C.DATA / "images/openpose_media/video.avi"))
    rows, people, t0 = [], 0, time.perf_counter()
    for i in range(1, args.frames + 1):
        ok, frame = cap.read()
        if not ok:  # loop the 206-frame clip
            cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = cap.read()
        people += len(est.estimate(frame))
        if i == 1 or i % 100 == 0:
            rows.append(
                [
                    i,
                    round(rss_mb(), 1),
                    round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                    est._function.experimental_get_tracing_count(),
                ]
            )
            print(rows[-1], flush=True)
    cap.release()
    fps = args.frames / (time.perf_counter() - t0)
    body = (
        "## Memory over a long video (`benchmarks/soak_video.py`)\n\n"
        f"{args.frames} frames of `video.avi` (1280x720, looped), mobilenet_thin, one Estimator; "
        f"{people} people found, {fps:.1f} frames/s on {C.machine_line()} (shared with other jobs).\n\n"
        + C.markdown_table(["frames done", "RSS MB", "peak RSS MB", "graph traces"], rows)
    )
    print(body)
    if not args.no_write:
        C.write_section("soak_video", body)


if __name__ == "__main__":
    main()
