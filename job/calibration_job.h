// `cxrtune eval --calibrate`: temperature scaling (engine/temperature_scaling.h) fitted on the
// validation split of the checkpoint's own recipe (data.val, or data.val_split of data.train, as
// training split it), stored in the checkpoint as metadata "temperature" (a decimal string that
// reads back the same double). The checkpoint file is replaced by a new file renamed over it:
// a run's best.safetensors is a hard link to a step directory's model file, and that file is
// never modified (the link is broken instead). Later evaluations and predictions divide logits
// by the temperature. A temperature already present is ignored by the fit (it starts from the
// raw logits) and replaced.
// Failure modes: those of load_checkpoint_model and make_data (UsageError naming the file or
// key); a validation split without samples.
#pragma once
#include <cstdint>
#include <string>

#include "job/checkpoint_model.h"

namespace cxr {

struct CalibrationOutcome {
  std::string checkpoint;  // the file that now holds "temperature"
  double temperature = 1;
  int64_t samples = 0;                     // validation samples fitted on
  double nll_before = 0, nll_after = 0;    // validation NLL at T = 1 and at T
  double ece_before = 0, ece_after = 0;    // validation ECE (15 equal-width bins)
  std::string ece_of;                      // what the ECE bins (as eval's metrics.json says)
  bool at_bracket_edge = false;            // the fit's minimum lay on T's search bracket
};

CalibrationOutcome calibrate_checkpoint(const CheckpointModelOptions& options);

// The decimal string stored as "temperature": %.17g, read back exactly by strtod.
std::string temperature_text(double temperature);

}  // namespace cxr
