// GELU on oneDNN: the backend's eltwise layer with the exact-erf GELU algorithm.
#include "plugins/examples/gelu/gelu.h"
#include "plugins/onednn/onednn_util.h"

namespace cxr::gelu {

std::unique_ptr<Layer> make_gelu_onednn(const OpParams&, Backend& backend) {
  return dnn::make_eltwise_onednn(backend, dnnl::algorithm::eltwise_gelu_erf, "gelu");
}

}  // namespace cxr::gelu
