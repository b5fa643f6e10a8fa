"""Independent numpy references for hand/face boxes (docs/algorithms/hand-face.md §2.1, §3) and
top-down decoding (maximum + "none" / "quarter" / "dark" refinement + affine). Written from the spec and
the papers, in float32 where OpenPose computes in float32; slow loops on purpose."""

from __future__ import annotations

import numpy as np

f32 = np.float32

# part indices per model: (LWrist, LElbow, LShoulder, RWrist, RElbow, RShoulder)
ARMS = {
    "COCO_18": (7, 6, 5, 4, 3, 2),
    "BODY_25": (7, 6, 5, 4, 3, 2),
    "MPI_15": (7, 6, 5, 4, 3, 2),
    "MPI_15_4": (7, 6, 5, 4, 3, 2),
}
# (Neck, Nose, LEye, REye, LEar, REar); MPI: Head (0) for all face parts
FACE = {
    "COCO_18": (1, 0, 15, 14, 17, 16),
    "BODY_25": (1, 0, 16, 15, 18, 17),
    "MPI_15": (1, 0, 0, 0, 0, 0),
    "MPI_15_4": (1, 0, 0, 0, 0, 0),
}


def _dist(k, a, b):
    dx = f32(k[a, 0]) - f32(k[b, 0])
    dy = f32(k[a, 1]) - f32(k[b, 1])
    return f32(np.sqrt(f32(dx * dx + dy * dy)))


def _ok(k, p, t):
    return bool(k[p, 2] > f32(t)) and np.isfinite(k[p, 0]) and np.isfinite(k[p, 1])


def hand_boxes_ref(keypoints, model):
    k_all = np.asarray(keypoints, np.float32)
    lead = k_all.shape[:-2]
    flat = k_all.reshape((-1,) + k_all.shape[-2:])
    out = np.zeros((len(flat), 2, 4), np.float32)
    arms = ARMS[model]
    for r, k in enumerate(flat):
        for side, (w, e, s) in enumerate((arms[:3], arms[3:])):
            if not (_ok(k, w, 0.03) and _ok(k, e, 0.03) and _ok(k, s, 0.03)):
                continue
            cx = f32(k[w, 0] + f32(f32(0.33) * f32(k[w, 0] - k[e, 0])))
            cy = f32(k[w, 1] + f32(f32(0.33) * f32(k[w, 1] - k[e, 1])))
            side_len = f32(f32(1.5) * max(_dist(k, w, e), f32(f32(0.9) * _dist(k, e, s))))
            half = f32(side_len / f32(2))
            out[r, side] = (cx - half, cy - half, side_len, side_len)
    return out.reshape(lead + (2, 4))


def face_boxes_ref(keypoints, model):
    k_all = np.asarray(keypoints, np.float32)
    lead = k_all.shape[:-2]
    flat = k_all.reshape((-1,) + k_all.shape[-2:])
    out = np.zeros((len(flat), 4), np.float32)
    neck, nose, leye, reye, lear, rear = FACE[model]
    t = 0.25
    for r, k in enumerate(flat):
        c = np.zeros(2, np.float32)
        s = f32(0)
        n = 0
        if model.startswith("MPI"):
            if _ok(k, neck, t) and _ok(k, nose, t):
                c = k[nose, :2].astype(np.float32)
                s = f32(f32(1.33) * _dist(k, neck, nose))
        else:
            ok = {p: _ok(k, p, t) for p in (leye, reye, lear, rear)}
            if _ok(k, neck, t) and _ok(k, nose, t):
                if ok[leye] == ok[lear] and ok[reye] == ok[rear] and ok[leye] != ok[reye]:
                    y, a = (leye, lear) if ok[leye] else (reye, rear)
                    c = c + (k[y, :2] + k[a, :2] + k[nose, :2]).astype(np.float32) / f32(3)
                    s = f32(s + f32(0.85) * f32(_dist(k, nose, y) + _dist(k, nose, a) + _dist(k, neck, nose)))
                else:
                    c = c + (k[neck, :2] + k[nose, :2]).astype(np.float32) / f32(2)
                    s = f32(s + f32(2) * _dist(k, neck, nose))
                n += 1
            if ok[leye] and ok[reye]:
                c = c + (k[leye, :2] + k[reye, :2]).astype(np.float32) / f32(2)
                s = f32(s + f32(3) * _dist(k, leye, reye))
                n += 1
            if ok[lear] and ok[rear]:
                c = c + (k[lear, :2] + k[rear, :2]).astype(np.float32) / f32(2)
                s = f32(s + f32(2) * _dist(k, lear, rear))
                n += 1
            if n:
                c = (c / f32(n)).astype(np.float32)
                s = f32(s / f32(n))
        half = f32(s / f32(2))
        out[r] = (c[0] - half, c[1] - half, s, s)
    return out.reshape(lead + (4,))


def _dark(hm, x, y, kernel):
    """DARK (Zhang et al. 2020) as its authors' get_final_preds does it: zero-pad, cv2.GaussianBlur,
    rescale to the original maximum, clamp at 1e-10, log, Taylor step at the argmax."""
    import cv2

    h, w = hm.shape
    if not (1 < x < w - 2 and 1 < y < h - 2):
        return float(x), float(y)
    b = (kernel - 1) // 2
    pad = np.zeros((h + 2 * b, w + 2 * b), np.float64)
    pad[b:-b, b:-b] = hm
    sigma = 0.3 * ((kernel - 1) * 0.5 - 1) + 0.8
    blur = cv2.GaussianBlur(pad, (kernel, kernel), sigma)[b:-b, b:-b]
    blur = blur * (hm.max() / blur.max())
    lg = np.log(np.maximum(blur, 1e-10))
    dx = 0.5 * (lg[y, x + 1] - lg[y, x - 1])
    dy = 0.5 * (lg[y + 1, x] - lg[y - 1, x])
    dxx = 0.25 * (lg[y, x + 2] - 2 * lg[y, x] + lg[y, x - 2])
    dxy = 0.25 * (lg[y + 1, x + 1] - lg[y - 1, x + 1] - lg[y + 1, x - 1] + lg[y - 1, x - 1])
    dyy = 0.25 * (lg[y + 2, x] - 2 * lg[y, x] + lg[y - 2, x])
    hess = np.array([[dxx, dxy], [dxy, dyy]])
    if dxx * dyy - dxy**2 == 0:
        return float(x), float(y)
    off = -np.linalg.inv(hess) @ np.array([dx, dy])
    return x + off[0], y + off[1]


def topdown_decode_ref(heatmaps, transforms=None, refinement="none", dark_kernel=11):
    hm = np.asarray(heatmaps, np.float32)
    n, h, w, c = hm.shape
    out = np.zeros((n, c, 3), np.float32)
    for i in range(n):
        for ch in range(c):
            m = hm[i, :, :, ch]
            k = int(np.argmax(m.reshape(-1)))
            y, x = divmod(k, w)
            fx, fy = float(x), float(y)
            if refinement == "quarter":
                if 0 < x < w - 1:
                    fx += 0.25 * np.sign(m[y, x + 1] - m[y, x - 1])
                if 0 < y < h - 1:
                    fy += 0.25 * np.sign(m[y + 1, x] - m[y - 1, x])
            elif refinement == "dark":
                fx, fy = _dark(m.astype(np.float64), x, y, dark_kernel)
            if transforms is not None:
                a = np.asarray(transforms, np.float64)[i]
                fx, fy = a[0, 0] * fx + a[0, 1] * fy + a[0, 2], a[1, 0] * fx + a[1, 1] * fy + a[1, 2]
            out[i, ch] = (fx, fy, m[y, x])
    return out


def crop_ref(image, matrix, n):
    """Float bilinear sample of a uint8 image [H, W, 3] at matrix . (j, i, 1) for the n x n crop pixels,
    OpenCV's convention (pixel centres at integers), taps outside the image read 0, rounded to the
    nearest integer: what cv2.warpAffine(INTER_LINEAR | WARP_INVERSE_MAP, BORDER_CONSTANT 0) computes
    up to its fixed-point arithmetic."""
    img = np.asarray(image, np.float64)
    h, w = img.shape[:2]
    m = np.asarray(matrix, np.float64)
    jj, ii = np.meshgrid(np.arange(n), np.arange(n))
    x = m[0, 0] * jj + m[0, 1] * ii + m[0, 2]
    y = m[1, 0] * jj + m[1, 1] * ii + m[1, 2]
    x0, y0 = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
    fx, fy = x - x0, y - y0
    out = np.zeros((n, n, 3))
    for dy, wy in ((0, 1 - fy), (1, fy)):
        for dx, wx in ((0, 1 - fx), (1, fx)):
            yy, xx = y0 + dy, x0 + dx
            ok = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
            px = img[np.clip(yy, 0, h - 1), np.clip(xx, 0, w - 1)]
            out += np.where(ok[..., None], px * (wy * wx)[..., None], 0.0)
    return np.clip(np.round(out), 0, 255)
