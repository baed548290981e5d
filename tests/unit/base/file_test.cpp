#include "base/file.h"

#include <unistd.h>

#include <gtest/gtest.h>

namespace berth {
namespace {

struct Pipe {
  UniqueFd read, write;
  Pipe() {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    read.reset(fds[0]);
    write.reset(fds[1]);
  }
};

TEST(ReadLineTest, StopsAtTheNewlineWhileTheWriterStaysOpen) {
  Pipe pipe;
  ASSERT_TRUE(write_all(pipe.write.get(), "ok 42\n"));
  // The writer is still open (as a container holding the shim's pipe is): read_fd would block.
  EXPECT_EQ(read_line(pipe.read.get()).value(), "ok 42");
}

TEST(ReadLineTest, EndsAtEofWithoutNewline) {
  Pipe pipe;
  ASSERT_TRUE(write_all(pipe.write.get(), "error half"));
  pipe.write.reset();
  EXPECT_EQ(read_line(pipe.read.get()).value(), "error half");
}

TEST(ReadFdTest, ReadsToEof) {
  Pipe pipe;
  ASSERT_TRUE(write_all(pipe.write.get(), "a\nb\n"));
  pipe.write.reset();
  EXPECT_EQ(read_fd(pipe.read.get()).value(), "a\nb\n");
}

}  // namespace
}  // namespace berth
