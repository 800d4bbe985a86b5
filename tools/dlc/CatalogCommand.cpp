//===- CatalogCommand.cpp - `dlc catalog`: what the compiler knows --------===//
#include "tools/dlc/CatalogCommand.h"

#include "compiler/Kernels/KernelRegistry.h"
#include "dialects/DL/DLCatalog.h"
#include "dialects/DL/DLDialect.h"
#include "dialects/DL/DLOps.h"
#include "frontend/Layers.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

using json = nlohmann::ordered_json;

namespace dlc {
namespace {

const char *typeName(dl::OptionType type) {
  switch (type) {
  case dl::OptionType::Int: return "int";
  case dl::OptionType::Float: return "float";
  case dl::OptionType::Bool: return "bool";
  case dl::OptionType::Word: return "word";
  case dl::OptionType::String: return "string";
  case dl::OptionType::Path: return "path";
  case dl::OptionType::FloatOrList: return "float_or_list";
  case dl::OptionType::IntOrPair: return "int_or_pair";
  case dl::OptionType::IntList: return "int_list";
  case dl::OptionType::Rate: return "rate";
  }
  return "?";
}

json defaultValue(const dl::OptionDefault &d) {
  using K = dl::OptionDefault::Kind;
  switch (d.kind) {
  case K::None: return "required";
  case K::Absent: return nullptr;
  case K::Int: return d.intValue;
  case K::Float: return d.floatValue;
  case K::Bool: return d.intValue != 0;
  case K::String: return d.text;
  }
  return nullptr;
}

json bound(double v) { return std::isinf(v) ? json(nullptr) : json(v); }

json options(llvm::ArrayRef<dl::OptionSpec> specs) {
  json out = json::array();
  for (const dl::OptionSpec &o : specs) {
    json option = {{"name", o.name}, {"type", typeName(o.type)}, {"default", defaultValue(o.defaultValue)}};
    if (!std::isinf(o.range.min) || !std::isinf(o.range.max))
      option["range"] = {{"min", bound(o.range.min)}, {"max", bound(o.range.max)},
                         {"min_open", o.range.minOpen}, {"max_open", o.range.maxOpen}};
    if (!o.words.empty())
      option["words"] = o.words;
    out.push_back(option);
  }
  return out;
}

json kinds(dl::Category category) {
  json out = json::array();
  for (const dl::KindSpec &k : dl::kindsOf(category))
    out.push_back({{"name", k.name}, {"options", options(k.options)}});
  return out;
}

} // namespace

int printCatalog(bool asJson) {
  json catalog;
  json layers = json::array();
  for (const LayerKind &l : layerKinds())
    layers.push_back({{"name", l.name}, {"default_name", l.defaultName}, {"merge", l.merge},
                      {"options", options(l.options)}});
  catalog["layers"] = layers;
  catalog["losses"] = kinds(dl::Category::Loss);
  catalog["optimizers"] = kinds(dl::Category::Optimizer);
  catalog["metrics"] = kinds(dl::Category::Metric);
  catalog["data_sources"] = kinds(dl::Category::DataSource);
  catalog["data_transforms"] = kinds(dl::Category::DataTransform);
  // What the training step may apply itself (dl.augment): all but resize (a
  // random_crop where the source declares its images' size).
  for (json &transform : catalog["data_transforms"])
    transform["in_training_step"] = transform["name"] != "resize";
  catalog["loss_scales"] = kinds(dl::Category::LossScale);
  catalog["callbacks"] = kinds(dl::Category::Callback);
  catalog["schedules"] = kinds(dl::Category::Schedule);
  json elementTypes = json::array();
  for (const dl::ElementTypeSpec &t : dl::elementTypes())
    elementTypes.push_back(t.name);
  catalog["element_types"] = elementTypes;

  mlir::MLIRContext context;
  context.loadDialect<dl::DLDialect>();
  std::vector<std::pair<std::string, bool>> dlOps;
  for (mlir::RegisteredOperationName op : context.getRegisteredOperations())
    if (op.getDialectNamespace() == "dl")
      dlOps.push_back({op.getStringRef().str(), op.hasInterface<dl::DifferentiableOpInterface>()});
  std::sort(dlOps.begin(), dlOps.end());
  json ops = json::array();
  for (const auto &[name, differentiable] : dlOps)
    ops.push_back({{"name", name}, {"differentiable", differentiable}});
  catalog["ops"] = ops;
  json families = json::array();
  for (const kernels::KernelFamily &f : kernels::kernelFamilies())
    families.push_back({{"target", f.target},
                        {"name", f.name},
                        {"runs", f.runs},
                        {"launch", f.launch},
                        {"limits", f.limits},
                        {"element_types", f.elementTypes},
                        {"library", f.library}});
  catalog["kernel_families"] = families;

  if (asJson) {
    llvm::outs() << catalog.dump(1) << "\n";
    return 0;
  }
  auto names = [](const json &list) {
    std::string text;
    for (const json &e : list)
      text += (text.empty() ? "" : ", ") + (e.is_string() ? e.get<std::string>() : e["name"].get<std::string>());
    return text;
  };
  llvm::outs() << "layers: " << names(catalog["layers"]) << "\n"
               << "losses: " << names(catalog["losses"]) << "\n"
               << "optimizers: " << names(catalog["optimizers"]) << "\n"
               << "metrics: " << names(catalog["metrics"]) << "\n"
               << "data sources: " << names(catalog["data_sources"]) << "\n"
               << "data transforms: " << names(catalog["data_transforms"]) << "\n"
               << "callbacks: " << names(catalog["callbacks"]) << "\n"
               << "learning-rate schedules: " << names(catalog["schedules"]) << "\n"
               << "input element types: " << names(catalog["element_types"]) << "\n"
               << "dl ops: " << names(catalog["ops"]) << "\n"
               << "kernel families:";
  for (llvm::StringRef target : kernels::targets()) {
    std::string list;
    for (const json &f : catalog["kernel_families"])
      if (f["target"] == target.str())
        list += (list.empty() ? " " : ", ") + f["name"].get<std::string>();
    llvm::outs() << " " << target << ":" << list << ";";
  }
  llvm::outs() << "\n"
               << "(--json for every option with its type, default and range)\n";
  return 0;
}

} // namespace dlc
