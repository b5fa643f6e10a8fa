/* Runs a tfpose SavedModel from C, without Python: TensorFlow's C API (TF_LoadLibrary to register
 * tfpose's custom ops, TF_LoadSessionFromSavedModel, TF_SessionRun).
 *
 * usage: tfpose_serve OP_LIBRARY SAVED_MODEL_DIR IMAGE.ppm [INPUT KEYPOINTS SCORES NUM_PEOPLE]
 *
 *   OP_LIBRARY       tfpose's _tfpose_ops.so (python -c "import tfpose._loader as l; print(l._find_library('_tfpose_ops.so'))")
 *   SAVED_MODEL_DIR  written by `tfpose export` (signature serving_default)
 *   IMAGE.ppm        binary PPM (P6, maxval 255), converted here to the model's BGR order
 *   tensor names     of serving_default's input `images` and outputs `keypoints`, `scores`,
 *                    `num_people` in the graph; the defaults are what TensorFlow 2.21 writes for
 *                    `tfpose export` (`saved_model_cli show --dir DIR --tag_set serve
 *                    --signature_def serving_default` lists them for any SavedModel).
 *
 * Prints one line per person: "person M score S" then P lines "x y score" (%.9g: every float32
 * digit, so a test can compare exactly with Python). Exit status 0 on success, 1 on any error
 * (the message names what was expected and what came).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tensorflow/c/c_api.h>

static int fail_status(const char* what, const TF_Status* st) {
  fprintf(stderr, "tfpose_serve: %s: %s\n", what, TF_Message(st));
  return 1;
}

/* Reads a binary PPM (P6, maxval 255) into a newly allocated BGR buffer (H x W x 3). */
static uint8_t* read_ppm_bgr(const char* path, int64_t* h, int64_t* w) {
  FILE* f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "tfpose_serve: cannot open image %s\n", path);
    return NULL;
  }
  char magic[3] = {0};
  long width = 0, height = 0, maxval = 0;
  if (fscanf(f, "%2s %ld %ld %ld", magic, &width, &height, &maxval) != 4 || strcmp(magic, "P6") != 0 ||
      maxval != 255 || width <= 0 || height <= 0 || fgetc(f) == EOF) {
    fprintf(stderr, "tfpose_serve: %s: expected a binary PPM (P6, maxval 255), got another header\n", path);
    fclose(f);
    return NULL;
  }
  size_t n = (size_t)width * (size_t)height * 3;
  uint8_t* rgb = (uint8_t*)malloc(n);
  if (!rgb || fread(rgb, 1, n, f) != n) {
    fprintf(stderr, "tfpose_serve: %s: expected %zu bytes of pixels (%ldx%ld), the file is shorter\n", path, n,
            width, height);
    free(rgb);
    fclose(f);
    return NULL;
  }
  fclose(f);
  for (size_t i = 0; i < n; i += 3) { /* PPM is RGB; the model takes BGR as OpenCV reads it */
    uint8_t r = rgb[i];
    rgb[i] = rgb[i + 2];
    rgb[i + 2] = r;
  }
  *h = height;
  *w = width;
  return rgb;
}

static void free_buffer(void* data, size_t len, void* arg) {
  (void)len;
  (void)arg;
  free(data);
}

/* "name:index" -> TF_Output; NULL oper when the graph has no such operation. */
static TF_Output graph_output(TF_Graph* graph, const char* spec) {
  char name[512];
  int index = 0;
  const char* colon = strrchr(spec, ':');
  size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
  if (len >= sizeof name) len = sizeof name - 1;
  memcpy(name, spec, len);
  name[len] = '\0';
  if (colon) index = atoi(colon + 1);
  TF_Output out = {TF_GraphOperationByName(graph, name), index};
  return out;
}

int main(int argc, char** argv) {
  if (argc != 4 && argc != 8) {
    fprintf(stderr,
            "usage: %s OP_LIBRARY SAVED_MODEL_DIR IMAGE.ppm [INPUT KEYPOINTS SCORES NUM_PEOPLE]\n"
            "  default tensor names: serving_default_images:0 StatefulPartitionedCall:0 "
            "StatefulPartitionedCall:2 StatefulPartitionedCall:1\n",
            argv[0]);
    return 2;
  }
  const char* names[4] = {"serving_default_images:0", "StatefulPartitionedCall:0", "StatefulPartitionedCall:2",
                          "StatefulPartitionedCall:1"};
  if (argc == 8)
    for (int i = 0; i < 4; ++i) names[i] = argv[4 + i];

  int rc = 1;
  TF_Status* st = TF_NewStatus();
  TF_Graph* graph = TF_NewGraph();
  TF_SessionOptions* opts = TF_NewSessionOptions();
  TF_Session* session = NULL;
  TF_Tensor* input = NULL;
  TF_Tensor* outputs[3] = {NULL, NULL, NULL};

  /* Registers TfposeNetOutputToPeople & co. in this process; the SavedModel cannot load without it. */
  TF_Library* lib = TF_LoadLibrary(argv[1], st);
  if (TF_GetCode(st) != TF_OK) {
    rc = fail_status("loading tfpose's op library", st);
    goto done;
  }
  const char* tags[] = {"serve"};
  session = TF_LoadSessionFromSavedModel(opts, NULL, argv[2], tags, 1, graph, NULL, st);
  if (TF_GetCode(st) != TF_OK) {
    rc = fail_status("loading the SavedModel", st);
    goto done;
  }
  TF_Output ports[4];
  for (int i = 0; i < 4; ++i) {
    ports[i] = graph_output(graph, names[i]);
    if (!ports[i].oper) {
      fprintf(stderr, "tfpose_serve: the SavedModel's graph has no tensor %s (expected tfpose export's "
                      "serving_default; list its names with saved_model_cli)\n", names[i]);
      goto done;
    }
  }

  int64_t h = 0, w = 0;
  uint8_t* pixels = read_ppm_bgr(argv[3], &h, &w);
  if (!pixels) goto done;
  int64_t dims[4] = {1, h, w, 3};
  input = TF_NewTensor(TF_UINT8, dims, 4, pixels, (size_t)(h * w * 3), free_buffer, NULL);

  TF_SessionRun(session, NULL, &ports[0], &input, 1, &ports[1], outputs, 3, NULL, 0, NULL, st);
  if (TF_GetCode(st) != TF_OK) {
    rc = fail_status("running serving_default", st);
    goto done;
  }
  if (TF_TensorType(outputs[0]) != TF_FLOAT || TF_NumDims(outputs[0]) != 4 || TF_TensorType(outputs[1]) != TF_FLOAT ||
      TF_TensorType(outputs[2]) != TF_INT32) {
    fprintf(stderr, "tfpose_serve: expected keypoints float32 [N,M,P,3], scores float32 [N,M], num_people "
                    "int32 [N]; the named tensors have other types (wrong tensor names?)\n");
    goto done;
  }
  const int64_t M = TF_Dim(outputs[0], 1), P = TF_Dim(outputs[0], 2);
  const float* kp = (const float*)TF_TensorData(outputs[0]);
  const float* scores = (const float*)TF_TensorData(outputs[1]);
  const int32_t people = ((const int32_t*)TF_TensorData(outputs[2]))[0];
  printf("people %d parts %lld\n", people, (long long)P);
  for (int32_t m = 0; m < people && m < M; ++m) {
    printf("person %d score %.9g\n", m, scores[m]);
    for (int64_t p = 0; p < P; ++p) {
      const float* k = kp + (m * P + p) * 3;
      printf("%.9g %.9g %.9g\n", k[0], k[1], k[2]);
    }
  }
  rc = 0;

done:
  for (int i = 0; i < 3; ++i)
    if (outputs[i]) TF_DeleteTensor(outputs[i]);
  if (input) TF_DeleteTensor(input);
  if (session) {
    TF_CloseSession(session, st);
    TF_DeleteSession(session, st);
  }
  if (lib) TF_DeleteLibraryHandle(lib);
  TF_DeleteSessionOptions(opts);
  TF_DeleteGraph(graph);
  TF_DeleteStatus(st);
  return rc;
}
