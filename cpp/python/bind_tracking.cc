// _core.track_predict / track_similarity / track_advance (and the fused track_scores, track_gather,
// track_assign_determined): PoseTracker's per-frame arithmetic on its
// own numpy arrays (tracking.hpp); the caller is python/tfpose/tracking/tracker.py. The state arrays
// are written in place, so they must be C-contiguous, writeable and of the exact dtype (no copy is
// made); other inputs are converted when they are not. The GIL stays held: a call takes
// microseconds, and the similarity calls numpy's exp.
#include <pybind11/stl.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "tfpose/tracking.hpp"

namespace tfpose_py {
namespace {

// A read-only input: numpy converts another layout or dtype.
template <typename T>
using In = py::array_t<T, py::array::c_style | py::array::forcecast>;

// The data of `a` if it is a C-contiguous array of T with this shape (-1: any extent), else
// InvalidArgument naming what came; `out` asks for a writeable array as well.
template <typename T>
T* view(const py::array& a, const std::string& what, std::vector<int64_t> shape, bool out = false) {
  const bool ok_type = py::isinstance<py::array_t<T>>(a) && (a.flags() & py::array::c_style) && (!out || a.writeable());
  bool ok_shape = a.ndim() == static_cast<py::ssize_t>(shape.size());
  for (size_t i = 0; ok_shape && i < shape.size(); ++i) ok_shape = shape[i] < 0 || a.shape(i) == shape[i];
  if (!ok_type || !ok_shape) {
    std::string want = std::string(py::str(py::dtype::of<T>())) + (out ? " writeable" : "") + " C-contiguous [";
    for (size_t i = 0; i < shape.size(); ++i) want += (i ? ", " : "") + std::to_string(shape[i]);
    std::string got = std::string(py::str(a.dtype())) + " [";
    for (py::ssize_t i = 0; i < a.ndim(); ++i) got += (i ? ", " : "") + std::to_string(a.shape(i));
    throw tfpose::InvalidArgument(tfpose::expected_got(what, want + "]", got + "]"));
  }
  return static_cast<T*>(const_cast<void*>(a.data()));
}

// numpy's exp in place on the core's buffer (viewed, not copied), so the similarities have the numpy
// formulation's bits (tracking.hpp).
void numpy_exp(double* v, int64_t n) {
  static const auto* exp = new py::object(py::module_::import("numpy").attr("exp"));  // (never freed: no
                                                                                      // teardown order issue)
  py::array_t<double> a({n}, {static_cast<py::ssize_t>(sizeof(double))}, v, py::capsule(v, [](void*) {}));
  (*exp)(a, a);
}

// The tracker's state arrays (ids aside): xy [T, P, 2], seen [T, P], last [T], vel [T, 2], measured [T],
// filt [T, P, 6].
tfpose::TrackState state(const py::array& xy, const py::array& seen, const py::array& last, const py::array& vel,
                         const py::array& measured, const py::array& filt, bool out) {
  tfpose::TrackState s;
  s.tracks = xy.ndim() == 3 ? xy.shape(0) : -1;
  s.parts = xy.ndim() == 3 ? xy.shape(1) : -1;
  const int64_t T = s.tracks, P = s.parts;
  s.xy = view<double>(xy, "track state xy", {T, P, 2}, out);
  s.seen = view<int64_t>(seen, "track state seen", {T, P}, out);
  s.last = view<int64_t>(last, "track state last", {T}, out);
  s.vel = view<double>(vel, "track state vel", {T, 2}, out);
  s.measured = view<int64_t>(measured, "track state measured", {T}, out);
  s.filt = view<double>(filt, "track state filt", {T, P, tfpose::kTrackFilterState}, out);
  return s;
}

}  // namespace

void bind_tracking(py::module_& m) {
  m.attr("TRACK_FILTER_STATE") = tfpose::kTrackFilterState;
  m.def(
      "track_predict",
      [](const py::array& xy, const py::array& seen, const py::array& last, const py::array& vel,
         const py::array& measured, const py::array& filt, int64_t frame, int64_t max_part_age,
         int64_t max_predict_frames, const std::array<int64_t, 2>& image_hw, int64_t scene_min_tracks,
         double scene_min_share, double scene_tolerance) {
        const tfpose::TrackState s = state(xy, seen, last, vel, measured, filt, false);
        const int64_t T = s.tracks, P = s.parts;
        py::array_t<double> pred({T, P, int64_t{2}});
        py::array_t<bool> usable({T, P});
        py::array_t<int64_t> lost(T);
        tfpose::TrackPredictArgs a{frame,       max_part_age, max_predict_frames,
                                   image_hw[0], image_hw[1],  {scene_min_tracks, scene_min_share, scene_tolerance}};
        tfpose::track_predict(s, a, pred.mutable_data(), usable.mutable_data(), lost.mutable_data());
        return py::make_tuple(pred, usable, lost);
      },
      py::arg("xy"), py::arg("seen"), py::arg("last"), py::arg("vel"), py::arg("measured"), py::arg("filt"),
      py::arg("frame"), py::arg("max_part_age"), py::arg("max_predict_frames"), py::arg("image_hw"),
      py::arg("scene_min_tracks"), py::arg("scene_min_share"), py::arg("scene_tolerance"),
      "PoseTracker step 1 (include/tfpose/tracking.hpp): the state arrays -> (pred [T, P, 2] float64, "
      "usable [T, P] bool, lost [T] int64); image_hw (0, 0) when the frame size is unknown; a track without a "
      "measured velocity moves at the scene's (scene_*: tfpose.tracking.motion).");
  m.def(
      "track_similarity",
      [](const In<double>& pred, const In<bool>& usable, const In<int64_t>& lost, const In<double>& kps,
         const In<bool>& visible, const In<double>& sigmas, double lost_scale_growth, double oks_threshold) {
        const int64_t T = pred.ndim() == 3 ? pred.shape(0) : -1, P = pred.ndim() == 3 ? pred.shape(1) : -1;
        const int64_t D = kps.ndim() == 3 ? kps.shape(0) : -1;
        const double* p = view<double>(pred, "track_similarity: pred", {T, P, 2});
        const bool* u = view<bool>(usable, "track_similarity: usable", {T, P});
        const int64_t* l = view<int64_t>(lost, "track_similarity: lost", {T});
        const double* x = view<double>(kps, "track_similarity: kps", {D, P, 3});
        const bool* v = view<bool>(visible, "track_similarity: visible", {D, P});
        const double* s = view<double>(sigmas, "track_similarity: sigmas", {P});
        py::array_t<double> sim({T, D});
        tfpose::track_similarity(p, u, l, T, x, v, D, P, s, lost_scale_growth, oks_threshold, numpy_exp,
                                 sim.mutable_data());
        return sim;
      },
      py::arg("pred"), py::arg("usable"), py::arg("lost"), py::arg("kps"), py::arg("visible"), py::arg("sigmas"),
      py::arg("lost_scale_growth"), py::arg("oks_threshold"),
      "PoseTracker step 2 (include/tfpose/tracking.hpp): tracks (pred [T, P, 2], usable [T, P], lost [T]) x "
      "people (kps [D, P, 3] float64, visible [D, P] bool) -> similarity [T, D] float64, -1 where a pair may not "
      "match.");
  m.def(
      "track_advance",
      [](const py::array& xy_state, const py::array& seen, const py::array& last, const py::array& vel,
         const py::array& measured, const py::array& filt, const In<int64_t>& rows, const In<int64_t>& cols,
         const In<bool>& still, const In<double>& kps, const In<bool>& visible, int64_t frame, int64_t scene_min_tracks,
         double scene_min_share, double scene_tolerance, bool smooth, double time,
         const std::array<double, 3>& filter) {
        const tfpose::TrackState s = state(xy_state, seen, last, vel, measured, filt, true);
        const int64_t T = s.tracks, P = s.parts, D = kps.ndim() == 3 ? kps.shape(0) : -1;
        const int64_t n = rows.ndim() == 1 ? rows.shape(0) : -1;
        const int64_t* r = view<int64_t>(rows, "track_advance: rows", {n});
        const int64_t* c = view<int64_t>(cols, "track_advance: cols", {n});
        const bool* st = view<bool>(still, "track_advance: still", {n});
        const double* k = view<double>(kps, "track_advance: kps", {D, P, 3});
        const bool* v = view<bool>(visible, "track_advance: visible", {D, P});
        std::vector<bool> used(T, false);
        for (int64_t i = 0; i < n; ++i) {
          if (r[i] < 0 || r[i] >= T || c[i] < 0 || c[i] >= D || used[r[i]])
            throw tfpose::InvalidArgument(tfpose::expected_got(
                "track_advance: pair " + std::to_string(i),
                "distinct tracks in [0, " + std::to_string(T) + ") and people in [0, " + std::to_string(D) + ")",
                "track " + std::to_string(r[i]) + ", person " + std::to_string(c[i])));
          used[r[i]] = true;
        }
        py::array_t<float> out({smooth ? n : int64_t{0}, P, int64_t{3}});
        tfpose::TrackSmoothArgs a{smooth, time, filter[0], filter[1], filter[2]};
        tfpose::track_advance(s, r, c, st, n, k, v, frame, {scene_min_tracks, scene_min_share, scene_tolerance}, a,
                              out.mutable_data());
        return out;
      },
      py::arg("xy"), py::arg("seen"), py::arg("last"), py::arg("vel"), py::arg("measured"), py::arg("filt"),
      py::arg("rows"), py::arg("cols"), py::arg("still"), py::arg("kps"), py::arg("visible"), py::arg("frame"),
      py::arg("scene_min_tracks"), py::arg("scene_min_share"), py::arg("scene_tolerance"), py::arg("smooth"),
      py::arg("time"), py::arg("filter"),
      "PoseTracker step 5 (include/tfpose/tracking.hpp), state arrays updated in place: velocity (a track without "
      "one: its first measurement averaged with the scene's, or with 0 where still [n] (the pair matched the "
      "standing-still prediction); scene_*: tfpose.tracking.motion), the matched "
      "tracks take their person's found parts, One-Euro (filter = (min_cutoff, beta, d_cutoff)) if smooth -> "
      "the pairs' keypoints [n, P, 3] float32 (smoothed; [0, P, 3] without smoothing).");
  m.def(
      "track_common_shift",
      [](const In<double>& pred, const In<bool>& usable, const In<double>& kps, const In<bool>& visible,
         int64_t min_parts, int64_t max_candidates, double radius, double min_radius) {
        const int64_t T = pred.ndim() == 3 ? pred.shape(0) : -1, P = pred.ndim() == 3 ? pred.shape(1) : -1;
        const int64_t D = kps.ndim() == 3 ? kps.shape(0) : -1;
        const double* p = view<double>(pred, "track_common_shift: pred", {T, P, 2});
        const bool* u = view<bool>(usable, "track_common_shift: usable", {T, P});
        const double* x = view<double>(kps, "track_common_shift: kps", {D, P, 3});
        const bool* v = view<bool>(visible, "track_common_shift: visible", {D, P});
        if (min_parts < 0 || max_candidates < 2)
          throw tfpose::InvalidArgument(
              tfpose::expected_got("track_common_shift: min_parts, max_candidates", ">= 0, >= 2",
                                   std::to_string(min_parts) + ", " + std::to_string(max_candidates)));
        py::array_t<double> shift(2);
        tfpose::track_common_shift(p, u, T, x, v, D, P, {min_parts, max_candidates, radius, min_radius},
                                   shift.mutable_data());
        return shift;
      },
      py::arg("pred"), py::arg("usable"), py::arg("kps"), py::arg("visible"), py::arg("min_parts"),
      py::arg("max_candidates"), py::arg("radius"), py::arg("min_radius"),
      "The displacement [2] most tracks share this frame, 0 if none (tfpose.tracking.motion.common_shift; "
      "include/tfpose/tracking.hpp).");
  m.def(
      "track_fragments",
      [](const In<double>& kps, const In<bool>& visible, const In<int64_t>& rows, const In<int64_t>& cols,
         const In<double>& pred, const In<bool>& usable, const In<double>& sigmas, double part_oks) {
        const int64_t D = kps.ndim() == 3 ? kps.shape(0) : -1, P = kps.ndim() == 3 ? kps.shape(1) : -1;
        const int64_t T = pred.ndim() == 3 ? pred.shape(0) : -1, n = rows.ndim() == 1 ? rows.shape(0) : -1;
        const double* x = view<double>(kps, "track_fragments: kps", {D, P, 3});
        const bool* v = view<bool>(visible, "track_fragments: visible", {D, P});
        const int64_t* r = view<int64_t>(rows, "track_fragments: rows", {n});
        const int64_t* c = view<int64_t>(cols, "track_fragments: cols", {n});
        const double* p = view<double>(pred, "track_fragments: pred", {T, P, 2});
        const bool* u = view<bool>(usable, "track_fragments: usable", {T, P});
        const double* s = view<double>(sigmas, "track_fragments: sigmas", {P});
        for (int64_t i = 0; i < n; ++i)
          if (r[i] < 0 || r[i] >= T || c[i] < 0 || c[i] >= D)
            throw tfpose::InvalidArgument(tfpose::expected_got(
                "track_fragments: pair " + std::to_string(i),
                "a track in [0, " + std::to_string(T) + ") and a person in [0, " + std::to_string(D) + ")",
                "track " + std::to_string(r[i]) + ", person " + std::to_string(c[i])));
        std::vector<int64_t> frag(D), owner(D);
        const int64_t found =
            tfpose::track_fragments(x, v, D, P, r, c, n, p, u, T, s, part_oks, numpy_exp, frag.data(), owner.data());
        py::dict out;
        for (int64_t k = 0; k < found; ++k) out[py::int_(frag[k])] = py::int_(owner[k]);
        return out;
      },
      py::arg("kps"), py::arg("visible"), py::arg("rows"), py::arg("cols"), py::arg("pred"), py::arg("usable"),
      py::arg("sigmas"), py::arg("part_oks"),
      "Fragments of this frame {person: owner}, in the order found (tfpose.tracking.fragments.fragment_owners; "
      "include/tfpose/tracking.hpp). pred, usable: [0, P, 2], [0, P] when there is no track.");
  m.def(
      "track_scores",
      [](const In<double>& pred, const In<bool>& usable, const In<int64_t>& lost, const In<double>& kps,
         const In<bool>& visible, const In<double>& sigmas, double lost_scale_growth, double oks_threshold,
         bool camera_motion, int64_t min_parts, int64_t max_candidates, double radius, double min_radius,
         const std::string& assignment, bool cascade) -> py::tuple {
        const int64_t T = pred.ndim() == 3 ? pred.shape(0) : -1, P = pred.ndim() == 3 ? pred.shape(1) : -1;
        const int64_t D = kps.ndim() == 3 ? kps.shape(0) : -1;
        const double* p = view<double>(pred, "track_scores: pred", {T, P, 2});
        const bool* u = view<bool>(usable, "track_scores: usable", {T, P});
        const int64_t* l = view<int64_t>(lost, "track_scores: lost", {T});
        const double* x = view<double>(kps, "track_scores: kps", {D, P, 3});
        const bool* v = view<bool>(visible, "track_scores: visible", {D, P});
        const double* s = view<double>(sigmas, "track_scores: sigmas", {P});
        if (min_parts < 0 || max_candidates < 2)
          throw tfpose::InvalidArgument(
              tfpose::expected_got("track_scores: min_parts, max_candidates", ">= 0, >= 2",
                                   std::to_string(min_parts) + ", " + std::to_string(max_candidates)));
        py::array moved = pred;
        if (camera_motion && T > 1 && D > 1) {  // (a shared motion needs 2 tracks and 2 people)
          double shift[2];
          tfpose::track_common_shift(p, u, T, x, v, D, P, {min_parts, max_candidates, radius, min_radius}, shift);
          if (shift[0] != 0.0 || shift[1] != 0.0) {  // (numpy: pred + shift)
            py::array_t<double> out({T, P, int64_t{2}});
            double* o = out.mutable_data();
            for (int64_t i = 0; i < T * P; ++i)
              for (int k = 0; k < 2; ++k) o[2 * i + k] = p[2 * i + k] + shift[k];
            moved = out;
            p = o;
          }
        }
        if (assignment != "optimal" && assignment != "greedy")
          throw tfpose::InvalidArgument(
              tfpose::expected_got("track_scores: assignment", "'optimal' or 'greedy'", "'" + assignment + "'"));
        py::array_t<double> sim({T, D});
        double* m = sim.mutable_data();
        tfpose::track_similarity(p, u, l, T, x, v, D, P, s, lost_scale_growth, oks_threshold, numpy_exp, m);
        // the assignment, when the cascade has one level (every track lost as long) and the pairs are
        // determined (track_assign_determined)
        bool one_level = true;
        for (int64_t t = 1; cascade && t < T; ++t) one_level = one_level && l[t] == l[0];
        std::vector<int64_t> r(std::min(T, D)), c(std::min(T, D));
        int64_t n = 0;
        if (!one_level || !tfpose::track_assign_determined(m, T, D, assignment == "greedy", r.data(), c.data(), &n))
          return py::make_tuple(moved, sim, py::none());
        py::array_t<int64_t> rows(n), cols(n);
        std::copy(r.begin(), r.begin() + n, rows.mutable_data());
        std::copy(c.begin(), c.begin() + n, cols.mutable_data());
        return py::make_tuple(moved, sim, py::make_tuple(rows, cols));
      },
      py::arg("pred"), py::arg("usable"), py::arg("lost"), py::arg("kps"), py::arg("visible"), py::arg("sigmas"),
      py::arg("lost_scale_growth"), py::arg("oks_threshold"), py::arg("camera_motion"), py::arg("min_parts"),
      py::arg("max_candidates"), py::arg("radius"), py::arg("min_radius"), py::arg("assignment"), py::arg("cascade"),
      "PoseTracker steps 1 (the common motion), 2 and, when determined, 3 in one call: if camera_motion and there "
      "are 2 tracks and 2 people, pred moved by track_common_shift's shift (when not 0), then track_similarity on "
      "it, then the pairs of track_assign_determined for the assignment ('optimal' or 'greedy') when the matching "
      "cascade has one level (no cascade, or every track lost as long) -> (pred [T, P, 2] float64: the same array "
      "when not moved, sim [T, D] float64, (rows, cols) int64 or None).");
  m.def(
      "track_assign_determined",
      [](const In<double>& sim, bool greedy_order) -> py::object {
        const int64_t T = sim.ndim() == 2 ? sim.shape(0) : -1, D = sim.ndim() == 2 ? sim.shape(1) : -1;
        const double* s = view<double>(sim, "track_assign_determined: sim", {T, D});
        std::vector<int64_t> r(std::min(T, D)), c(std::min(T, D));
        int64_t n = 0;
        if (!tfpose::track_assign_determined(s, T, D, greedy_order, r.data(), c.data(), &n)) return py::none();
        py::array_t<int64_t> rows(n), cols(n);
        std::copy(r.begin(), r.begin() + n, rows.mutable_data());
        std::copy(c.begin(), c.begin() + n, cols.mutable_data());
        return py::make_tuple(rows, cols);
      },
      py::arg("sim"), py::arg("greedy_order"),
      "The assignment's pairs (rows, cols) int64 when the similarity sim [T, D] float64 determines them (every "
      "line of the smaller side has one allowed pair of least cost 1 - sim, the others distinct; "
      "include/tfpose/tracking.hpp), else None.");
  m.def(
      "track_gather",
      [](const py::list& people, int64_t parts) -> py::object {
        const int64_t D = static_cast<int64_t>(people.size()), P = parts;
        py::array_t<double> kps({D, P, int64_t{3}});
        py::array_t<bool> visible({D, P});
        double* k = kps.mutable_data();
        bool* v = visible.mutable_data();
        for (int64_t i = 0; i < D; ++i) {
          PyObject* person = people[i].ptr();
          // as PoseTracker._check: keypoints readable, person_id writable (set to itself, -1 if absent)
          const py::object kp = py::reinterpret_steal<py::object>(PyObject_GetAttrString(person, "keypoints"));
          PyObject* id = kp ? PyObject_GetAttrString(person, "person_id") : nullptr;
          if (kp && !id && PyErr_ExceptionMatches(PyExc_AttributeError)) {
            PyErr_Clear();
            id = PyLong_FromLong(-1);
          }
          const int set = id ? PyObject_SetAttrString(person, "person_id", id) : -1;
          Py_XDECREF(id);
          if (set != 0) {
            PyErr_Clear();
            return py::none();
          }
          const bool f32 = py::isinstance<py::array_t<float>>(kp), f64 = py::isinstance<py::array_t<double>>(kp);
          const py::array a = f32 || f64 ? py::reinterpret_borrow<py::array>(kp) : py::array();
          if (!(f32 || f64) || a.ndim() != 2 || a.shape(0) != P || a.shape(1) != 3) return py::none();
          const char* base = static_cast<const char*>(a.data());
          for (int64_t p = 0; p < P; ++p) {
            for (int64_t q = 0; q < 3; ++q) {
              const char* at = base + p * a.strides(0) + q * a.strides(1);
              double x = 0.0;
              if (f32) {
                float y;
                std::memcpy(&y, at, sizeof y);
                x = y;
              } else {
                std::memcpy(&x, at, sizeof x);
              }
              if (!std::isfinite(x)) return py::none();
              k[3 * (P * i + p) + q] = x;
            }
            v[P * i + p] = k[3 * (P * i + p) + 2] > 0.0;
          }
        }
        return py::make_tuple(kps, visible);
      },
      py::arg("people"), py::arg("parts"),
      "PoseTracker's usual frame, gathered in one call: every person has keypoints, a float32 or float64 array "
      "[parts, 3] of finite values, and a writable person_id (set to its own value, -1 if it had none) -> (kps "
      "[D, parts, 3] float64, visible [D, parts] bool: score > 0); None for anything else (PoseTracker._check "
      "then checks each person and names what is wrong).");
}

}  // namespace tfpose_py
