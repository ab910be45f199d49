// A fresh directory for one test (under $TMPDIR, else /tmp), removed with everything in it when
// the object goes away. The one temp dir of every test, fixture and benchmark.
#pragma once

#include <string>

namespace blackbox::testing {

class TempDir {
 public:
  // Creates `<tmp>/<prefix>-XXXXXX` (mkdtemp); aborts the test program if it cannot.
  explicit TempDir(const std::string& prefix = "blackbox");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // `path()/name` (not created).
  std::string sub(const std::string& name) const { return path_ + "/" + name; }
  std::string operator/(const std::string& name) const { return sub(name); }

 private:
  std::string path_;
};

}  // namespace blackbox::testing
