#include "plugins/backends.h"

#include "core/errors.h"
#include "engine/ops/register_ops.h"
#include "plugins/reference/reference_backend.h"
#include "plugins/reference/register.h"
#ifdef CXRTUNE_HAVE_ONEDNN
#include "plugins/onednn/onednn_backend.h"
#include "plugins/onednn/register.h"
#endif
#ifdef CXRTUNE_HAVE_CUDNN
#include "plugins/cudnn/cudnn_backend.h"
#include "plugins/cudnn/register.h"
#endif

namespace cxr {

void register_all_layers(LayerRegistry& registry) {
  register_ops(registry);
  register_reference_layers(registry);
#ifdef CXRTUNE_HAVE_ONEDNN
  register_onednn_layers(registry);
#endif
#ifdef CXRTUNE_HAVE_CUDNN
  register_cudnn_layers(registry);
#endif
}

std::vector<std::string> compiled_backends() {
  std::vector<std::string> names{"reference"};
#ifdef CXRTUNE_HAVE_ONEDNN
  names.push_back("onednn");
#endif
#ifdef CXRTUNE_HAVE_CUDNN
  names.push_back("cudnn");
#endif
  return names;
}

bool backend_usable(const std::string& name, std::string* why) {
  if (name == "reference") return true;
#ifdef CXRTUNE_HAVE_ONEDNN
  if (name == "onednn") return true;
#endif
#ifdef CXRTUNE_HAVE_CUDNN
  if (name == "cudnn") return cudnn_usable(why);
#endif
  if (why) *why = "backend '" + name + "' is not compiled into this build";
  return false;
}

std::unique_ptr<Backend> make_backend(const std::string& requested, int threads, DType compute,
                                      const std::string& conv_algorithm) {
  if (conv_algorithm != "direct" && conv_algorithm != "winograd")
    throw UsageError("conv_algorithm '" + conv_algorithm + "': expected direct or winograd");
  std::string name = requested;
  if (name == "auto") name = backend_usable("cudnn") ? "cudnn" : "cpu";
#ifdef CXRTUNE_HAVE_ONEDNN
  if (name == "cpu") name = "onednn";
#else
  if (name == "cpu") name = "reference";
#endif
  if (name == "cuda") name = "cudnn";
  std::string why;
  if (!backend_usable(name, &why)) throw UsageError("backend '" + requested + "': " + why);
  if (name == "reference") {
    // The reference computes in double whatever the precision: it is the truth tests compare to.
    if (compute != DType::F32)
      throw UsageError("backend 'reference' computes in f32/f64 only, not " + to_string(compute));
    return make_reference_backend(threads);
  }
#ifdef CXRTUNE_HAVE_ONEDNN
  if (name == "onednn") return make_onednn_backend(threads, compute, conv_algorithm == "winograd");
#endif
#ifdef CXRTUNE_HAVE_CUDNN
  if (name == "cudnn") return make_cudnn_backend(0, compute);
#endif
  throw UsageError("unknown backend '" + requested + "' (cpu, cuda, auto, reference)");
}

}  // namespace cxr
