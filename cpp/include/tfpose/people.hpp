// People as the connector produces them, and their packing into the padded batch tensors that every
// entry point returns (TF kernels, pybind11 module).
#pragma once

#include <cstdint>
#include <vector>

namespace tfpose {

// The people of one image, in OpenPose's order (creation order of the groups).
struct People {
  int64_t count = 0;             // M_i
  std::vector<float> keypoints;  // [M_i, P, 3] (x * scale, y * scale, score); missing part (0, 0, 0)
  std::vector<float> scores;     // [M_i] person score S / (P + L)
};

// M = the most people of any image (0 for an empty batch).
int64_t max_people(const std::vector<People>& people);

// Writes the padded batch: keypoints [N, M, P, 3], scores [N, M] (padding zero), num_people [N].
// m must be >= max_people(people).
void pack_people(const std::vector<People>& people, int64_t p, int64_t m, float* keypoints, float* scores,
                 int32_t* num_people);

}  // namespace tfpose
