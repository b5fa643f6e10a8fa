// The per-frame arithmetic of tfpose.PoseTracker (python/tfpose/tracking; the method: its class
// docstring and docs/tracking.md) on the tracker's own float64 arrays, so a frame costs a few
// compiled calls instead of ~150 numpy calls. Python keeps the API, the argument checks, the
// constants (passed in) and the assignment (scipy).
//
// Results are bit-identical to the tracker's numpy formulation (tests/reference/numpy_tracking.py):
// every expression keeps numpy's operation order and roundings (the core is compiled with
// -ffp-contract=off: no fused multiply-adds), sums over the parts follow numpy's pairwise order
// (8 accumulators), and the exponential is a parameter: the numpy binding passes numpy's own exp
// (its SIMD exp differs from libm's in the last bit of ~5 % of the values).
//
// Sources: COCO's per-keypoint similarity (cocoapi PythonAPI/pycocotools/cocoeval.py computeOks;
// Ronchi & Perona, ICCV 2017); the One-Euro filter of Casiez, Roussel and Vogel (CHI 2012, eqs. 3-5).
#pragma once

#include <cstdint>
#include <functional>

namespace tfpose {

// Replaces v[0 .. n) by exp(v[i]).
using ExpInPlace = std::function<void(double* v, int64_t n)>;

// The tracker's state, T tracks of P parts, row-major arrays owned by the caller: last position of
// each part xy [T, P, 2] (pixels), frame each part was last seen [T, P] (-1 never), frame of the
// last match [T], velocity [T, 2] (pixels per frame), velocity measurements so far [T] (0: the
// track has no velocity of its own yet), One-Euro state [T, P, kTrackFilterState]
// (filtered x, y; filtered derivative dx, dy in pixels/s; time of the last value in s; 1 where valid).
constexpr int kTrackFilterState = 6;
struct TrackState {
  int64_t tracks = 0, parts = 0;
  double* xy = nullptr;
  int64_t* seen = nullptr;
  int64_t* last = nullptr;
  double* vel = nullptr;
  int64_t* measured = nullptr;
  double* filt = nullptr;
};

// The scene's motion (tfpose.tracking.motion's SCENE_* constants): at least min_tracks tracks with a
// velocity, and the share min_share of them, must lie within tolerance pixels per frame of it.
struct TrackSceneArgs {
  int64_t min_tracks = 0;
  double min_share = 0;
  double tolerance = 0;
};

struct TrackPredictArgs {
  int64_t frame = 0;                 // the current frame number
  int64_t max_part_age = 0;          // a part seen at most this many frames before the last match is usable
  int64_t max_predict_frames = 0;    // frames a part keeps moving at the track's velocity
  int64_t image_h = 0, image_w = 0;  // the frame's size; 0: unknown (the prediction is not stopped at the border)
  TrackSceneArgs scene;              // for the tracks without a velocity of their own
};

// Step 1 of PoseTracker: each track's predicted part positions pred [T, P, 2] (last position +
// velocity x frames since the part was seen, within [0, max_predict_frames], stopped when the
// centre of the usable parts reaches the image border), usable [T, P] (seen at most max_part_age
// frames before the track's last match) and lost [T] (frames since the last match). A track without
// a measured velocity moves at the scene's: the median velocity (x and y apart) of the tracks with
// one matched in the latest frame any of them was, when at least scene.min_tracks of them and the
// share scene.min_share lie within scene.tolerance of it; else 0 (tfpose.tracking.motion has the
// reasons).
void track_predict(const TrackState& s, const TrackPredictArgs& a, double* pred, bool* usable, int64_t* lost);

// Step 2 of PoseTracker: similarity sim [T, D] of the tracks (pred, usable, lost as above) with the
// people of the frame kps [D, P, 3] (x, y, score), visible [D, P]: the sum over the parts both have of COCO's
// per-keypoint similarity exp(-d^2 / (2 s^2 k^2)), k = 2 sigma (sigmas [P]), s^2 the larger of the
// two keypoint-box areas (at least 1 pixel^2) times 1 + lost_scale_growth x (lost - 1) for a lost
// track; -1 where the mean over the common parts is below oks_threshold or the person has no part,
// else the sum divided by the larger part count of the two.
void track_similarity(const double* pred, const bool* usable, const int64_t* lost, int64_t tracks, const double* kps,
                      const bool* visible, int64_t people, int64_t parts, const double* sigmas,
                      double lost_scale_growth, double oks_threshold, const ExpInPlace& exp_inplace, double* sim);

struct TrackSmoothArgs {
  bool smooth = false;
  double time = 0;  // the frame's time, s
  double min_cutoff = 1, beta = 0, d_cutoff = 1;
};

// Step 5 of PoseTracker for the n pairs (rows[i] a track, cols[i] a person of kps [D, P, 3],
// visible [D, P]; rows distinct): the velocity (median over the parts seen before and now of the
// displacement per frame, x and y apart, averaged with the velocity the track was predicted with:
// its own, or for a track without one the scene's (scene as in track_predict, from the state
// before this call), 0 where still[i] (the pair matched the track's standing-still prediction);
// unchanged without such a part; measured counts the measurements), then
// the track takes the person's found parts (seen = frame, last = frame), then, if smoothing, one
// One-Euro step per found part (a part not found keeps no filter state) writing the person's
// keypoints to out [n, P, 3] float32 (found parts filtered, the rest as they came).
void track_advance(const TrackState& s, const int64_t* rows, const int64_t* cols, const bool* still, int64_t n,
                   const double* kps, const bool* visible, int64_t frame, const TrackSceneArgs& sc,
                   const TrackSmoothArgs& a, float* out);

struct TrackShiftArgs {
  int64_t min_parts = 3;        // common parts a track-person pair needs to vote
  int64_t max_candidates = 33;  // candidate shifts kept (evenly spaced), no shift included
  double radius = 0.15;         // support radius, fraction of the track's scale (sqrt of its box area)
  double min_radius = 3.0;      // ... at least this many pixels
};

// The displacement shift [2] (pixels) that most tracks share this frame beyond their own velocity
// (a camera pan or shake), 0 when none: tfpose.tracking.motion.common_shift (its docstring has
// the rule) for the tracks' predictions pred [T, P, 2], usable [T, P] and the people kps [D, P, 3],
// visible [D, P]. Hypotenuses by std::hypot (libm's, as numpy's).
void track_common_shift(const double* pred, const bool* usable, int64_t tracks, const double* kps, const bool* visible,
                        int64_t people, int64_t parts, const TrackShiftArgs& a, double* shift);

// Fragments of this frame: tfpose.tracking.fragments.fragment_owners (its docstring has the rule)
// for the people kps [D, P, 3], visible [D, P], the n matched pairs (rows, cols), the tracks'
// predictions pred [T, P, 2], usable [T, P] (read at the matched rows only), sigmas [P] and the
// per-part similarity a part needs to be within reach (part_oks). Writes the fragments in the order
// they were found, as people indices frag[k] and their owners owner[k]; returns their number.
int64_t track_fragments(const double* kps, const bool* visible, int64_t people, int64_t parts, const int64_t* rows,
                        const int64_t* cols, int64_t n, const double* pred, const bool* usable, int64_t tracks,
                        const double* sigmas, double part_oks, const ExpInPlace& exp_inplace, int64_t* frag,
                        int64_t* owner);

// The track-person pairs of the assignment (tfpose.tracking.assignment.assign) of the similarity
// sim [T, D] (< 0 or NaN: the pair is not allowed) when they are already determined, without a
// solver: every line of the smaller side (the tracks when T <= D, else the people; the side
// scipy's linear_sum_assignment walks) has an allowed pair, its allowed pair of least cost
// 1.0 - sim is the only one of that cost in the line, and these best pairs take distinct lines of
// the other side. Then "every line takes its best" is the unique optimum of "the most pairs, then
// the largest total" and greedy's answer (the proofs: assignment.py). Writes the pairs (track,
// person) in the order the solver gives them: tracks ascending, or (greedy_order) by decreasing
// similarity, ties in track order; n = their number (0 when no pair is allowed at all). Returns
// false, writing nothing, when the pairs are not determined so (a solver must decide). rows and
// cols hold min(T, D) values.
bool track_assign_determined(const double* sim, int64_t tracks, int64_t people, bool greedy_order, int64_t* rows,
                             int64_t* cols, int64_t* n);

}  // namespace tfpose
