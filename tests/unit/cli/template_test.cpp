// Go text/template as Docker's --format uses it.
#include "cli/template.h"

#include <gtest/gtest.h>

namespace berth::cli {
namespace {

const Json kData = Json::parse(R"({
  "Name": "web", "N": 42, "Running": true, "Status": "exited", "Empty": "", "Nothing": null,
  "State": {"Pid": 1234, "Status": "running", "ExitCode": 0},
  "Items": ["a", "b"], "Map": {"b": 2, "a": 1}, "Labels": {"com.example.key": "v"},
  "S": "x:y", "Words": "hello wide world", "Ratio": 0.5
})");

struct Case {
  std::string format, want;
};

class TemplateTest : public testing::TestWithParam<Case> {};

TEST_P(TemplateTest, Renders) {
  auto t = Template::parse(GetParam().format);
  ASSERT_TRUE(t) << GetParam().format << ": " << t.error().message();
  auto out = t->execute(kData);
  ASSERT_TRUE(out) << GetParam().format << ": " << out.error().message();
  EXPECT_EQ(*out, GetParam().want) << GetParam().format;
}

INSTANTIATE_TEST_SUITE_P(
    Go, TemplateTest,
    testing::Values(Case{"plain text", "plain text"}, Case{"{{.Name}}", "web"}, Case{"{{.State.Pid}}", "1234"},
                    Case{"pid={{ .State.Pid }} code={{.State.ExitCode}}", "pid=1234 code=0"}, Case{"{{.Ratio}}", "0.5"},
                    Case{"{{.Items}} {{.Map}}", "[a b] map[a:1 b:2]"}, Case{"{{.Nothing}}", "<no value>"},
                    Case{"{{json .State}}", R"({"ExitCode":0,"Pid":1234,"Status":"running"})"}, Case{"{{json .Name}}", "\"web\""},
                    Case{"{{index .Labels \"com.example.key\"}}", "v"}, Case{"{{index .Items 1}}", "b"},
                    Case{"{{index .Labels \"missing\"}}", "<no value>"},
                    Case{"{{range .Items}}{{.}},{{end}}", "a,b,"},
                    Case{"{{range $i, $e := .Items}}{{$i}}={{$e}} {{end}}", "0=a 1=b "},
                    Case{"{{range $k, $v := .Map}}{{$k}}:{{$v}};{{end}}", "a:1;b:2;"},
                    Case{"{{range .Empty}}x{{else}}none{{end}}", "none"},
                    Case{"{{if .Running}}up{{else}}down{{end}}", "up"}, Case{"{{if .Empty}}y{{else}}n{{end}}", "n"},
                    Case{"{{if eq .Status \"running\"}}r{{else if eq .Status \"exited\"}}e{{else}}?{{end}}", "e"},
                    Case{"{{if and .Running (gt .N 40)}}big{{end}}", "big"},
                    Case{"{{if or .Empty .Nothing}}t{{else}}f{{end}}{{if not .Empty}}!{{end}}", "f!"},
                    Case{"{{with .State}}{{.Status}}/{{$.Name}}{{end}}", "running/web"},
                    Case{"{{with .Nothing}}x{{else}}nil{{end}}", "nil"},
                    Case{"{{printf \"%-6s|%5d|%q|%v\" .Name .N .S .Items}}", "web   |   42|\"x:y\"|[a b]"},
                    Case{"{{printf \"%.1f%%\" .Ratio}}", "0.5%"},
                    Case{"{{join .Items \", \"}}", "a, b"}, Case{"{{split .S \":\"}}", "[x y]"},
                    Case{"{{len .Items}} {{len .Name}} {{len (split .S \":\")}}", "2 3 2"},
                    Case{"{{lower \"ABC\"}} {{upper .Name}} {{title .Words}}", "abc WEB Hello Wide World"},
                    Case{"{{.Name | upper}} {{.Name | printf \"%s!\"}}", "WEB web!"},
                    Case{"{{truncate .Words 5}}|{{pad .Name 1 2}}|", "hello| web  |"},
                    Case{"{{$x := .Name}}{{$x}}-{{$x = \"new\"}}{{$x}}", "web-new"},
                    Case{"a  {{- .Name -}}  b", "awebb"}, Case{"{{/* a comment */}}x", "x"},
                    Case{"{{(index .Items 0)}}{{(.State).Pid}}", "a1234"}, Case{"{{println .Name .N}}", "web 42\n"},
                    Case{"line1\n{{.Name}}\n", "line1\nweb\n"}));

struct BadCase {
  std::string format, error;
};

class TemplateErrorTest : public testing::TestWithParam<BadCase> {};

TEST_P(TemplateErrorTest, ReportsNeverCrashes) {
  auto t = Template::parse(GetParam().format);
  std::string message;
  if (!t) {
    message = t.error().message();
  } else {
    auto out = t->execute(kData);
    ASSERT_FALSE(out) << GetParam().format << " rendered " << *out;
    message = out.error().message();
  }
  EXPECT_EQ(message, GetParam().error) << GetParam().format;
}

INSTANTIATE_TEST_SUITE_P(
    Go, TemplateErrorTest,
    testing::Values(BadCase{"{{.Missing}}", "template: :1:2: executing \"\" at <.Missing>: map has no entry for key \"Missing\""},
                    BadCase{"{{.Name.Length}}", "template: :1:2: executing \"\" at <.Name.Length>: can't evaluate field Length in type string"},
                    BadCase{"{{.Nothing.X}}", "template: :1:2: executing \"\" at <.Nothing.X>: nil pointer evaluating interface {}.X"},
                    BadCase{"{{nope .Name}}", "template: :1: function \"nope\" not defined"},
                    BadCase{"{{.Name", "template: :1: unclosed action"},
                    BadCase{"{{if .Running}}x", "template: :1: unexpected EOF"},
                    BadCase{"x{{end}}", "template: :1: unexpected {{end}}"},
                    BadCase{"{{\"open}}", "template: :1: unterminated quoted string"},
                    BadCase{"{{.Name 3}}", "template: :1:2: executing \"\" at <.Name>: can't give argument to non-function .Name"},
                    BadCase{"{{join .Name \",\"}}", "template: :1:2: executing \"\" at <join>: error calling join: expected a list, got web"},
                    BadCase{"{{index .Items 5}}", "template: :1:2: executing \"\" at <index>: error calling index: index out of range: 5"},
                    BadCase{"{{len}}", "template: :1:2: executing \"\" at <len>: wrong number of args for len: want 1 got 0"},
                    BadCase{"{{template \"x\"}}", "template: :1: \"template\" is not supported"},
                    BadCase{"{{$undefined}}", "undefined variable: $undefined"}));

TEST(GoTextTest, Values) {
  EXPECT_EQ(go_text(Json(3.0)), "3");
  EXPECT_EQ(go_text(Json(1e21)), "1e+21");
  EXPECT_EQ(go_text(Json::parse("[[1,2],{\"k\":null}]")), "[[1 2] map[k:<nil>]]");
}

}  // namespace
}  // namespace berth::cli
