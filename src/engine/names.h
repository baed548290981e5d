// Container names: validated as Docker does, and generated as
// "adjective_surname" when none is given.
#pragma once

#include <functional>
#include <random>
#include <string>

#include "base/error.h"

namespace berth::engine {

// Docker's rule: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (a leading "/" is dropped).
Result<std::string> validate_container_name(std::string_view name);

// A random "adjective_surname".
std::string random_name(std::mt19937& rng);

// A random name that `taken` does not report as used; after many collisions
// a digit is appended, as Docker does.
std::string unique_name(std::mt19937& rng, const std::function<bool(const std::string&)>& taken);

}  // namespace berth::engine
