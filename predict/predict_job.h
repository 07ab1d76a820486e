// `cxrtune predict`: a checkpoint's model on new images, in constant memory over any number of
// inputs. The inputs (input_list.h) become a data set that the loader (io/loader.h) decodes and
// preprocesses exactly as the checkpoint's recipe says (its eval-mode preprocessing: image size,
// channels, normalisation), in its worker threads, in input order, `batch` images at a time;
// each batch is scored (scoring.h), written to the CSV (predictions_csv.h) and, with a cam
// folder, explained (grad_cam.h, cam_files.h) before the next one is taken, so memory does not
// grow with the number of inputs.
// on_bad_file "fail" (the default, as in recipes): the first file the reader refuses stops the
// run with a UsageError naming it (exit 2), and no CSV is left behind; "skip": every file is
// decoded once up front, refused ones are named on stderr and have no row.
// The caller loads the model (job/checkpoint_model.h): predict/ does not link the job library,
// whose training job calls the gallery (gallery.h).
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "job/checkpoint_model.h"

namespace cxr {

struct PredictOptions {
  std::vector<std::string> inputs;
  std::string out = "predictions.csv";
  std::string cam_dir;                // empty: no Grad-CAM
  std::string cam_class;              // empty: each image's top class
  std::optional<double> threshold;    // multi-label: one threshold for every label
  int64_t batch = 0;                  // 0: the recipe's train.batch_size
  std::string on_bad_file;            // "skip" | "fail"; empty: the recipe's data.on_bad_file
  // Called after each batch with images done and the total (a progress bar).
  std::function<void(int64_t done, int64_t total)> on_progress;
};

// Where the time went, so that a slow run says why (cxrtune predict prints it; the benchmark
// bench/predict_bench.sh compares `network_seconds` with cxrtune bench's inference figure).
struct PredictSummary {
  int64_t scored = 0, skipped = 0;
  double seconds = 0;          // from the loader's construction to the CSV renamed
  double setup_seconds = 0;    // of which the loader's construction and net.prepare (primitives)
  double wait_seconds = 0;     // waiting for the loader's next batch (decode not yet overlapped)
  double network_seconds = 0;  // the forward passes, input written and logits read back
  double first_batch_network_seconds = 0;  // of which the first batch's (first-touch, JIT caches)
  double median_batch_network_seconds = 0;  // the median over full batches: bench's statistic
  double cam_seconds = 0;        // Grad-CAM in all: its compute and its files
  double cam_compute_seconds = 0;  // of which the backward to the stage and the maps
};

PredictSummary run_predict(CheckpointModel& model, const PredictOptions& options);

}  // namespace cxr
