#include "oci/runtime_spec.h"

#include <gtest/gtest.h>

namespace berth::oci {
namespace {

Json minimal() {
  return Json::parse(R"({
    "ociVersion": "1.0.2",
    "root": {"path": "rootfs"},
    "process": {"args": ["sh"], "cwd": "/", "user": {"uid": 0, "gid": 0}},
    "linux": {"namespaces": [{"type": "mount"}]}
  })");
}

TEST(RuntimeSpecTest, ParsesMinimalConfig) {
  auto spec = parse_spec_json(minimal());
  ASSERT_TRUE(spec) << spec.error().message();
  EXPECT_EQ(spec->root.path, "rootfs");
  EXPECT_EQ(spec->process->args, std::vector<std::string>{"sh"});
  ASSERT_NE(spec->linux->find_namespace("mount"), nullptr);
  EXPECT_EQ(spec->linux->find_namespace("pid"), nullptr);
}

TEST(RuntimeSpecTest, DefaultSpecParses) {
  for (bool rootless : {false, true}) {
    auto spec = parse_spec_json(default_spec(rootless));
    ASSERT_TRUE(spec) << spec.error().message();
    EXPECT_TRUE(spec->process->terminal);
    EXPECT_EQ(spec->linux->find_namespace("user") != nullptr, rootless);
  }
}

struct BadCase {
  const char* pointer;  // JSON pointer to set
  const char* value;    // JSON value
  const char* message;
};

class RuntimeSpecErrorTest : public testing::TestWithParam<BadCase> {};

TEST_P(RuntimeSpecErrorTest, NamesTheJsonPath) {
  Json doc = minimal();
  doc[Json::json_pointer(GetParam().pointer)] = Json::parse(GetParam().value);
  auto spec = parse_spec_json(doc);
  ASSERT_FALSE(spec);
  EXPECT_EQ(spec.error().message(), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, RuntimeSpecErrorTest,
    testing::Values(
        BadCase{"/process/args", "[]", "process.args: must be a non-empty array"},
        BadCase{"/process/args", "\"sh\"", "process.args: must be an array"},
        BadCase{"/process/args", "[1]", "process.args[0]: must be a string"},
        BadCase{"/process/cwd", "\"tmp\"", "process.cwd: must be an absolute path"},
        BadCase{"/process/user", "{\"uid\": 0}", "process.user.gid: is required"},
        BadCase{"/process/user/uid", "-1", "process.user.uid: must be an unsigned integer"},
        BadCase{"/process/user/uid", "4294967296", "process.user.uid: out of range"},
        BadCase{"/process/terminal", "\"yes\"", "process.terminal: must be a boolean"},
        BadCase{"/process/oomScoreAdj", "2000", "process.oomScoreAdj: must be between -1000 and 1000"},
        BadCase{"/root", "null", "root: is required"},
        BadCase{"/root/path", "\"\"", "root.path: must not be empty"},
        BadCase{"/ociVersion", "1", "ociVersion: must be a string"},
        BadCase{"/mounts", "[{\"source\": \"x\"}]", "mounts[0].destination: is required"},
        BadCase{"/mounts", "[{\"destination\": \"x\"}]", "mounts[0].destination: must be an absolute path"},
        BadCase{"/linux/namespaces/1", "{\"type\": \"mount\"}", "linux.namespaces[1]: duplicate namespace \"mount\""},
        BadCase{"/linux/namespaces/1", "{\"type\": \"net\"}", "linux.namespaces[1].type: unknown namespace type \"net\""},
        BadCase{"/linux/uidMappings", "[{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}]",
                "linux.uidMappings: requires a user namespace"},
        BadCase{"/linux/resources", "{\"memory\": {\"limit\": 1.5}}", "linux.resources.memory.limit: must be an integer"},
        BadCase{"/linux/resources", "{\"pids\": {}}", "linux.resources.pids.limit: is required"},
        BadCase{"/linux/resources", "{\"devices\": [{\"access\": \"rwx\", \"allow\": true}]}",
                "linux.resources.devices[0].access: must be made of r, w, m"},
        BadCase{"/linux/seccomp", "{\"syscalls\": []}", "linux.seccomp.defaultAction: is required"},
        BadCase{"/linux/seccomp", "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [], \"action\": \"SCMP_ACT_KILL\"}]}",
                "linux.seccomp.syscalls[0].names: must be a non-empty array"},
        BadCase{"/linux/devices", "[{\"type\": \"x\", \"path\": \"/dev/x\"}]", "linux.devices[0].type: must be one of c, b, u, p"},
        BadCase{"/hooks/prestart", "[{\"path\": \"relative\"}]", "hooks.prestart[0].path: must be an absolute path"},
        BadCase{"/hooks/poststop", "[{\"path\": \"/bin/true\", \"timeout\": 0}]", "hooks.poststop[0].timeout: must be greater than zero"},
        BadCase{"/hostname", "\"box\"", "hostname: requires a uts namespace"}));

TEST(RuntimeSpecTest, MalformedJsonIsAnError) {
  auto spec = parse_spec("{\"ociVersion\": ");
  ASSERT_FALSE(spec);
  EXPECT_TRUE(spec.error().message().starts_with("invalid JSON: parse error")) << spec.error().message();
}

TEST(RuntimeSpecTest, ProcessDocumentForExec) {
  auto process = parse_process(R"({"args": ["ls"], "cwd": "/", "user": {"uid": 1, "gid": 2, "additionalGids": [3]}})");
  ASSERT_TRUE(process) << process.error().message();
  EXPECT_EQ(process->user.additional_gids, std::vector<uint32_t>{3});
  EXPECT_FALSE(parse_process(R"({"args": [], "cwd": "/", "user": {"uid": 0, "gid": 0}})"));
}

TEST(RuntimeSpecTest, StateDocument) {
  Json j = state_to_json({"1.2.0", "abc", "running", 42, "/b", {{"k", "v"}}});
  EXPECT_EQ(j.dump(), R"({"annotations":{"k":"v"},"bundle":"/b","id":"abc","ociVersion":"1.2.0","pid":42,"status":"running"})");
}

}  // namespace
}  // namespace berth::oci
