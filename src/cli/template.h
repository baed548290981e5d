// Go's text/template, the subset Docker's --format uses: fields and nested
// fields, variables, pipelines, if/else, range, with, and Docker's functions
// (json, index, len, printf, join, split, lower, upper, title, println,
// comparisons, and/or/not). Data is JSON, as docker inspect renders it.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/error.h"
#include "base/json.h"

namespace berth::cli {

struct TemplateNode;

class Template {
 public:
  // Parses text; errors read like Go's ("template: :1: function "foo" not defined").
  static Result<Template> parse(std::string_view text);
  // Renders with data as dot; a missing map key is an error, as in docker inspect.
  Result<std::string> execute(const Json& data) const;

 private:
  std::shared_ptr<const TemplateNode> root_;
};

// How Go prints a value with %v: strings bare, integers without a fraction,
// arrays as [a b], objects as map[k:v] with sorted keys, null as <nil>.
std::string go_text(const Json& value);

}  // namespace berth::cli
