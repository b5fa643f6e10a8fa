// PoseTracker's per-frame arithmetic (tracking.hpp). Every expression follows the numpy formulation
// (tests/reference/numpy_tracking.py) operation by operation, so the results are the same bits.
#include "tfpose/tracking.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace tfpose {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kPi = 3.141592653589793;  // numpy.pi
// exp(-50) ~ 2e-22 is 0 for any sum here; the cap spares exp's slow underflow path (as the numpy code)
constexpr double kMaxExponent = 50.0;

// numpy's sum of n contiguous doubles (its pairwise summation: below 8 values one after the other,
// up to 128 in 8 interleaved accumulators added as a tree, then the remainder; longer runs halved at
// a multiple of 8), so that sums over the parts round as numpy's .sum(-1) does.
double numpy_sum(const double* a, int64_t n) {
  if (n < 8) {
    double res = 0.0;
    for (int64_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j];
    int64_t i = 8;
    for (; i < n - n % 8; i += 8)
      for (int j = 0; j < 8; ++j) r[j] += a[i + j];
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  int64_t n2 = n / 2;
  n2 -= n2 % 8;
  return numpy_sum(a, n2) + numpy_sum(a + n2, n - n2);
}

// Area (pixels^2) of the box around the parts of one pose that are flagged, at least 1 (part p's
// x, y at xy[stride * p], xy[stride * p + 1]).
template <typename Flag>
double box_area(const double* xy, int64_t stride, const Flag* flag, int64_t parts) {
  double lo[2] = {kInf, kInf}, hi[2] = {-kInf, -kInf};
  for (int64_t p = 0; p < parts; ++p) {
    if (!flag[p]) continue;
    for (int k = 0; k < 2; ++k) {
      lo[k] = std::min(lo[k], xy[stride * p + k]);
      hi[k] = std::max(hi[k], xy[stride * p + k]);
    }
  }
  double size[2];
  for (int k = 0; k < 2; ++k) {
    size[k] = hi[k] - lo[k];
    if (!std::isfinite(size[k])) size[k] = 0.0;  // no part: no extent
  }
  return std::max(size[0] * size[1], 1.0);
}

// The box around the flagged parts of one pose (part p's x, y at xy[stride * p], xy[stride * p + 1]):
// box = lo x, lo y, hi x, hi y; (inf, inf, -inf, -inf) when no part is flagged; NaN where a
// flagged coordinate is NaN.
template <typename Flag>
void parts_box(const double* xy, int64_t stride, const Flag* flag, int64_t parts, double* box) {
  box[0] = box[1] = kInf;
  box[2] = box[3] = -kInf;
  for (int64_t p = 0; p < parts; ++p) {
    if (!flag[p]) continue;
    for (int k = 0; k < 2; ++k) {
      const double v = xy[stride * p + k];
      if (v < box[k] || std::isnan(v)) box[k] = v;
      if (v > box[2 + k] || std::isnan(v)) box[2 + k] = v;
    }
  }
}

// The squared distance of two boxes (parts_box): at most the squared distance of any part in one to
// any part in the other as the core computes it (dx * dx + dy * dy: each rounding is monotone);
// inf when a box is empty, NaN when a box holds NaN (no early exit then).
double box_gap2(const double* a, const double* b) {
  double gap2 = 0.0;
  for (int k = 0; k < 2; ++k) {
    const double g1 = a[k] - b[2 + k], g2 = b[k] - a[2 + k];
    if (std::isnan(g1) || std::isnan(g2)) return std::numeric_limits<double>::quiet_NaN();
    const double g = std::max({g1, g2, 0.0});
    gap2 += g * g;
  }
  return gap2;
}

// Smoothing factor of an exponential filter with this cutoff (Hz) at sampling period te (s)
// (Casiez et al. 2012, eq. 4).
double alpha(double cutoff, double te) {
  const double tau = 1.0 / (2.0 * kPi * cutoff);
  return 1.0 / (1.0 + tau / te);
}

// The median displacement per frame of one coordinate over the parts seen before and now
// (values sorted in place; n >= 1): the middle value, or the mean of the middle two.
double median(std::vector<double>& v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return (v[(n - 1) / 2] + v[n / 2]) * 0.5;
}

// The scene's common motion (pixels per frame) in scene[2], 0 when the tracks share none: the
// median velocity, x and y apart, of the tracks with a measured velocity that were matched in the
// latest frame any of them was (their current motion), when at least a.min_tracks of them and at
// least the share a.min_share of them lie within a.tolerance pixels per frame of it.
void scene_velocity(const TrackState& s, const TrackSceneArgs& a, double* scene) {
  scene[0] = scene[1] = 0.0;
  bool wanted = false;  // (only a track without a velocity reads it: the usual frame has none)
  for (int64_t t = 0; t < s.tracks && !wanted; ++t) wanted = s.measured[t] == 0;
  if (!wanted) return;
  int64_t latest = -1;
  for (int64_t t = 0; t < s.tracks; ++t)
    if (s.measured[t] > 0) latest = std::max(latest, s.last[t]);
  std::vector<double> v[2];
  for (int64_t t = 0; t < s.tracks; ++t) {
    if (!(s.measured[t] > 0 && s.last[t] == latest)) continue;
    for (int k = 0; k < 2; ++k) v[k].push_back(s.vel[2 * t + k]);
  }
  const int64_t n = static_cast<int64_t>(v[0].size());
  if (n < std::max<int64_t>(a.min_tracks, 1)) return;
  std::vector<double> sorted[2] = {v[0], v[1]};
  const double m[2] = {median(sorted[0]), median(sorted[1])};
  int64_t agree = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double dx = v[0][i] - m[0], dy = v[1][i] - m[1];
    agree += dx * dx + dy * dy <= a.tolerance * a.tolerance;
  }
  if (agree < a.min_tracks || static_cast<double>(agree) < a.min_share * static_cast<double>(n)) return;
  scene[0] = m[0];
  scene[1] = m[1];
}

}  // namespace

void track_predict(const TrackState& s, const TrackPredictArgs& a, double* pred, bool* usable, int64_t* lost) {
  const int64_t P = s.parts;
  std::vector<double> steps(P);
  // a track without a velocity of its own (matched once) moves with the scene
  double scene[2];
  scene_velocity(s, a.scene, scene);
  for (int64_t t = 0; t < s.tracks; ++t) {
    const double* xy = s.xy + 2 * P * t;
    const int64_t* seen = s.seen + P * t;
    const double* vel = s.measured[t] > 0 ? s.vel + 2 * t : scene;
    int64_t count = 0;
    double centre[2] = {0.0, 0.0};
    for (int64_t p = 0; p < P; ++p) {
      usable[P * t + p] = seen[p] >= 0 && s.last[t] - seen[p] <= a.max_part_age;
      // frames since each part was seen, within [0, max_predict_frames]
      steps[p] = std::max(std::min(static_cast<double>(a.frame) - static_cast<double>(seen[p]),
                                   static_cast<double>(a.max_predict_frames)),
                          0.0);
      if (usable[P * t + p]) {
        ++count;
        centre[0] += xy[2 * p];
        centre[1] += xy[2 * p + 1];
      } else {
        centre[0] += 0.0;
        centre[1] += 0.0;
      }
    }
    if (a.image_h > 0) {
      // the prediction stops when the pose's centre reaches the image border (frames until it, per axis)
      const double n = static_cast<double>(std::max<int64_t>(count, 1));
      const double size[2] = {static_cast<double>(a.image_w), static_cast<double>(a.image_h)};
      double room[2];
      for (int k = 0; k < 2; ++k) {
        const double c = centre[k] / n;
        room[k] = vel[k] > 0 ? (size[k] - c) / vel[k] : vel[k] < 0 ? c / -vel[k] : kInf;
      }
      const double stop = static_cast<double>(s.last[t]) + std::max(std::min(room[0], room[1]), 0.0);
      for (int64_t p = 0; p < P; ++p) steps[p] = std::min(steps[p], std::max(stop - static_cast<double>(seen[p]), 0.0));
    }
    for (int64_t p = 0; p < P; ++p)
      for (int k = 0; k < 2; ++k) pred[2 * (P * t + p) + k] = xy[2 * p + k] + vel[k] * steps[p];
    lost[t] = a.frame - s.last[t];
  }
}

void track_similarity(const double* pred, const bool* usable, const int64_t* lost, int64_t tracks, const double* kps,
                      const bool* visible, int64_t people, int64_t parts, const double* sigmas,
                      double lost_scale_growth, double oks_threshold, const ExpInPlace& exp_inplace, double* sim) {
  const int64_t T = tracks, D = people, P = parts;
  std::vector<double> area_t(T), area_d(D), k2(P), arg(P);
  std::vector<int64_t> count_t(T, 0), count_d(D, 0);
  for (int64_t t = 0; t < T; ++t) {
    area_t[t] = box_area(pred + 2 * P * t, 2, usable + P * t, P);
    for (int64_t p = 0; p < P; ++p) count_t[t] += usable[P * t + p];
  }
  for (int64_t d = 0; d < D; ++d) {
    area_d[d] = box_area(kps + 3 * P * d, 3, visible + P * d, P);
    for (int64_t p = 0; p < P; ++p) count_d[d] += visible[P * d + p];
  }
  for (int64_t p = 0; p < P; ++p) k2[p] = (2.0 * sigmas[p]) * (2.0 * sigmas[p]);
  // Exponents -min(d^2 / (2 s^2 k^2), kMaxExponent) of the common parts. A pair whose common parts
  // are all capped (people far apart: most pairs of a crowd) scores exp(-kMaxExponent) on each;
  // the others keep their P exponents (0 where not common, masked after) for one exp call, led by
  // -kMaxExponent itself, so that every value is the exp's own.
  // An early exit, results unchanged: when the boxes of the two poses' parts are so far apart that
  // d^2 / (2 s^2 k^2) >= kMaxExponent for the largest k (with a relative margin of 1e-6, far above
  // the roundings; every rounding here is monotone), every common part is capped (NaN: no exit).
  double k2_max = 0.0;
  for (int64_t p = 0; p < P; ++p) k2_max = std::max(k2_max, k2[p]);
  std::vector<double> box_t(4 * T), box_d(4 * D);  // lo x, lo y, hi x, hi y
  for (int64_t t = 0; t < T; ++t) parts_box(pred + 2 * P * t, 2, usable + P * t, P, &box_t[4 * t]);
  for (int64_t d = 0; d < D; ++d) parts_box(kps + 3 * P * d, 3, visible + P * d, P, &box_d[4 * d]);
  std::vector<double> ex = {-kMaxExponent};
  std::vector<int64_t> near(T * D, -1);  // a near pair's first exponent in ex
  for (int64_t t = 0; t < T; ++t) {
    // a lost track's prediction is less certain: its scale grows with the frames lost
    const double growth = lost[t] > 1 ? 1.0 + lost_scale_growth * static_cast<double>(lost[t] - 1) : 1.0;
    for (int64_t d = 0; d < D; ++d) {
      double area = std::max(area_t[t], area_d[d]);
      if (lost[t] > 1) area = area * growth;
      if (box_gap2(&box_t[4 * t], &box_d[4 * d]) > (kMaxExponent * ((2.0 * area) * k2_max)) * (1.0 + 1e-6)) continue;
      bool capped = true;
      for (int64_t p = 0; p < P; ++p) {
        arg[p] = 0.0;
        if (!(usable[P * t + p] && visible[P * d + p])) continue;
        const double dx = pred[2 * (P * t + p)] - kps[3 * (P * d + p)];
        const double dy = pred[2 * (P * t + p) + 1] - kps[3 * (P * d + p) + 1];
        const double d2 = dx * dx + dy * dy;
        arg[p] = -std::min(d2 / ((2.0 * area) * k2[p]), kMaxExponent);
        capped = capped && arg[p] == -kMaxExponent;
      }
      if (capped) continue;
      near[D * t + d] = static_cast<int64_t>(ex.size());
      ex.insert(ex.end(), arg.begin(), arg.end());
    }
  }
  exp_inplace(ex.data(), static_cast<int64_t>(ex.size()));
  const double e_cap = ex[0];
  // A pair with every common part capped has a mean of at most e_cap (1 + P 2^-53) < 2 e_cap (0 with
  // no common part): below a threshold above 2 e_cap it may not match, whatever its sum.
  const bool capped_refused = oks_threshold > 2.0 * e_cap;
  std::vector<double> e(P);
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t d = 0; d < D; ++d) {
      const int64_t at = near[D * t + d];
      if (at < 0 && capped_refused) {
        sim[D * t + d] = -1.0;
        continue;
      }
      int64_t common = 0;
      for (int64_t p = 0; p < P; ++p) {
        const bool both = usable[P * t + p] && visible[P * d + p];
        common += both;
        e[p] = !both ? 0.0 : at < 0 ? e_cap : ex[at + p];
      }
      const double total = numpy_sum(e.data(), P);
      // the mean over the common parts gates; the sum over the larger part count ranks (tracker.py)
      const double gate = total / static_cast<double>(std::max<int64_t>(common, 1));
      const bool allowed = gate >= oks_threshold && count_d[d] > 0;
      const int64_t larger = std::max(count_t[t], count_d[d]);
      sim[D * t + d] = allowed ? total / static_cast<double>(std::max<int64_t>(larger, 1)) : -1.0;
    }
  }
}

void track_advance(const TrackState& s, const int64_t* rows, const int64_t* cols, const bool* still, int64_t n,
                   const double* kps, const bool* visible, int64_t frame, const TrackSceneArgs& sc,
                   const TrackSmoothArgs& a, float* out) {
  const int64_t P = s.parts;
  std::vector<double> moved[2];
  // the scene's velocity, from the state as the prediction saw it (before any track is updated)
  double scene[2];
  scene_velocity(s, sc, scene);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t r = rows[i], c = cols[i];
    const double* x = kps + 3 * P * c;
    const bool* vis = visible + P * c;
    double* txy = s.xy + 2 * P * r;
    int64_t* seen = s.seen + P * r;
    // velocity: the median displacement per frame of the parts seen before and now, x and y apart
    moved[0].clear();
    moved[1].clear();
    for (int64_t p = 0; p < P; ++p) {
      if (!(vis[p] && seen[p] >= 0)) continue;
      const double gap = static_cast<double>(std::max<int64_t>(frame - seen[p], 1));
      for (int k = 0; k < 2; ++k) moved[k].push_back((x[3 * p + k] - txy[2 * p + k]) / gap);
    }
    // averaged with the velocity the track was predicted with: its own, or for a track without one
    // the scene's, unless it matched standing still (still[i]) or the scene shares no motion (0)
    static const double kStill[2] = {0.0, 0.0};
    if (!moved[0].empty()) {
      const double* prior = s.measured[r] > 0 ? s.vel + 2 * r : still[i] ? kStill : scene;
      for (int k = 0; k < 2; ++k) s.vel[2 * r + k] = (prior[k] + median(moved[k])) * 0.5;
      ++s.measured[r];
    }
    // the track takes the person's found parts
    for (int64_t p = 0; p < P; ++p) {
      if (!vis[p]) continue;
      txy[2 * p] = x[3 * p];
      txy[2 * p + 1] = x[3 * p + 1];
      seen[p] = frame;
    }
    s.last[r] = frame;
    if (!a.smooth) continue;
    // One-Euro step per found part (Casiez et al. 2012, eqs. 3-5); a part not found keeps no state
    for (int64_t p = 0; p < P; ++p) {
      double* f = s.filt + kTrackFilterState * (P * r + p);
      float* o = out + 3 * (P * i + p);
      const bool old = f[5] > 0 && vis[p];
      const double te = old ? std::max(a.time - f[4], 1e-6) : 1.0;
      for (int k = 0; k < 2; ++k) {
        double value = x[3 * p + k];
        if (old) {
          const double delta = value - f[k];
          const double dx_hat = f[2 + k] + alpha(a.d_cutoff, te) * (delta / te - f[2 + k]);
          const double cutoff = a.min_cutoff + a.beta * std::abs(dx_hat);
          value = f[k] + alpha(cutoff, te) * delta;
          f[2 + k] = dx_hat;
        } else {
          f[2 + k] = 0.0;
        }
        if (vis[p]) f[k] = value;
        o[k] = static_cast<float>(value);
      }
      o[2] = static_cast<float>(x[3 * p + 2]);
      if (vis[p]) f[4] = a.time;
      f[5] = vis[p] ? 1.0 : 0.0;
    }
  }
}

}  // namespace tfpose

namespace tfpose {

void track_common_shift(const double* pred, const bool* usable, int64_t tracks, const double* kps, const bool* visible,
                        int64_t people, int64_t parts, const TrackShiftArgs& a, double* shift) {
  const int64_t T = tracks, D = people, P = parts;
  shift[0] = shift[1] = 0.0;
  if (T < 2 || D < 2) return;
  // each pair's vote: the mean displacement of its common parts, if it has min_parts of them (else inf)
  std::vector<double> med(2 * T * D, kInf), dxs(P), dys(P);
  std::vector<bool> votes(T, false);
  int64_t voters = 0;
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t d = 0; d < D; ++d) {
      int64_t cnt = 0;
      for (int64_t p = 0; p < P; ++p) {
        const bool common = usable[P * t + p] && visible[P * d + p];
        cnt += common;
        dxs[p] = common ? kps[3 * (P * d + p)] - pred[2 * (P * t + p)] : 0.0;
        dys[p] = common ? kps[3 * (P * d + p) + 1] - pred[2 * (P * t + p) + 1] : 0.0;
      }
      if (cnt < a.min_parts) continue;
      votes[t] = true;
      const double c = static_cast<double>(cnt);
      med[2 * (D * t + d)] = numpy_sum(dxs.data(), P) / c;
      med[2 * (D * t + d) + 1] = numpy_sum(dys.data(), P) / c;
    }
    voters += votes[t];
  }
  if (voters < 2) return;
  std::vector<double> norm(T * D), radius(T);
  for (int64_t i = 0; i < T * D; ++i) norm[i] = std::hypot(med[2 * i], med[2 * i + 1]);  // inf where no vote
  std::vector<int64_t> t_best(T, 0), d_best(D, 0);  // each track's and person's nearest pair (first)
  int64_t close = 0;
  for (int64_t t = 0; t < T; ++t) {
    radius[t] = std::max(a.radius * std::sqrt(box_area(pred + 2 * P * t, 2, usable + P * t, P)), a.min_radius);
    for (int64_t d = 1; d < D; ++d)
      if (norm[D * t + d] < norm[D * t + t_best[t]]) t_best[t] = d;
    close += norm[D * t + t_best[t]] <= radius[t];
  }
  if (close == voters) return;  // every voting track has a person where its own velocity puts it
  for (int64_t d = 0; d < D; ++d)
    for (int64_t t = 1; t < T; ++t)
      if (norm[D * t + d] < norm[D * d_best[d] + d]) d_best[d] = t;
  std::vector<double> cand = {0.0, 0.0};
  for (int64_t t = 0; t < T; ++t) {
    const int64_t i = D * t + t_best[t];
    if (std::isfinite(norm[i])) cand.insert(cand.end(), {med[2 * i], med[2 * i + 1]});
  }
  for (int64_t d = 0; d < D; ++d) {
    const int64_t i = D * d_best[d] + d;
    if (std::isfinite(norm[i])) cand.insert(cand.end(), {med[2 * i], med[2 * i + 1]});
  }
  int64_t C = static_cast<int64_t>(cand.size()) / 2;
  if (C > a.max_candidates) {  // evenly spaced (numpy.linspace(0, C - 1, max_candidates), rounded half to even)
    const double step = static_cast<double>(C - 1) / static_cast<double>(a.max_candidates - 1);
    std::vector<double> kept;
    for (int64_t k = 0; k < a.max_candidates; ++k) {
      const int64_t i = k == a.max_candidates - 1 ? C - 1 : static_cast<int64_t>(std::nearbyint(k * step + 0.0));
      kept.insert(kept.end(), {cand[2 * i], cand[2 * i + 1]});
    }
    cand.swap(kept);
    C = a.max_candidates;
  }
  // support of each candidate: the tracks with a pair within their radius of it
  std::vector<int64_t> support(C, 0);
  std::vector<double> dist(T * D);
  int64_t best = 0;
  for (int64_t k = 0; k < C; ++k) {
    for (int64_t t = 0; t < T; ++t) {
      double nearest = kInf;
      for (int64_t d = 0; d < D; ++d) {
        const double h = std::hypot(med[2 * (D * t + d)] - cand[2 * k], med[2 * (D * t + d) + 1] - cand[2 * k + 1]);
        nearest = std::min(nearest, std::isfinite(h) ? h : kInf);
      }
      support[k] += nearest <= radius[t];
    }
    if (support[k] > support[best]) best = k;
  }
  const int64_t s = support[best];
  if (s < 2 || 2 * s <= voters || s <= support[0]) return;
  // the mean of the supporters' pairs nearest to the best candidate
  double sum[2] = {0.0, 0.0};
  for (int64_t t = 0; t < T; ++t) {
    int64_t arg = 0;
    double nearest = kInf;
    for (int64_t d = 0; d < D; ++d) {
      double h = std::hypot(med[2 * (D * t + d)] - cand[2 * best], med[2 * (D * t + d) + 1] - cand[2 * best + 1]);
      if (!std::isfinite(h)) h = kInf;
      if (d == 0 || h < nearest) nearest = h, arg = d;
    }
    if (!(nearest <= radius[t])) continue;
    sum[0] += med[2 * (D * t + arg)];
    sum[1] += med[2 * (D * t + arg) + 1];
  }
  shift[0] = sum[0] / static_cast<double>(s);
  shift[1] = sum[1] / static_cast<double>(s);
}

int64_t track_fragments(const double* kps, const bool* visible, int64_t people, int64_t parts, const int64_t* rows,
                        const int64_t* cols, int64_t n, const double* pred, const bool* usable, int64_t tracks,
                        const double* sigmas, double part_oks, const ExpInPlace& exp_inplace, int64_t* frag,
                        int64_t* owner) {
  (void)tracks;  // (pred and usable are read at the matched rows only)
  const int64_t D = people, P = parts;
  // each person as an owner: its parts found now, else (a matched person) its track's predicted ones;
  // parts not found are 0 (masked below)
  std::vector<double> xy(2 * D * P), ref(2 * D * P);
  std::vector<uint8_t> ref_vis(visible, visible + D * P);
  std::vector<bool> matched(D, false);
  for (int64_t i = 0; i < D * P; ++i)
    for (int k = 0; k < 2; ++k) xy[2 * i + k] = ref[2 * i + k] = visible[i] ? kps[3 * i + k] : 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = cols[i], r = rows[i];
    matched[c] = true;
    for (int64_t p = 0; p < P; ++p) {
      if (visible[P * c + p] || !usable[P * r + p]) continue;
      ref[2 * (P * c + p)] = pred[2 * (P * r + p)];
      ref[2 * (P * c + p) + 1] = pred[2 * (P * r + p) + 1];
      ref_vis[P * c + p] = true;
    }
  }
  std::vector<double> area(D), k2(P);
  std::vector<int64_t> n_parts(D, 0);
  for (int64_t o = 0; o < D; ++o) {
    area[o] = box_area(ref.data() + 2 * P * o, 2, ref_vis.data() + P * o, P);
    for (int64_t p = 0; p < P; ++p) n_parts[o] += visible[P * o + p];
  }
  double k2_max = 0.0;
  for (int64_t p = 0; p < P; ++p) k2_max = std::max(k2_max, k2[p] = (2.0 * sigmas[p]) * (2.0 * sigmas[p]));
  // Early exits, results unchanged: only a pair (u, o) whose owner o has more parts can make a
  // fragment, and a part of u within reach of o's needs exp(-d^2 / (2 area k^2)) >= part_oks, i.e.
  // d^2 <= 2 area k^2 ln(1 / part_oks): when the boxes of u's parts and o's are further apart than
  // that for the largest k (with a relative margin of 1e-6, far above the roundings), no part is.
  // (Only for part_oks in [1e-20, 0.999]: below, exp's cap exp(-kMaxExponent) may reach it; above,
  // the margin would be below exp's rounding.)
  const bool far_exit = part_oks >= 1e-20 && part_oks <= 0.999;
  const double reach_log = far_exit ? -std::log(part_oks) : 0.0;
  std::vector<double> box_u(4 * D), box_o(4 * D);  // the found parts' box, the owner parts' box
  for (int64_t i = 0; i < D; ++i) {
    parts_box(xy.data() + 2 * P * i, 2, visible + P * i, P, &box_u[4 * i]);
    parts_box(ref.data() + 2 * P * i, 2, ref_vis.data() + P * i, P, &box_o[4 * i]);
  }
  const auto out_of_reach = [&](int64_t u, int64_t o) {  // (false for NaN: no exit)
    return box_gap2(&box_u[4 * u], &box_o[4 * o]) > ((2.0 * area[o]) * k2_max * reach_log) * (1.0 + 1e-6);
  };
  // COCO per-keypoint similarity of each person's found parts with every owner's parts: exponents
  // capped at kMaxExponent all score exp(-kMaxExponent) (ex[0]); the others go through one exp call
  std::vector<double> ex = {-kMaxExponent};
  std::vector<int64_t> pair_of, capped(D * D, 0);
  bool any_pair = false;
  for (int64_t u = 0; u < D; ++u)
    for (int64_t o = 0; o < D; ++o) {
      if (n_parts[o] <= n_parts[u] || (far_exit && out_of_reach(u, o))) continue;  // (reach stays 0: no fragment)
      any_pair = true;
      for (int64_t p = 0; p < P; ++p) {
        if (!(visible[P * u + p] && ref_vis[P * o + p])) continue;
        const double dx = xy[2 * (P * u + p)] - ref[2 * (P * o + p)];
        const double dy = xy[2 * (P * u + p) + 1] - ref[2 * (P * o + p) + 1];
        const double arg = -std::min((dx * dx + dy * dy) / ((2.0 * area[o]) * k2[p]), kMaxExponent);
        if (arg == -kMaxExponent) {
          ++capped[D * u + o];
        } else {
          ex.push_back(arg);
          pair_of.push_back(D * u + o);
        }
      }
    }
  if (!any_pair) return 0;  // every reach 0: no fragment (and no exp call)
  exp_inplace(ex.data(), static_cast<int64_t>(ex.size()));
  std::vector<int64_t> reach(D * D, 0);
  if (ex[0] >= part_oks) reach = capped;
  for (size_t k = 0; k < pair_of.size(); ++k) reach[pair_of[k]] += ex[k + 1] >= part_oks;
  std::vector<bool> cand(D * D, false), has(D, false);
  for (int64_t u = 0; u < D; ++u)
    for (int64_t o = 0; o < D; ++o) {
      // a fragment: fewer parts than its owner, most of them within reach of the owner's
      cand[D * u + o] = u != o && n_parts[o] > n_parts[u] && 2 * reach[D * u + o] > n_parts[u];
      if (cand[D * u + o]) has[u] = true;
    }
  std::vector<int64_t> order;
  for (int64_t u = 0; u < D; ++u)
    if (has[u]) order.push_back(u);
  if (order.empty()) return 0;
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return n_parts[a] > n_parts[b]; });
  std::vector<bool> can_own(D);
  for (int64_t o = 0; o < D; ++o) can_own[o] = matched[o] || !has[o];
  int64_t found = 0;
  for (int64_t u : order) {
    int64_t best = -1;
    for (int64_t o = 0; o < D; ++o) {
      const bool ok = cand[D * u + o] && can_own[o] && (!matched[u] || matched[o]);
      if (ok && (best < 0 || reach[D * u + o] > reach[D * u + best])) best = o;
    }
    if (best >= 0) {
      frag[found] = u;
      owner[found++] = best;
      can_own[u] = false;
    } else if (!matched[u]) {
      can_own[u] = true;  // it starts a track: it can own smaller fragments
    }
  }
  return found;
}

bool track_assign_determined(const double* sim, int64_t tracks, int64_t people, bool greedy_order, int64_t* rows,
                             int64_t* cols, int64_t* n) {
  const int64_t T = tracks, D = people;
  const bool by_track = T <= D;  // the smaller side's lines choose (tracks when as many)
  const int64_t lines = by_track ? T : D, others = by_track ? D : T;
  std::vector<uint8_t> taken(others, 0);
  std::vector<int64_t> best_of(lines, -1);
  bool unmatched_line = false, any_allowed = false;
  for (int64_t i = 0; i < lines; ++i) {
    int64_t best = -1;
    double least = 0.0;
    bool tie = false;
    for (int64_t j = 0; j < others; ++j) {
      const double s = by_track ? sim[D * i + j] : sim[D * j + i];
      if (!(s >= 0.0)) continue;    // not allowed (NaN neither)
      const double cost = 1.0 - s;  // the solver's cost (assignment.py)
      if (best < 0 || cost < least) {
        best = j, least = cost, tie = false;
      } else if (cost == least) {
        tie = true;
      }
    }
    if (best < 0) {
      unmatched_line = true;
      continue;
    }
    any_allowed = true;
    if (tie || taken[best]) return false;
    taken[best] = 1;
    best_of[i] = best;
  }
  if (unmatched_line && any_allowed) return false;  // a line without a pair: the solver decides
  int64_t k = 0;
  if (any_allowed) {
    for (int64_t i = 0; i < lines; ++i) {
      rows[k] = by_track ? i : best_of[i];
      cols[k++] = by_track ? best_of[i] : i;
    }
  }
  *n = k;
  std::vector<int64_t> order(k);
  for (int64_t i = 0; i < k; ++i) order[i] = i;
  if (greedy_order) {  // decreasing similarity, ties in track order (greedy scans row-major)
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      const double sa = sim[D * rows[a] + cols[a]], sb = sim[D * rows[b] + cols[b]];
      return sa > sb || (sa == sb && rows[a] < rows[b]);
    });
  } else if (!by_track) {  // tracks ascending
    std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return rows[a] < rows[b]; });
  }
  std::vector<int64_t> r(rows, rows + k), c(cols, cols + k);
  for (int64_t i = 0; i < k; ++i) rows[i] = r[order[i]], cols[i] = c[order[i]];
  return true;
}

}  // namespace tfpose
