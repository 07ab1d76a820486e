// sigmoid on oneDNN: the backend's eltwise layer with the logistic algorithm, in the layout of
// its input (backward from the input, as every eltwise layer here).
#include "plugins/onednn/onednn_util.h"

namespace cxr::dnn {

std::unique_ptr<Layer> make_sigmoid_onednn(const OpParams&, Backend& b) {
  return make_eltwise_onednn(b, dnnl::algorithm::eltwise_logistic, "sigmoid");
}

}  // namespace cxr::dnn
