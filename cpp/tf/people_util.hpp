// Glue shared by the kernels that output people (TfposeConnect, TfposeNetOutputToPeople).
#pragma once

#include <vector>

#include "tensorflow/core/framework/op_kernel.h"
#include "tfpose/connector.hpp"
#include "tfpose/pose_model.hpp"

namespace tfpose_tf {

// Reads model, openpose_build and the five thresholds; rejects an unknown model or a bad threshold.
::tensorflow::Status ReadConnectAttrs(::tensorflow::OpKernelConstruction* ctx, const tfpose::PoseModel** model,
                                      tfpose::ConnectThresholds* thresholds, tfpose::OpenposeBuild* build);

// Allocates keypoints [N, M, P, 3], scores [N, M], num_people [N] (M = most people) and fills them.
void WritePeopleOutputs(::tensorflow::OpKernelContext* ctx, const std::vector<tfpose::People>& people, int64_t n,
                        int64_t p);

}  // namespace tfpose_tf
