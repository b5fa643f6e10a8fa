#include "tfpose/people.hpp"

#include <algorithm>

namespace tfpose {

int64_t max_people(const std::vector<People>& people) {
  int64_t m = 0;
  for (const auto& q : people) m = std::max(m, q.count);
  return m;
}

void pack_people(const std::vector<People>& people, int64_t p, int64_t m, float* keypoints, float* scores,
                 int32_t* num_people) {
  const int64_t n = static_cast<int64_t>(people.size());
  std::fill(keypoints, keypoints + n * m * p * 3, 0.f);
  std::fill(scores, scores + n * m, 0.f);
  for (int64_t i = 0; i < n; ++i) {
    const People& q = people[static_cast<size_t>(i)];
    std::copy(q.keypoints.begin(), q.keypoints.end(), keypoints + i * m * p * 3);
    std::copy(q.scores.begin(), q.scores.end(), scores + i * m);
    num_people[i] = static_cast<int32_t>(q.count);
  }
}

}  // namespace tfpose
