//===- code_trust.h - Which bundles' code this machine runs ---------------===//
//
// Two backends execute code that a bundle carries:
//   * cuda-sim compiles each kernel's CUDA C++ source with the host C++
//     compiler and runs it in this process, with this user's rights: a
//     bundle's source can do anything a program can (open files, start
//     processes). It runs only bundles that dlc compiled on this machine,
//     which sign them (below), unless the user opts in for one run
//     (--trust-bundle-code; SimOptions::trustAnyBundle).
//   * cuda (a GPU) compiles or loads the bundle's PTX/CUBIN through the
//     driver and runs it on the GPU: device code reaches only this
//     process's GPU memory (the driver isolates contexts), but there it can
//     read or write any buffer of the session. A bundle from elsewhere is
//     to be trusted like a shared library from there.
// The cpu backend runs no code from a bundle: it interprets the programs'
// ops, each checked against its contract (runtime/op_contracts.h).
//
// The signature is an HMAC-SHA256, keyed by 32 random bytes kept readable
// by this user only, of the whole file before the trailer (runtime/bundle.h).
// It says "compiled by dlc here", not who wrote the model: the .dl source
// is not code, only the compiler's output is.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/bundle.h"
#include "runtime/status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace dlc::rt::cuda {

/// Where this user's signing key lives: $DLC_BUNDLE_KEY, else
/// $XDG_CONFIG_HOME/dlc/bundle-key, else $HOME/.config/dlc/bundle-key.
std::string signingKeyPath();

/// Appends this machine's signature trailer to the bundle file |bytes|,
/// creating the key on first use. Fails (leaving |bytes| unsigned) when the
/// key cannot be read or created.
Status signBundle(std::vector<uint8_t> *bytes);

/// Whether |bundle| carries a valid signature made with this machine's key.
bool signedHere(const Bundle &bundle);

/// HMAC-SHA256 of |data| under |key| (RFC 2104), for the tests.
std::vector<uint8_t> hmacSha256(const std::vector<uint8_t> &key, const uint8_t *data, size_t size);

} // namespace dlc::rt::cuda
