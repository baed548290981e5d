#include "engine/names.h"

#include <array>
#include <cctype>

namespace berth::engine {

namespace {

constexpr std::array kAdjectives = {
    "agile",    "amber",    "ardent",   "blissful", "bold",     "brave",    "bright",   "calm",     "candid",   "clever",
    "cosmic",   "crisp",    "curious",  "daring",   "dazzling", "eager",    "earnest",  "elegant",  "epic",     "fearless",
    "fluent",   "frosty",   "gallant",  "gentle",   "gleaming", "graceful", "hardy",    "humble",   "jolly",    "keen",
    "kind",     "lively",   "lucid",    "mellow",   "merry",    "mighty",   "nimble",   "noble",    "patient",  "placid",
    "plucky",   "polished", "quiet",    "radiant",  "rapid",    "serene",   "sharp",    "snug",     "steady",   "sunny",
    "swift",    "tender",   "tidy",     "upbeat",   "valiant",  "vivid",    "warm",     "witty",    "zealous",  "zesty",
};

constexpr std::array kSurnames = {
    "agnesi",    "archimedes", "babbage",  "banach",    "bell",     "bohr",      "boole",     "cantor",    "cauchy",
    "chandra",   "curie",      "darwin",   "descartes", "dijkstra", "einstein",  "euclid",    "euler",     "faraday",
    "fermat",    "fermi",      "feynman",  "fourier",   "franklin", "galois",    "gauss",     "germain",   "goodall",
    "hamilton",  "hawking",    "heisenberg", "hilbert", "hodgkin",  "hopper",    "hubble",    "huygens",   "jacobi",
    "johnson",   "kepler",     "knuth",    "kovalevskaya", "lagrange", "laplace", "leibniz",  "lovelace",  "maxwell",
    "meitner",   "mendel",     "mirzakhani", "newton",  "noether",  "pascal",    "pasteur",   "planck",    "poincare",
    "ramanujan", "riemann",    "ritchie",  "shannon",   "somerville", "tesla",   "thompson",  "turing",    "volta",
    "wiles",     "wu",         "yalow",
};

}  // namespace

Result<std::string> validate_container_name(std::string_view name) {
  if (name.starts_with('/')) name.remove_prefix(1);
  auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  bool valid = name.size() >= 2 && alnum(name.front());
  for (char c : name) valid = valid && (alnum(c) || c == '_' || c == '.' || c == '-');
  if (!valid) return fail("Invalid container name (" + std::string(name) + "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", EINVAL);
  return std::string(name);
}

std::string random_name(std::mt19937& rng) {
  std::uniform_int_distribution<size_t> adjective(0, kAdjectives.size() - 1), surname(0, kSurnames.size() - 1);
  return std::string(kAdjectives[adjective(rng)]) + "_" + kSurnames[surname(rng)];
}

std::string unique_name(std::mt19937& rng, const std::function<bool(const std::string&)>& taken) {
  for (int attempt = 0;; ++attempt) {
    std::string name = random_name(rng);
    if (attempt >= 10) name += std::to_string(std::uniform_int_distribution<int>(0, 9)(rng));
    if (!taken(name)) return name;
  }
}

}  // namespace berth::engine
