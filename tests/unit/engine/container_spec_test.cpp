#include "engine/container_spec.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "oci/runtime_spec.h"

namespace berth::engine {
namespace {

namespace fs = std::filesystem;

class ContainerSpecTest : public testing::Test {
 protected:
  void SetUp() override {
    rootfs_ = fs::temp_directory_path() / ("berth-spec-test-" + std::to_string(::getpid()));
    fs::create_directories(rootfs_ / "etc");
    std::ofstream(rootfs_ / "etc" / "passwd") << "root:x:0:0:root:/root:/bin/sh\nweb:x:1000:1000:web:/srv/web:/bin/sh\n";
    std::ofstream(rootfs_ / "etc" / "group") << "root:x:0:\nweb:x:1000:\naudio:x:29:web\nvideo:x:44:web,other\n";
    input_.id = std::string(64, 'a');
    input_.rootfs = rootfs_.string();
    input_.image_config = Json::parse(R"({"config": {"Cmd": ["sh"], "Env": ["PATH=/bin", "A=image"], "WorkingDir": "/srv"}})");
    input_.config = Json::object();
    input_.host_config = Json::object();
  }
  void TearDown() override { fs::remove_all(rootfs_); }

  Json spec() {
    auto s = make_runtime_spec(input_);
    EXPECT_TRUE(s) << s.error().message();
    auto parsed = oci::parse_spec_json(*s);
    EXPECT_TRUE(parsed) << "the spec must be one berth-runtime accepts: " << parsed.error().message();
    return *s;
  }

  fs::path rootfs_;
  SpecInput input_;
};

TEST_F(ContainerSpecTest, DockerDefaults) {
  Json s = spec();
  EXPECT_EQ(s["process"]["args"], Json::parse(R"(["sh"])"));
  EXPECT_EQ(s["process"]["cwd"], "/srv");
  EXPECT_EQ(s["hostname"], std::string(12, 'a'));
  EXPECT_EQ(s["process"]["capabilities"]["bounding"].size(), 14u);
  EXPECT_EQ(s["linux"]["cgroupsPath"], "/berth/" + std::string(64, 'a'));
  EXPECT_EQ(s["mounts"].size(), 7u);
  EXPECT_FALSE(s["root"]["readonly"].get<bool>());
  auto env = s["process"]["env"];
  EXPECT_EQ(env[0], "PATH=/bin");
  EXPECT_EQ(env[1], "HOSTNAME=" + std::string(12, 'a'));
  EXPECT_NE(std::ranges::find(env, Json("HOME=/root")), env.end());
}

TEST_F(ContainerSpecTest, CommandRules) {
  input_.config = Json::parse(R"({"Cmd": ["echo", "hi"]})");
  EXPECT_EQ(spec()["process"]["args"], Json::parse(R"(["echo","hi"])"));
  input_.image_config["config"]["Entrypoint"] = {"/entry"};
  EXPECT_EQ(spec()["process"]["args"], Json::parse(R"(["/entry","echo","hi"])"));
  input_.config = Json::parse(R"({"Entrypoint": ["/other"]})");
  EXPECT_EQ(spec()["process"]["args"], Json::parse(R"(["/other"])")) << "a given entrypoint drops the image's Cmd";
  input_.image_config = Json::parse(R"({"config": {}})");
  input_.config = Json::object();
  EXPECT_EQ(make_runtime_spec(input_).error().message(), "No command specified");
}

TEST_F(ContainerSpecTest, EnvUserAndWorkdir) {
  input_.config = Json::parse(R"({"Env": ["A=container", "B=1"], "User": "web:audio", "WorkingDir": "/tmp", "Tty": true})");
  Json s = spec();
  auto env = s["process"]["env"];
  EXPECT_NE(std::ranges::find(env, Json("A=container")), env.end());
  EXPECT_EQ(std::ranges::find(env, Json("A=image")), env.end());
  EXPECT_NE(std::ranges::find(env, Json("TERM=xterm")), env.end());
  EXPECT_NE(std::ranges::find(env, Json("HOME=/srv/web")), env.end());
  EXPECT_EQ(s["process"]["user"]["uid"], 1000);
  EXPECT_EQ(s["process"]["user"]["gid"], 29);
  EXPECT_EQ(s["process"]["user"]["additionalGids"], Json::parse("[29, 44]"));
  EXPECT_EQ(s["process"]["cwd"], "/tmp");
  EXPECT_TRUE(s["process"]["terminal"].get<bool>());
  input_.config = Json::parse(R"({"User": "nobody"})");
  EXPECT_EQ(make_runtime_spec(input_).error().message(), "unable to find user nobody: no matching entries in passwd file");
  input_.config = Json::parse(R"({"User": "4242:4343"})");
  EXPECT_EQ(spec()["process"]["user"]["uid"], 4242);
}

TEST_F(ContainerSpecTest, ResourcesAndSecurity) {
  input_.host_config = Json::parse(R"({"Memory": 67108864, "NanoCpus": 1500000000, "PidsLimit": 64, "CpuShares": 512,
    "CapAdd": ["SYS_ADMIN"], "CapDrop": ["MKNOD", "net_raw"], "ReadonlyRootfs": true, "SecurityOpt": ["no-new-privileges"],
    "Ulimits": [{"Name": "nofile", "Soft": 100, "Hard": 200}], "Tmpfs": {"/run": "size=1m"}, "OomScoreAdj": 300})");
  Json s = spec();
  const Json& r = s["linux"]["resources"];
  EXPECT_EQ(r["memory"]["limit"], 67108864);
  EXPECT_EQ(r["memory"]["swap"], 2 * 67108864);
  EXPECT_EQ(r["cpu"]["quota"], 150000);
  EXPECT_EQ(r["cpu"]["period"], 100000);
  EXPECT_EQ(r["pids"]["limit"], 64);
  auto caps = s["process"]["capabilities"]["bounding"];
  EXPECT_NE(std::ranges::find(caps, Json("CAP_SYS_ADMIN")), caps.end());
  EXPECT_EQ(std::ranges::find(caps, Json("CAP_MKNOD")), caps.end());
  EXPECT_EQ(std::ranges::find(caps, Json("CAP_NET_RAW")), caps.end());
  EXPECT_TRUE(s["root"]["readonly"].get<bool>());
  EXPECT_TRUE(s["process"]["noNewPrivileges"].get<bool>());
  EXPECT_EQ(s["process"]["rlimits"][0], Json::parse(R"({"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200})"));
  EXPECT_EQ(s["mounts"].back()["destination"], "/run");
  EXPECT_EQ(s["process"]["oomScoreAdj"], 300);
}

TEST_F(ContainerSpecTest, PrivilegedAndHostNamespaces) {
  input_.host_config = Json::parse(R"({"Privileged": true, "NetworkMode": "host", "PidMode": "host"})");
  Json s = spec();
  EXPECT_EQ(s["process"]["capabilities"]["bounding"].size(), 41u);
  EXPECT_TRUE(s["linux"]["maskedPaths"].empty());
  EXPECT_EQ(s["linux"]["resources"]["devices"][0]["allow"], true);
  for (const auto& ns : s["linux"]["namespaces"]) {
    EXPECT_NE(ns["type"], "network");
    EXPECT_NE(ns["type"], "pid");
  }
}

TEST_F(ContainerSpecTest, BadInputIsRejectedLikeDocker) {
  input_.host_config = Json::parse(R"({"Memory": 1024})");
  EXPECT_EQ(make_runtime_spec(input_).error().message(), "Minimum memory limit allowed is 6MB");
  input_.host_config = Json::parse(R"({"Memory": 67108864, "MemorySwap": 1048576})");
  EXPECT_EQ(make_runtime_spec(input_).error().message(), "Minimum memoryswap limit should be larger than memory limit, see usage");
  input_.host_config = Json::parse(R"({"CapAdd": ["FLY"]})");
  EXPECT_EQ(make_runtime_spec(input_).error().message(), "invalid CapAdd: unknown capability: \"CAP_FLY\"");
  input_.host_config = Json::parse(R"({"SecurityOpt": ["apparmor=x"]})");
  EXPECT_EQ(make_runtime_spec(input_).error().message(), "invalid --security-opt: \"apparmor=x\"");
  input_.host_config = Json::object();
  input_.config = Json::parse(R"({"WorkingDir": "relative"})");
  EXPECT_EQ(make_runtime_spec(input_).error().message(), "the working directory 'relative' is invalid, it needs to be an absolute path");
}

}  // namespace
}  // namespace berth::engine

namespace berth::engine {
namespace {

// The spec the engine makes runs under berth-runtime (the binary beside this
// test's): Docker's default mounts, masked paths and capabilities together.
TEST(ContainerSpecRunTest, RunsUnderBerthRuntime) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  fs::path self = fs::read_symlink("/proc/self/exe");
  fs::path runtime = self.parent_path() / "berth-runtime";
  if (!fs::exists(runtime) || !fs::exists("/bin/busybox")) GTEST_SKIP() << "needs berth-runtime and busybox";
  fs::path work = fs::temp_directory_path() / ("berth-spec-run-" + std::to_string(::getpid()));
  fs::remove_all(work);
  fs::path rootfs = work / "rootfs";
  fs::create_directories(rootfs / "bin");
  fs::create_directories(rootfs / "etc");
  fs::copy_file("/bin/busybox", rootfs / "bin" / "busybox");
  for (const char* applet : {"sh", "id", "cat", "grep", "hostname", "echo"}) fs::create_symlink("busybox", rootfs / "bin" / applet);
  std::ofstream(rootfs / "etc" / "passwd") << "root:x:0:0:root:/root:/bin/sh\n";

  SpecInput input;
  input.id = std::string(63, 'b') + "c";
  input.rootfs = rootfs.string();
  input.cgroup_parent = "/berth-spec-test";
  input.image_config = Json::parse(R"({"config": {"Cmd": ["sh", "-c", "echo ok; id -u; hostname; grep CapEff /proc/self/status"]}})");
  input.config = Json::object();
  input.host_config = Json::parse(R"({"NetworkMode": "none"})");
  auto spec = make_runtime_spec(input);
  ASSERT_TRUE(spec) << spec.error().message();
  std::ofstream(work / "config.json") << spec->dump();

  std::string command = runtime.string() + " --root " + (work / "state").string() + " run --bundle " + work.string() + " spec-run-" +
                        std::to_string(::getpid()) + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, pipe)) output.append(buf, n);
  int status = ::pclose(pipe);
  fs::remove_all(work);
  EXPECT_EQ(status, 0) << output;
  EXPECT_EQ(output, "ok\n0\n" + std::string(12, 'b') + "\nCapEff:\t00000000a80425fb\n");
}

}  // namespace
}  // namespace berth::engine

namespace berth::engine {
namespace {

TEST(MergeImageConfig, AsDockerCreateDoes) {
  Json image = {{"config",
                 {{"Cmd", {"sh"}}, {"Entrypoint", {"/entry"}}, {"Env", {"PATH=/bin", "A=image"}}, {"WorkingDir", "/w"},
                  {"Labels", {{"from", "image"}, {"both", "image"}}}}}};
  Json merged = merge_image_config({{"Env", {"A=mine"}}, {"Labels", {{"both", "mine"}}}}, image);
  EXPECT_EQ(merged["Cmd"], Json({"sh"}));
  EXPECT_EQ(merged["Entrypoint"], Json({"/entry"}));
  EXPECT_EQ(merged["Env"], Json({"PATH=/bin", "A=mine"}));
  EXPECT_EQ(merged["WorkingDir"], "/w");
  EXPECT_EQ(merged["Labels"], (Json{{"from", "image"}, {"both", "mine"}}));
  // A given entrypoint keeps the image's Cmd out; "" means none at all.
  merged = merge_image_config({{"Entrypoint", {"/other"}}}, image);
  EXPECT_EQ(merged["Entrypoint"], Json({"/other"}));
  EXPECT_TRUE(merged["Cmd"].is_null());
  merged = merge_image_config({{"Entrypoint", {""}}, {"Cmd", {"ls"}}}, image);
  EXPECT_TRUE(merged["Entrypoint"].is_null());
  EXPECT_EQ(*process_args(Json::object(), merged), std::vector<std::string>{"ls"});
}

TEST(UpdateResources, ChangesWhatIsGivenAsDockerDoes) {
  Json host = {{"Memory", 32 << 20}, {"MemorySwap", 64 << 20}, {"PidsLimit", 20}, {"RestartPolicy", {{"Name", "no"}}}};
  // Zero values, as the docker CLI sends for unset flags, change nothing.
  auto updated = update_resources(host, {{"Memory", 48 << 20}, {"KernelMemory", 0}, {"Devices", nullptr}, {"PidsLimit", -1},
                                         {"RestartPolicy", {{"Name", ""}, {"MaximumRetryCount", 0}}}});
  ASSERT_TRUE(updated) << updated.error().message();
  EXPECT_EQ(updated->host_config["Memory"], 48 << 20);
  EXPECT_EQ(updated->host_config["MemorySwap"], 64 << 20);
  EXPECT_EQ(updated->host_config["PidsLimit"], 0);
  EXPECT_EQ(updated->host_config["RestartPolicy"]["Name"], "no");
  EXPECT_EQ(updated->patch["memory"], (Json{{"limit", 48 << 20}, {"swap", 64 << 20}}));
  EXPECT_EQ(updated->patch["pids"]["limit"], -1);
  EXPECT_FALSE(updated->patch.contains("devices"));

  EXPECT_EQ(update_resources(host, {{"Memory", 128 << 20}}).error().message(),
            "Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time");
  EXPECT_EQ(update_resources(host, {{"KernelMemory", 1 << 20}}).error().message(), "updating KernelMemory is not supported");
  EXPECT_EQ(update_resources({{"CpuPeriod", 1000}}, {{"NanoCpus", 1000000000}}).error().message(),
            "Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set");
  EXPECT_EQ(update_resources({{"AutoRemove", true}}, {{"RestartPolicy", {{"Name", "always"}}}}).error().message(),
            "Restart policy cannot be updated because AutoRemove is enabled for the container");
  EXPECT_FALSE(update_resources(host, {{"Memory", 1024}}));  // under Docker's 6 MB minimum
  EXPECT_FALSE(update_resources(host, {{"RestartPolicy", {{"Name", "sometimes"}}}}));
}

TEST(HostsAndResolvConf, AsDockerWritesThem) {
  EXPECT_EQ(*hosts_file("127.0.0.1\tlocalhost", {{"ExtraHosts", {"db:10.0.0.5", "v6=[::1]"}}}),
            "127.0.0.1\tlocalhost\n10.0.0.5\tdb\n::1\tv6\n");
  EXPECT_EQ(hosts_file("", {{"ExtraHosts", {"db:nope"}}}).error().message(), "invalid IP address in add-host: \"nope\"");
  EXPECT_FALSE(hosts_file("", {{"ExtraHosts", {"justaname"}}}));
  EXPECT_FALSE(hosts_file("", {{"ExtraHosts", {"gw:host-gateway"}}}));
  EXPECT_EQ(hosts_file("", {{"NetworkMode", "host"}, {"ExtraHosts", {"a:1.2.3.4"}}}).error().message(),
            "conflicting options: custom host-to-IP mapping and the network mode");

  std::string host = "# from the host\nnameserver 10.1.1.1\nsearch corp\noptions edns0\n";
  EXPECT_EQ(*resolv_conf(host, Json::object()), host);
  EXPECT_EQ(*resolv_conf(host, {{"Dns", {"192.0.2.1"}}, {"DnsOptions", {"ndots:2"}}}),
            "# from the host\nsearch corp\nnameserver 192.0.2.1\noptions ndots:2\n");
  EXPECT_EQ(*resolv_conf(host, {{"DnsSearch", {"."}}}), "# from the host\nnameserver 10.1.1.1\noptions edns0\n");
  EXPECT_FALSE(resolv_conf(host, {{"Dns", {"dns.example"}}}));
  EXPECT_FALSE(resolv_conf(host, {{"NetworkMode", "host"}, {"Dns", {"192.0.2.1"}}}));
}

}  // namespace
}  // namespace berth::engine
