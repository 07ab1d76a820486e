// The plugin's entry point: registers the op definition (with test cases, so the registry-wide
// parity sweep covers it) and its implementations.
#include "engine/layer_registry.h"
#include "plugins/examples/gelu/gelu.h"

extern "C" void cxrtune_register_plugin(cxr::LayerRegistry& registry) {
  using namespace cxr;
  OpInfo info;
  info.name = "gelu";
  info.cases = [] {
    std::vector<OpCase> cases;
    for (Shape s : {Shape{2, 3, 5, 7}, Shape{1, 17, 4, 4}, Shape{3, 10}}) {
      OpCase c;
      c.params = std::make_shared<gelu::GeluParams>();
      c.inputs = {s};
      cases.push_back(std::move(c));
    }
    return cases;
  };
  registry.add_op(std::move(info));
  registry.add("gelu", "reference", &gelu::make_gelu_reference);
#ifdef CXRTUNE_HAVE_ONEDNN
  registry.add("gelu", "onednn", &gelu::make_gelu_onednn);
#endif
}
