// schemas/secret_file.h and schemas/ed25519.h: secrets refused when others may read them, keys
// generated once and kept, signatures that fail on any change.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "schemas/ed25519.h"
#include "schemas/hex.h"
#include "schemas/secret_file.h"

namespace blackbox {
namespace {

namespace fs = std::filesystem;

class SecretFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("bb-secret-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text, mode_t mode) {
    const std::string p = (dir_ / name).string();
    std::ofstream(p) << text;
    ::chmod(p.c_str(), mode);
    return p;
  }
  fs::path dir_;
};

TEST_F(SecretFileTest, ReadsAPrivateFileWithoutTheTrailingNewline) {
  std::string why;
  auto s = read_secret_file(write("s", "fleet-secret\n", 0600), why);
  ASSERT_TRUE(s) << why;
  EXPECT_EQ(*s, "fleet-secret");
}

TEST_F(SecretFileTest, RefusesAFileOthersCanReadAndSaysWhichChmod) {
  const std::string p = write("s", "fleet-secret\n", 0644);
  std::string why;
  auto s = read_secret_file(p, why);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), Errc::kInvalidArgument);
  EXPECT_NE(why.find(p), std::string::npos) << why;
  EXPECT_NE(why.find("chmod 600 " + p), std::string::npos) << why;
  EXPECT_NE(why.find("0644"), std::string::npos) << why;
  EXPECT_FALSE(read_secret_file(write("g", "x", 0640), why));  // group-readable too
}

TEST_F(SecretFileTest, MissingAndEmptyFilesAreNamed) {
  std::string why;
  auto m = read_secret_file((dir_ / "nope").string(), why);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error(), Errc::kNotFound);
  EXPECT_NE(why.find("nope"), std::string::npos);
  auto e = read_secret_file(write("e", "\n", 0600), why);
  ASSERT_FALSE(e);
  EXPECT_NE(why.find("empty"), std::string::npos) << why;
}

TEST_F(SecretFileTest, KeyIsGeneratedOnceWithMode0600AndLoadedAgain) {
  const std::string p = (dir_ / "instance.key").string();
  std::string why;
  auto a = Ed25519Key::load_or_create(p, why);
  ASSERT_TRUE(a) << why;
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto b = Ed25519Key::load_or_create(p, why);
  ASSERT_TRUE(b) << why;
  EXPECT_EQ(a->public_key(), b->public_key());
  ::chmod(p.c_str(), 0644);
  EXPECT_FALSE(Ed25519Key::load_or_create(p, why));
  EXPECT_NE(why.find("chmod 600"), std::string::npos) << why;
}

TEST(Ed25519, SignaturesVerifyAndAnyChangeFails) {
  auto k = Ed25519Key::generate();
  ASSERT_TRUE(k);
  auto other = Ed25519Key::generate();
  ASSERT_TRUE(other);
  EXPECT_NE(k->public_key(), other->public_key());
  const std::string msg = "chain heads of i-0abc";
  auto sig = k->sign(msg);
  EXPECT_TRUE(ed25519_verify(k->public_key(), msg, sig));
  EXPECT_FALSE(ed25519_verify(other->public_key(), msg, sig));
  EXPECT_FALSE(ed25519_verify(k->public_key(), msg + ".", sig));
  for (std::size_t i = 0; i < sig.size(); i += 7) {
    auto bad = sig;
    bad[i] ^= 1;
    EXPECT_FALSE(ed25519_verify(k->public_key(), msg, bad)) << i;
  }
  auto again = Ed25519Key::from_pem(k->to_pem());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->public_key(), k->public_key());
  EXPECT_FALSE(Ed25519Key::from_pem("not a key"));
  EXPECT_TRUE(ed25519_fingerprint(k->public_key()).starts_with("SHA256:"));
  EXPECT_EQ(ed25519_fingerprint(k->public_key()).size(), 7u + 43u);
}

TEST(Hex, RoundTripsAndRejectsGarbage) {
  EXPECT_EQ(hex_lower(std::string("\x00\xab\xff", 3)), "00abff");
  EXPECT_EQ(*unhex("00ABff"), std::string("\x00\xab\xff", 3));
  EXPECT_FALSE(unhex("abc"));
  EXPECT_FALSE(unhex("zz"));
}

}  // namespace
}  // namespace blackbox
