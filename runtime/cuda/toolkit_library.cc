//===- toolkit_library.cc - Finding a CUDA toolkit library with dlopen ----===//
#include "runtime/cuda/toolkit_library.h"

#include <dlfcn.h>

#include <cstdlib>

namespace dlc::rt::cuda {

std::vector<std::string> toolkitLibraryCandidates(const char *overrideVariable,
                                                  const std::vector<std::string> &sonames) {
  std::vector<std::string> names;
  if (const char *explicitPath = std::getenv(overrideVariable); explicitPath && *explicitPath)
    names.push_back(explicitPath);
  names.insert(names.end(), sonames.begin(), sonames.end());
  std::vector<std::string> roots;
  for (const char *var : {"CUDA_HOME", "CUDA_PATH"})
    if (const char *root = std::getenv(var); root && *root)
      roots.push_back(root);
  roots.push_back("/usr/local/cuda");
  for (const std::string &root : roots)
    for (const std::string &file : sonames)
      names.push_back(root + "/lib64/" + file);
  return names;
}

void *openFirstLibrary(const std::vector<std::string> &candidates, std::string *path, std::string *tried) {
  for (const std::string &name : candidates) {
    if (void *handle = ::dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL)) {
      *path = name;
      return handle;
    }
    const char *why = ::dlerror();
    *tried += "\n  " + name + ": " + (why ? why : "not found");
  }
  return nullptr;
}

} // namespace dlc::rt::cuda
