//===- ClassIdLabels.cpp - Train on class ids, not one-hot rows -----------===//
//
// Implements `dlc-class-id-labels`. Keras' examples one-hot encode their
// class ids (to_categorical) for categorical_crossentropy; a data source
// that gives class ids (dl::givesClassIds) needs no such rows. The loss is
// then the sparse one, which is the same function of the same ids: the
// program takes one int32 per example instead of a float per class (the
// text example's 1,000-word vocabulary: 512 KB per batch of 128 becomes
// 512 bytes), and nobody writes the rows.
//
// Runs before dlc-autodiff, which types the labels by the loss. A loss with
// label_smoothing keeps its rows (the sparse loss has no such option).
//
//===----------------------------------------------------------------------===//
#include "compiler/Transforms/Passes.h"
#include "dialects/DL/DLCatalog.h"
#include "dialects/DL/DLOps.h"

namespace dlc {
#define GEN_PASS_DEF_CLASSIDLABELSPASS
#include "compiler/Transforms/Passes.h.inc"
} // namespace dlc

using namespace mlir;
using namespace dlc;

namespace {

/// |loss| as the sparse loss when it is categorical_crossentropy without
/// label smoothing, else null.
dl::ConfigAttr sparseForm(dl::ConfigAttr loss) {
  if (!loss || loss.getKind() != "categorical_crossentropy")
    return {};
  if (auto smoothing = loss.getOptions().getAs<FloatAttr>("label_smoothing");
      smoothing && smoothing.getValueAsDouble() != 0.0)
    return {};
  MLIRContext *context = loss.getContext();
  NamedAttrList options;
  if (Attribute fromLogits = loss.getOptions().get("from_logits"))
    options.set("from_logits", fromLogits);
  return dl::ConfigAttr::get(context, StringAttr::get(context, "sparse_categorical_crossentropy"),
                             options.getDictionary(context));
}

struct ClassIdLabelsPass : dlc::impl::ClassIdLabelsPassBase<ClassIdLabelsPass> {
  void runOnOperation() override {
    for (dl::TrainSetupOp setup : getOperation().getOps<dl::TrainSetupOp>()) {
      std::optional<dl::ConfigAttr> source = setup.getDataSource();
      if (!source || !dl::givesClassIds(source->getKind().getValue()))
        continue;
      // Such a source gives one target: one loss, for the one output.
      Attribute loss = setup.getLoss();
      if (auto losses = dyn_cast<ArrayAttr>(loss); losses && losses.size() == 1)
        loss = losses[0];
      if (dl::ConfigAttr sparse = sparseForm(dyn_cast<dl::ConfigAttr>(loss)))
        setup.setLossAttr(sparse);
    }
  }
};

} // namespace
