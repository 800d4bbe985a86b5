//===- CatalogCommand.h - `dlc catalog`: what the compiler knows ----------===//
#pragma once

namespace dlc {

/// Prints every layer of the .dl language with its options (type, default,
/// range, words), every loss, optimizer, metric, data source and data transform,
/// every op of the dl dialect and every CUDA kernel family, as text or JSON.
/// The registries speak for themselves here, so test generators and
/// coverage checks read them instead of keeping their own lists.
int printCatalog(bool json);

} // namespace dlc
