//===- DLDialect.td - The dl dialect: layers of .dl models ---*- tablegen -*-===//
#ifndef DL_DIALECT
#define DL_DIALECT

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def DL_Dialect : Dialect {
  let name = "dl";
  let cppNamespace = "::dlc::dl";
  let summary = "Keras-level layers and training setup of dlc models";
  let description = [{
    The dl dialect holds networks as the .dl language describes them: one op
    per layer or activation, on ranked tensors whose leading dimension is the
    (usually dynamic) batch, NHWC images, Keras parameter layouts, plus the
    structural ops a training setup needs (parameters and the training
    configuration).
  }];
  let useDefaultAttributePrinterParser = 1;
}

class DL_Op<string mnemonic, list<Trait> traits = []>
    : Op<DL_Dialect, mnemonic, traits>;

class DL_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<DL_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def DL_PaddingEnum : I32EnumAttr<"Padding", "spatial padding mode", [
    I32EnumAttrCase<"valid", 0>, I32EnumAttrCase<"same", 1>]> {
  let cppNamespace = "::dlc::dl";
  let genSpecializedAttr = 0;
}
def DL_PaddingAttr : EnumAttr<DL_Dialect, DL_PaddingEnum, "padding">;

def DL_InitializerEnum : I32EnumAttr<"Initializer", "parameter initializer", [
    I32EnumAttrCase<"glorot_uniform", 0>, I32EnumAttrCase<"glorot_normal", 1>,
    I32EnumAttrCase<"he_uniform", 2>, I32EnumAttrCase<"he_normal", 3>,
    I32EnumAttrCase<"lecun_normal", 4>, I32EnumAttrCase<"orthogonal", 5>,
    I32EnumAttrCase<"uniform", 6>, I32EnumAttrCase<"normal", 7>,
    I32EnumAttrCase<"zeros", 8>, I32EnumAttrCase<"ones", 9>,
    I32EnumAttrCase<"lstm_bias", 10>, I32EnumAttrCase<"constant", 11>]> {
  let cppNamespace = "::dlc::dl";
  let genSpecializedAttr = 0;
}
def DL_InitializerAttr : EnumAttr<DL_Dialect, DL_InitializerEnum, "init">;

def DL_PrecisionEnum : I32EnumAttr<"Precision", "numeric precision policy", [
    I32EnumAttrCase<"fp32", 0>, I32EnumAttrCase<"mixed_fp16", 1>,
    I32EnumAttrCase<"mixed_bf16", 2>, I32EnumAttrCase<"tf32", 3>]> {
  let cppNamespace = "::dlc::dl";
  let genSpecializedAttr = 0;
}
def DL_PrecisionAttr : EnumAttr<DL_Dialect, DL_PrecisionEnum, "precision">;

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

def DL_ConfigAttr : DL_Attr<"Config", "config"> {
  let summary = "a named choice with its options, e.g. an optimizer";
  let description = [{
    One entry of the training setup: a loss, optimizer, metric, data source
    or data transform, with every option spelled out (defaults filled in by the
    frontend). Which kinds and options exist is defined once, in
    DLCatalog.cpp, and checked by the verifier of `dl.train_setup`.

    ```mlir
    #dl.config<"adam", {learning_rate = 1.000000e-03 : f64, beta_1 = ...}>
    ```
  }];
  let parameters = (ins "::mlir::StringAttr":$kind, "::mlir::DictionaryAttr":$options);
  let assemblyFormat = "`<` $kind `,` $options `>`";
}

#endif // DL_DIALECT
