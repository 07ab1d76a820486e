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

struct PredictSummary {
  int64_t scored = 0, skipped = 0;
  double seconds = 0;      // from the first batch requested to the CSV renamed
  double cam_seconds = 0;  // of which Grad-CAM (backward to the stage) and its files
};

PredictSummary run_predict(CheckpointModel& model, const PredictOptions& options);

}  // namespace cxr
