#include "tfpose/connector.hpp"
#include "tfpose/paf_scores.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <mutex>
#include <string>
#include <tuple>

#include "tfpose/detail/paf_score.hpp"

namespace tfpose {

namespace {

struct Person {
  std::vector<int32_t> part;  // [P] peak index of each part, -1 = empty
  int cnt = 0;                // OpenPose's part counter (not always the number of set parts)
  float score = 0.f;          // S
};

Person new_person(int p) {
  Person q;
  q.part.assign(static_cast<size_t>(p), -1);
  return q;
}

// CPU build (createPeopleVector): limbs in table order, greedy one-to-one per limb (spec 7.2).
std::vector<Person> assemble_cpu(const PoseModel& model, const float* peaks, const int32_t* counts, int64_t k,
                                 const PairScoreFn& score) {
  const int P = model.num_parts();
  auto peak_score = [&](int part, int idx) { return peaks[(part * k + idx) * 3 + 2]; };
  std::vector<Person> people;
  std::vector<std::tuple<double, int, int>> candidates;
  std::vector<std::tuple<int, int, float>> accepted;
  std::vector<char> used_a, used_b;
  for (int l = 0; l < model.num_limbs(); ++l) {
    const int A = model.pairs[l][0], B = model.pairs[l][1];
    const int na = counts[A], nb = counts[B];
    if (na == 0 || nb == 0) {
      // One-part people let later limbs grow a person whose neighbour along this limb is missing.
      const int part = na == 0 ? B : A;
      const int np = na == 0 ? nb : na;
      for (int i = 0; i < np; ++i) {
        bool held = false;
        if (!model.duplicate_one_part_people()) {
          for (const auto& q : people) {
            if (q.part[part] == i) {
              held = true;
              break;
            }
          }
        }
        if (held) continue;
        Person q = new_person(P);
        q.part[part] = i;
        q.cnt = 1;
        q.score = peak_score(part, i);
        people.push_back(std::move(q));
      }
      continue;
    }

    candidates.clear();
    for (int i = 0; i < na; ++i) {
      for (int j = 0; j < nb; ++j) {
        const float s = score(l, i, j);
        if (static_cast<double>(s) > 1e-6) candidates.emplace_back(static_cast<double>(s), i, j);
      }
    }
    // Descending by (score, a, b): ties resolve deterministically, as in OpenPose.
    std::sort(candidates.begin(), candidates.end(), std::greater<std::tuple<double, int, int>>());
    accepted.clear();
    used_a.assign(static_cast<size_t>(na), 0);
    used_b.assign(static_cast<size_t>(nb), 0);
    const size_t max_accept = static_cast<size_t>(std::min(na, nb));
    for (const auto& c : candidates) {
      const int i = std::get<1>(c), j = std::get<2>(c);
      if (used_a[i] || used_b[j]) continue;
      accepted.emplace_back(i, j, static_cast<float>(std::get<0>(c)));
      if (accepted.size() == max_accept) break;
      used_a[i] = 1;
      used_b[j] = 1;
    }

    if (l == 0) {
      for (const auto& c : accepted) {
        const int i = std::get<0>(c), j = std::get<1>(c);
        Person q = new_person(P);
        q.part[A] = i;
        q.part[B] = j;
        q.cnt = 2;
        // OpenPose adds the pair score as a double here; the sum is then stored as float.
        q.score = static_cast<float>(static_cast<double>(peak_score(A, i) + peak_score(B, j)) +
                                     static_cast<double>(std::get<2>(c)));
        people.push_back(std::move(q));
      }
    } else if (model.is_ear_limb(l)) {
      // Ear limbs only complete existing people (someone seen from behind), never start one.
      for (const auto& c : accepted) {
        const int i = std::get<0>(c), j = std::get<1>(c);
        for (auto& q : people) {
          if (q.part[A] == i && q.part[B] < 0)
            q.part[B] = j;
          else if (q.part[B] == j && q.part[A] < 0)
            q.part[A] = i;
        }
      }
    } else {
      for (const auto& c : accepted) {
        const int i = std::get<0>(c), j = std::get<1>(c);
        const float s = std::get<2>(c);
        bool found = false;
        for (auto& q : people) {
          if (q.part[A] == i) {
            q.part[B] = j;
            q.cnt += 1;
            q.score += peak_score(B, j) + s;
            found = true;
            break;
          }
        }
        if (!found) {
          Person q = new_person(P);
          q.part[A] = i;
          q.part[B] = j;
          q.cnt = 2;
          q.score = peak_score(A, i) + peak_score(B, j) + s;
          people.push_back(std::move(q));
        }
      }
    }
  }
  return people;
}

// CUDA build (connectBodyPartsGpu's host part): every limb's pairs in one list, strongest first,
// grown and merged greedily (spec 7.3).
std::vector<Person> assemble_cuda(const PoseModel& model, const float* peaks, const int32_t* counts, int64_t k,
                                  const PairScoreFn& score) {
  const int P = model.num_parts();
  auto peak_score = [&](int part, int idx) { return peaks[(part * k + idx) * 3 + 2]; };
  // (total, score, limb, a, b); total weighs in the peak scores so that a strong PAF between two
  // weak peaks does not win.
  std::vector<std::tuple<float, float, int, int, int>> pairs;
  for (int l = 0; l < model.num_limbs(); ++l) {
    const int A = model.pairs[l][0], B = model.pairs[l][1];
    for (int i = 0; i < counts[A]; ++i) {
      for (int j = 0; j < counts[B]; ++j) {
        const float s = score(l, i, j);
        if (static_cast<double>(s) > 1e-6) {
          const float total = s + 0.1f * peak_score(A, i) + 0.1f * peak_score(B, j);
          pairs.emplace_back(total, s, l, i, j);
        }
      }
    }
  }
  std::sort(pairs.begin(), pairs.end(), std::greater<std::tuple<float, float, int, int, int>>());

  std::vector<Person> people;
  std::vector<int> owner(static_cast<size_t>(P * k), -1);
  std::vector<char> removed;
  for (const auto& e : pairs) {
    const float s = std::get<1>(e);
    const int l = std::get<2>(e), i = std::get<3>(e), j = std::get<4>(e);
    const int A = model.pairs[l][0], B = model.pairs[l][1];
    int& own_a = owner[static_cast<size_t>(A * k + i)];
    int& own_b = owner[static_cast<size_t>(B * k + j)];
    if (own_a < 0 && own_b < 0) {
      Person q = new_person(P);
      q.part[A] = i;
      q.part[B] = j;
      q.cnt = 2;
      q.score = peak_score(A, i) + peak_score(B, j) + s;
      own_a = own_b = static_cast<int>(people.size());
      people.push_back(std::move(q));
      removed.push_back(0);
    } else if ((own_a >= 0) != (own_b >= 0)) {
      const int who = own_a >= 0 ? own_a : own_b;
      const int other_part = own_a >= 0 ? B : A;
      const int other_idx = own_a >= 0 ? j : i;
      int& other_owner = own_a >= 0 ? own_b : own_a;
      Person& q = people[static_cast<size_t>(who)];
      // A person already holding that part got it from a stronger pair earlier in the list.
      if (q.part[other_part] < 0) {
        q.part[other_part] = other_idx;
        q.cnt += 1;
        q.score += peak_score(other_part, other_idx) + s;
        other_owner = who;
      }
    } else if (own_a == own_b) {
      people[static_cast<size_t>(own_a)].score += s;
    } else {
      const int p1 = std::min(own_a, own_b), p2 = std::max(own_a, own_b);
      Person& q1 = people[static_cast<size_t>(p1)];
      const Person& q2 = people[static_cast<size_t>(p2)];
      bool disjoint = true;
      for (int part = 0; part < P; ++part) {
        if (q1.part[part] >= 0 && q2.part[part] >= 0) {
          disjoint = false;
          break;
        }
      }
      if (disjoint) {
        for (int part = 0; part < P; ++part)
          if (q1.part[part] < 0) q1.part[part] = q2.part[part];
        q1.cnt += q2.cnt;
        q1.score += q2.score + s;
        removed[static_cast<size_t>(p2)] = 1;
        for (auto& o : owner)
          if (o == p2) o = p1;
      }
    }
  }
  std::vector<Person> kept;
  kept.reserve(people.size());
  for (size_t q = 0; q < people.size(); ++q)
    if (!removed[q]) kept.push_back(std::move(people[q]));
  return kept;
}

// removePeopleBelowThresholds (spec 7.4): indices of the accepted people, in order.
std::vector<size_t> filter_people(const PoseModel& model, const ConnectThresholds& th,
                                  const std::vector<Person>& people, bool maximize_positives) {
  std::vector<size_t> keep;
  for (size_t q = 0; q < people.size(); ++q) {
    int n = people[q].cnt;
    if (!maximize_positives && model.has_foot_rule()) {
      int feet = 0;
      for (int part : model.foot_parts) feet += people[q].part[part] >= 0 ? 1 : 0;
      n -= feet;
      // Feet are frequent false positives; a few body parts plus feet is not a person.
      if (feet > 0 && n <= 4) continue;
    }
    if (n >= th.min_subset_cnt && people[q].score / static_cast<float>(n) >= th.min_subset_score) keep.push_back(q);
  }
  return keep;
}

void check_threshold_value(const char* name, float v, bool upper_one) {
  if (std::isnan(v) || (upper_one && v > 1.f) || std::isinf(v))
    throw InvalidArgument(expected_got(name,
                                       upper_one ? "a number in [0, 1] (< 0 for the model default)"
                                                 : "a finite number >= 0 (< 0 for the model default)",
                                       number_str(v)));
}

}  // namespace

ConnectThresholds resolve_thresholds(const PoseModel& model, const ConnectThresholds& params) {
  check_threshold_value("nms_threshold", params.nms_threshold, true);
  check_threshold_value("inter_min_above_threshold", params.inter_min_above_threshold, true);
  check_threshold_value("inter_threshold", params.inter_threshold, true);
  if (!(params.min_subset_score < 0.f)) check_threshold_value("min_subset_score", params.min_subset_score, false);
  const PoseDefaults& d = model.defaults;
  ConnectThresholds th;
  th.nms_threshold = params.nms_threshold < 0.f ? d.nms_threshold : params.nms_threshold;
  th.inter_min_above_threshold =
      params.inter_min_above_threshold < 0.f ? d.inter_min_above_threshold : params.inter_min_above_threshold;
  th.inter_threshold = params.inter_threshold < 0.f ? d.inter_threshold : params.inter_threshold;
  th.min_subset_cnt = params.min_subset_cnt < 0 ? d.min_subset_cnt : params.min_subset_cnt;
  th.min_subset_score = params.min_subset_score < 0.f ? d.min_subset_score : params.min_subset_score;
  return th;
}

People assemble_people(const PoseModel& model, const ConnectThresholds& th, OpenposeBuild build, const float* peaks,
                       const int32_t* counts, int64_t k, float scale, const PairScoreFn& score) {
  const std::vector<Person> people = build == OpenposeBuild::kCuda ? assemble_cuda(model, peaks, counts, k, score)
                                                                   : assemble_cpu(model, peaks, counts, k, score);
  std::vector<size_t> keep = filter_people(model, th, people, false);
  // Nobody left: OpenPose retries without the foot rule (same thresholds otherwise).
  if (keep.empty()) keep = filter_people(model, th, people, true);

  const int P = model.num_parts();
  People out;
  out.count = static_cast<int64_t>(keep.size());
  out.keypoints.assign(keep.size() * static_cast<size_t>(P) * 3, 0.f);
  out.scores.resize(keep.size());
  const float inv_parts_and_limbs = 1.f / static_cast<float>(P + model.num_limbs());
  for (size_t m = 0; m < keep.size(); ++m) {
    const Person& q = people[keep[m]];
    for (int part = 0; part < P; ++part) {
      if (q.part[part] < 0) continue;
      const float* pk = peaks + (part * k + q.part[part]) * 3;
      float* o = out.keypoints.data() + (m * P + part) * 3;
      o[0] = pk[0] * scale;
      o[1] = pk[1] * scale;
      o[2] = pk[2];
    }
    out.scores[m] = q.score * inv_parts_and_limbs;
  }
  return out;
}

void check_connect_shapes(int64_t n, int64_t h, int64_t w, int64_t c, int64_t peaks_n, int64_t p, int64_t k,
                          int64_t counts_n, int64_t counts_p, int64_t num_scale, const PoseModel& model) {
  const int64_t int_max = 0x7fffffff;
  if (n < 0 || h < 1 || w < 1 || h > int_max || w > int_max)
    throw InvalidArgument(expected_got("connect: maps shape", "[N >= 0, H >= 1, W >= 1, C]", shape_str({n, h, w, c})));
  if (c != model.num_channels())
    throw InvalidArgument(expected_got("connect: maps channels for model " + model.name,
                                       std::to_string(model.num_channels()) + " (" + std::to_string(model.num_parts()) +
                                           " parts + background + " + std::to_string(2 * model.num_limbs()) +
                                           " PAF channels)",
                                       std::to_string(c)));
  if (peaks_n != n)
    throw InvalidArgument(expected_got("connect: peaks batch size (dimension 0)", std::to_string(n) + " (as maps)",
                                       std::to_string(peaks_n)));
  if (p != model.num_parts())
    throw InvalidArgument(expected_got("connect: peaks parts (dimension 1) for model " + model.name,
                                       std::to_string(model.num_parts()), std::to_string(p)));
  if (k < 0 || k > int_max / 2)
    throw InvalidArgument(expected_got("connect: peaks K (dimension 2)", "0 <= K", std::to_string(k)));
  if (counts_n != n || counts_p != p)
    throw InvalidArgument(
        expected_got("connect: counts shape", shape_str({n, p}) + " (N, P of peaks)", shape_str({counts_n, counts_p})));
  if (num_scale != 1 && num_scale != n)
    throw InvalidArgument(expected_got("connect: scale", "a scalar or " + std::to_string(n) + " values (one per image)",
                                       std::to_string(num_scale) + " values"));
}

void check_connect_peaks(const float* peaks, const int32_t* counts, int64_t n, int64_t p, int64_t k) {
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t part = 0; part < p; ++part) {
      const int32_t cnt = counts[i * p + part];
      if (cnt < 0 || cnt > k)
        throw InvalidArgument(expected_got("connect: counts[" + std::to_string(i) + ", " + std::to_string(part) + "]",
                                           "a value in [0, K = " + std::to_string(k) + "]", std::to_string(cnt)));
      const float* pk = peaks + (i * p + part) * k * 3;
      for (int64_t r = 0; r < cnt * 3; ++r) {
        if (!std::isfinite(pk[r]))
          throw InvalidArgument(expected_got(
              "connect: peaks[" + std::to_string(i) + ", " + std::to_string(part) + ", " + std::to_string(r / 3) + "]",
              "finite (x, y, score) for the first counts rows", "a non-finite value " + number_str(pk[r])));
      }
    }
  }
}

detail::PafScoreParams paf_score_params(const ConnectThresholds& th, OpenposeBuild build, int64_t w, int64_t h) {
  return detail::PafScoreParams{th.inter_threshold, th.inter_min_above_threshold, detail::close_score(th.nms_threshold),
                                detail::close_distance(w, h), build == OpenposeBuild::kCuda ? -1.f : 0.f};
}

std::vector<People> connect(const float* maps, int64_t n, int64_t h, int64_t w, int64_t c, const float* peaks,
                            const int32_t* counts, int64_t p, int64_t k, const float* scale, int64_t num_scale,
                            const PoseModel& model, const ConnectThresholds& thresholds, OpenposeBuild build,
                            const ParallelFor& pf) {
  check_connect_shapes(n, h, w, c, n, p, k, n, p, num_scale, model);
  const ConnectThresholds th = resolve_thresholds(model, thresholds);
  for (int64_t i = 0; i < num_scale; ++i) {
    if (!std::isfinite(scale[i]) || !(scale[i] > 0.f))
      throw InvalidArgument(
          expected_got("connect: scale[" + std::to_string(i) + "]", "a finite number > 0", number_str(scale[i])));
  }
  // Everything the workers read is validated here, on the calling thread.
  check_connect_peaks(peaks, counts, n, p, k);
  const detail::PafScoreParams ps = paf_score_params(th, build, w, h);
  std::vector<People> out(static_cast<size_t>(n));
  // An exception in a range (allocation failure) reaches the caller through the ParallelFor's guard.
  pf(n, 2000000, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const float* img = maps + i * h * w * c;
      const float* pk = peaks + i * p * k * 3;
      auto score = [&](int l, int ia, int ib) {
        const float* pa = pk + (model.pairs[l][0] * k + ia) * 3;
        const float* pb = pk + (model.pairs[l][1] * k + ib) * 3;
        const detail::StridedPafSampler sampler{img + model.paf_channel(l, 0), img + model.paf_channel(l, 1), w * c, c};
        return detail::paf_line_score(pa[0], pa[1], pb[0], pb[1], static_cast<int>(w), static_cast<int>(h), ps,
                                      sampler);
      };
      out[static_cast<size_t>(i)] =
          assemble_people(model, th, build, pk, counts + i * p, k, scale[num_scale == 1 ? 0 : i], score);
    }
  });
  return out;
}

}  // namespace tfpose
