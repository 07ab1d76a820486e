// The recipe's data section as the request io/dataset_layouts.h resolves (header only: the
// recipes library itself never links io). `train` and `cxrtune dataset` both call this, so a
// dry run shows exactly what training reads.
#pragma once
#include "io/dataset_layouts.h"
#include "recipes/recipe.h"

namespace cxr {

inline LayoutRequest layout_request(const Recipe& r) {
  const DataRecipe& d = r.data;
  LayoutRequest q;
  q.format = d.format;
  q.train = d.train;
  q.val = d.val;
  q.test = d.test;
  q.images = d.images;
  q.labels = d.labels;
  q.labels_where = d.labels_where;
  q.views = d.views;
  q.uncertain = d.uncertain;
  q.skip_bad_files = d.on_bad_file == "skip";
  q.val_split = d.val_split;
  q.seed = static_cast<uint64_t>(r.train.seed);
  return q;
}

}  // namespace cxr
